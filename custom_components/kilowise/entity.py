"""Base entity of Kilowise: one service device per config entry."""

from __future__ import annotations

from typing import Any, Final, cast

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
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


LINK_BY_DEVICE_ID: Final = "via_device_id" in DeviceInfo.__annotations__
"""Home Assistant 2026.x links a device to its parent by the parent's device
id (``via_device``, by identifiers, is deprecated there); 2025.x only by
identifiers."""


@callback
def async_register_entry_device(
    hass: HomeAssistant, coordinator: KilowiseCoordinator
) -> None:
    """Register the entry's service device before any entity: the devices of
    its subentries are linked to it."""
    dr.async_get(hass).async_get_or_create(
        config_entry_id=coordinator.config_entry.entry_id,
        **entry_device_info(coordinator),
    )


def subentry_device_info(
    hass: HomeAssistant, entry_id: str, subentry_id: str, name: str, model: str
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
        fields["via_device"] = (DOMAIN, entry_id)
    elif parent := dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, entry_id)}
    ):
        fields["via_device_id"] = parent.id
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
