"""Master switches of Kilowise's control: one per entry, one per zone.

Off stops every action at once (nothing is applied, nothing is logged);
on again resumes. A zone's switch turned back on also clears the manual
overrides of its entities. Their state is kept in the entry's control store.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .control import KilowiseControl
from .coordinator import KilowiseCoordinator
from .data import KilowiseConfigEntry
from .entity import KilowiseEntity
from .zone_entity import KilowiseZoneEntity

# Turning a master switch on or off only changes Kilowise's own state: no
# device is called, so nothing needs to be serialised.
PARALLEL_UPDATES = 0

# Configuration: they say whether Kilowise may act, they drive nothing themselves.
ENTRY_SWITCH = SwitchEntityDescription(
    key="control", translation_key="control", entity_category=EntityCategory.CONFIG
)
ZONE_SWITCH = SwitchEntityDescription(
    key="control",
    translation_key="zone_control",
    entity_category=EntityCategory.CONFIG,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KilowiseConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the entry's master switch, and each zone's on the zone's device."""
    control = entry.runtime_data.control
    if control is None:
        return
    async_add_entities(
        [KilowiseControlSwitch(entry.runtime_data.coordinator, ENTRY_SWITCH, control)]
    )
    for subentry_id, zone in control.zones.items():
        async_add_entities(
            [KilowiseZoneControlSwitch(zone, ZONE_SWITCH)],
            config_subentry_id=subentry_id,
        )


class KilowiseControlSwitch(KilowiseEntity, SwitchEntity):
    """The entry's master switch: all of its zones' control."""

    def __init__(
        self,
        coordinator: KilowiseCoordinator,
        description: SwitchEntityDescription,
        control: KilowiseControl,
    ) -> None:
        """Attach the switch to the entry's control."""
        super().__init__(coordinator, description)
        self._control = control

    async def async_added_to_hass(self) -> None:
        """Follow the control's state."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self._control.async_add_listener(self.async_write_ha_state)
        )

    @property
    def available(self) -> bool:
        """Available once the control state is loaded, whatever the forecast does."""
        return self._control.loaded

    @property
    def is_on(self) -> bool:
        """Whether Kilowise may act in this entry's zones."""
        return self._control.enabled

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Let control act again."""
        self._control.async_set_enabled(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop all control at once."""
        self._control.async_set_enabled(False)


class KilowiseZoneControlSwitch(KilowiseZoneEntity, SwitchEntity):
    """A zone's master switch."""

    @property
    def is_on(self) -> bool:
        """Whether Kilowise may act in this zone."""
        return self.zone.enabled

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Let control act again; manual overrides are cleared."""
        self.zone.async_set_enabled(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop this zone's control at once."""
        self.zone.async_set_enabled(False)
