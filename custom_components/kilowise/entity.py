"""Base entity of Kilowise: one service device per config entry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, cast

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import KilowiseCoordinator

if TYPE_CHECKING:
    from .data import KilowiseConfigEntry


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


LINK_BY_DEVICE_ID: Final = "via_device_id" in DeviceInfo.__annotations__
"""Home Assistant 2026.x links a device to its parent by the parent's device
id (``via_device``, by identifiers, is deprecated there); 2025.x only by
identifiers."""


@callback
def async_register_entry_device(
    hass: HomeAssistant, coordinator: KilowiseCoordinator
) -> str:
    """Register the entry's service device before any entity (the devices of
    its subentries are linked to it) and return its device id."""
    return (
        dr.async_get(hass)
        .async_get_or_create(
            config_entry_id=coordinator.config_entry.entry_id,
            **entry_device_info(coordinator),
        )
        .id
    )


def subentry_device_info(
    entry: KilowiseConfigEntry, subentry_id: str, name: str, model: str
) -> DeviceInfo:
    """The service device of a subentry (an appliance, a zone), under the entry's."""
    fields: dict[str, Any] = {
        "identifiers": {(DOMAIN, subentry_id)},
        "name": name,
        "manufacturer": "Kilowise",
        "model": model,
        "entry_type": DeviceEntryType.SERVICE,
    }
    if not LINK_BY_DEVICE_ID:
        fields["via_device"] = (DOMAIN, entry.entry_id)
    elif entry.runtime_data.device_id is not None:
        fields["via_device_id"] = entry.runtime_data.device_id
    return cast(DeviceInfo, fields)


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
