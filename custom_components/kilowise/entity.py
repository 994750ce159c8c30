"""Base entity of Kilowise: one service device per config entry."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import KilowiseCoordinator


def entry_device_info(coordinator: KilowiseCoordinator) -> DeviceInfo:
    """The entry's service device, which every home-level entity belongs to."""
    entry = coordinator.config_entry
    return DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        name=entry.title,
        manufacturer="Kilowise",
        model="Household energy forecast",
        sw_version=coordinator.artifact.model_id,
        entry_type=DeviceEntryType.SERVICE,
    )


def subentry_device_info(
    entry_id: str, subentry_id: str, name: str, model: str
) -> DeviceInfo:
    """The service device of a subentry (an appliance, a zone), under the entry's."""
    return DeviceInfo(
        identifiers={(DOMAIN, subentry_id)},
        name=name,
        manufacturer="Kilowise",
        model=model,
        entry_type=DeviceEntryType.SERVICE,
        via_device=(DOMAIN, entry_id),
    )


def subentry_unique_id(entry_id: str, subentry_id: str, key: str) -> str:
    """Unique id of a subentry's entity: the entry's id, the subentry's, the key."""
    return f"{entry_id}_{subentry_id}_{key}"


class KilowiseEntity(CoordinatorEntity[KilowiseCoordinator]):
    """An entity of a Kilowise entry, named by its translation key."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: KilowiseCoordinator, description: EntityDescription
    ) -> None:
        """Attach the entity to the entry's device."""
        super().__init__(coordinator)
        self.entity_description = description
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        self._attr_device_info = entry_device_info(coordinator)
