"""Base entity of a Kilowise zone: one service device per zone subentry."""

from __future__ import annotations

from homeassistant.helpers.entity import Entity, EntityDescription

from .control import ZoneController
from .entity import subentry_device_info, subentry_unique_id


class KilowiseZoneEntity(Entity):
    """An entity of a zone, named by its translation key, updated by the zone."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, zone: ZoneController, description: EntityDescription) -> None:
        """Attach the entity to the zone's device, under the entry's device."""
        self.zone = zone
        self.entity_description = description
        entry_id = zone.control.entry.entry_id
        self._attr_unique_id = subentry_unique_id(
            entry_id, zone.subentry_id, description.key
        )
        self._attr_device_info = subentry_device_info(
            zone.control.entry,
            zone.subentry_id,
            f"Kilowise {zone.config.name}",
            "Occupancy-aware control",
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
