"""Base entity of a Kilowise zone: one service device per zone subentry."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription

from .const import DOMAIN
from .control import ZoneController


class KilowiseZoneEntity(Entity):
    """An entity of a zone, named by its translation key, updated by the zone."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, zone: ZoneController, description: EntityDescription) -> None:
        """Attach the entity to the zone's device, under the entry's device."""
        self.zone = zone
        self.entity_description = description
        entry = zone.control.entry
        self._attr_unique_id = f"{entry.entry_id}_{zone.subentry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, f"{entry.entry_id}_{zone.subentry_id}")},
            name=f"Kilowise {zone.config.name}",
            manufacturer="Kilowise",
            model="Occupancy-aware control",
            entry_type=DeviceEntryType.SERVICE,
            via_device=(DOMAIN, entry.entry_id),
        )

    async def async_added_to_hass(self) -> None:
        """Write the state whenever the zone's control changes."""
        self.async_on_remove(
            self.zone.control.async_add_listener(self.async_write_ha_state)
        )

    @property
    def available(self) -> bool:
        """Available once the zone's stored state is loaded."""
        return self.zone.control.loaded
