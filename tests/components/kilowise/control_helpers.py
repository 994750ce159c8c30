"""A home of real entities for the control tests, and a simulated room.

The entities are Home Assistant's own: a ``generic_thermostat`` heating
through a template switch, a template light, a template switch for a
deferrable load, a template motion sensor and a person followed through a
device tracker. Only the room's temperature sensor is set by the test: it
is the physics, warming while the heater's relay is on and cooling otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentry, ConfigSubentryDataWithId
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.kilowise.const import (
    CONF_CLIMATES,
    CONF_DRY_RUN,
    CONF_LIGHTS,
    CONF_RUN_END,
    CONF_SOURCE_ENTITY,
    CONF_SOURCES,
    CONF_SWITCHES,
    DOMAIN,
    EVENT_ACTION,
    EVENT_OVERRIDE,
    SUBENTRY_ZONE,
    control_storage_key,
)
from custom_components.kilowise.engine.occupancy import OccupancyModel, Prior
from custom_components.kilowise.engine.thermal import ThermalModel

from .conftest import ENTRY_TITLE, SOURCE

PARIS = ZoneInfo("Europe/Paris")
CLIMATE = "climate.living_room"
LIGHT = "light.living_room_light"
WATER_HEATER = "switch.water_heater"
HEATER = "switch.heater"
MOTION = "binary_sensor.living_room_motion"
PERSON = "person.alice"
TRACKER = "device_tracker.alice_phone"
TEMPERATURE = "sensor.living_room_temperature"
ZONE_ID = "zone0living0room0000000001"
ENTRY_ID = "kilowise0entry000000000001"

ZONE_DATA: dict[str, Any] = {
    CONF_DRY_RUN: False,
    CONF_SOURCES: [MOTION, PERSON],
    CONF_CLIMATES: [CLIMATE],
    CONF_LIGHTS: [LIGHT],
    CONF_SWITCHES: [WATER_HEATER],
    CONF_RUN_END: "12:00:00",
}
"""The living room: defaults for everything else (comfort 20, eco 17, away 15,
lights off after 15 minutes, override two hours), and a water heater that
runs two hours in 10:00-12:00 (the tests start on Monday at 12:05)."""


def _relay(name: str) -> dict[str, Any]:
    return {
        "state": f"{{{{ is_state('input_boolean.{name}', 'on') }}}}",
        "turn_on": {
            "action": "input_boolean.turn_on",
            "target": {"entity_id": f"input_boolean.{name}"},
        },
        "turn_off": {
            "action": "input_boolean.turn_off",
            "target": {"entity_id": f"input_boolean.{name}"},
        },
    }


async def async_setup_home(
    hass: HomeAssistant,
    *,
    light_on: bool = True,
    fahrenheit: bool = False,
) -> None:
    """The living room's real entities; Alice at home, no motion, 17 °C.

    With ``fahrenheit`` the thermostat and its sensor work in °F (62.6 °F),
    as in a home set to US customary units.
    """
    unit = "°F" if fahrenheit else "°C"
    scale = (lambda c: round(c * 9 / 5 + 32, 1)) if fahrenheit else (lambda c: c)
    # The generic thermostat switches its heater with homeassistant.turn_on.
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(
        hass,
        "input_boolean",
        {
            "input_boolean": {
                "heater_relay": {},
                "water_heater_relay": {},
                "living_light": {"initial": light_on},
                "motion": {},
            }
        },
    )
    hass.states.async_set(
        TEMPERATURE,
        str(scale(17.0)),
        {"unit_of_measurement": unit, "device_class": "temperature"},
    )
    assert await async_setup_component(
        hass,
        "template",
        {
            "template": [
                {
                    "binary_sensor": [
                        {
                            "name": "Living room motion",
                            "unique_id": "living_room_motion",
                            "device_class": "motion",
                            "state": "{{ is_state('input_boolean.motion', 'on') }}",
                        }
                    ],
                    "switch": [
                        {
                            "name": "Heater",
                            "unique_id": "heater",
                            **_relay("heater_relay"),
                        },
                        {
                            "name": "Water heater",
                            "unique_id": "water_heater",
                            **_relay("water_heater_relay"),
                        },
                    ],
                    "light": [
                        {
                            "name": "Living room light",
                            "unique_id": "living_room_light",
                            **_relay("living_light"),
                        }
                    ],
                }
            ]
        },
    )
    assert await async_setup_component(
        hass,
        "climate",
        {
            "climate": [
                {
                    "platform": "generic_thermostat",
                    "name": "Living room",
                    "unique_id": "living_room_thermostat",
                    "heater": HEATER,
                    "target_sensor": TEMPERATURE,
                    "min_temp": scale(5),
                    "max_temp": scale(30),
                    "target_temp": scale(19.0),
                    "cold_tolerance": 0.2,
                    "hot_tolerance": 0.2,
                    "initial_hvac_mode": "heat",
                    "precision": 0.1,
                    "away_temp": scale(15.0),
                    "comfort_temp": scale(20.0),
                }
            ]
        },
    )
    hass.states.async_set(TRACKER, "home", {"source_type": "gps"})
    assert await async_setup_component(
        hass,
        "person",
        {"person": [{"name": "Alice", "id": "alice", "device_trackers": [TRACKER]}]},
    )
    await hass.async_block_till_done()


def weekday_evenings_model(now: datetime, weeks: int = 4) -> OccupancyModel:
    """A zone that learned ``weeks`` weeks of weekday evenings (18:00-23:00)
    and whole weekends, up to the hour of ``now``."""
    model = OccupancyModel(prior=Prior.HOME)
    end = now.replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(weeks=weeks)
    hours = []
    moment = start
    while moment < end:
        local = moment.astimezone(PARIS)
        occupied = local.weekday() >= 5 or 18 <= local.hour < 23
        hours.append((moment, 1.0 if occupied else 0.0))
        moment += timedelta(hours=1)
    model.fold(hours, PARIS)
    return model


def stored_control(
    now: datetime,
    *,
    thermal: ThermalModel | None = None,
    zone_id: str = ZONE_ID,
) -> dict[str, Any]:
    """The control store of an entry whose living room learned weekday evenings."""
    zone: dict[str, Any] = {
        "enabled": True,
        "occupancy": weekday_evenings_model(now).as_dict(),
        "thermal": {},
        "guards": {},
    }
    if thermal is not None:
        zone["thermal"][CLIMATE] = thermal.as_dict()
    return {
        "version": 1,
        "minor_version": 1,
        "key": control_storage_key(ENTRY_ID),
        "data": {"enabled": True, "zones": {zone_id: zone}},
    }


def zone_entry(
    data: Mapping[str, Any] | None = None, title: str = "Living room"
) -> MockConfigEntry:
    """The Kilowise entry with its living-room zone."""
    return MockConfigEntry(
        domain=DOMAIN,
        entry_id=ENTRY_ID,
        title=ENTRY_TITLE,
        data={CONF_SOURCE_ENTITY: SOURCE},
        unique_id=SOURCE,
        subentries_data=[
            ConfigSubentryDataWithId(
                data={**ZONE_DATA, **(data or {})},
                subentry_type=SUBENTRY_ZONE,
                title=title,
                unique_id=None,
                subentry_id=ZONE_ID,
            )
        ],
    )


async def async_add_zone(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    data: Mapping[str, Any] | None = None,
    title: str = "Living room",
) -> str:
    """Add the living-room zone to a loaded entry, as its flow would (the entry
    reloads); the zone's subentry id."""
    subentry = ConfigSubentry(
        data=MappingProxyType({**ZONE_DATA, **(data or {})}),
        subentry_type=SUBENTRY_ZONE,
        title=title,
        unique_id=None,
    )
    hass.config_entries.async_add_subentry(entry, subentry)
    await hass.async_block_till_done(wait_background_tasks=True)
    return subentry.subentry_id


@dataclass
class Room:
    """The simulated room and the record of what Kilowise did."""

    hass: HomeAssistant
    freezer: FrozenDateTimeFactory
    temperature: float = 17.0
    heating_rate: float = 2.0
    cooling_rate: float = 0.5
    coldest: float = 10.0
    """The room never cools below this (the house around it is warmer)."""
    actions: list[dict[str, Any]] = field(default_factory=list)
    overrides: list[dict[str, Any]] = field(default_factory=list)
    history: list[tuple[datetime, float]] = field(default_factory=list)
    """(UTC time, °C) of the room after each step."""

    def listen(self) -> None:
        """Record Kilowise's events, with the time they were fired."""

        @callback
        def record(event: Event) -> None:
            target = (
                self.actions if event.event_type == EVENT_ACTION else self.overrides
            )
            target.append({**event.data, "at": event.time_fired})

        self.hass.bus.async_listen(EVENT_ACTION, record)
        self.hass.bus.async_listen(EVENT_OVERRIDE, record)

    async def run(self, minutes: int, step: int = 1) -> None:
        """Let time pass, ``step`` minutes at a time, the room warming or cooling."""
        for _ in range(0, minutes, step):
            heating = self.hass.states.is_state("input_boolean.heater_relay", "on")
            change = (self.heating_rate if heating else -self.cooling_rate) * step / 60
            self.temperature = round(max(self.coldest, self.temperature + change), 2)
            self.hass.states.async_set(
                TEMPERATURE,
                f"{self.temperature:.1f}",
                {"unit_of_measurement": "°C", "device_class": "temperature"},
            )
            self.freezer.tick(timedelta(minutes=step))
            self.history.append((datetime.now(PARIS), self.temperature))
            async_fire_time_changed(self.hass)
            await self.settle()

    async def run_until(self, local: datetime, step: int = 1) -> None:
        """Run to a local time (Paris)."""
        now = datetime.now(PARIS)
        minutes = int((local - now) / timedelta(minutes=1))
        assert minutes >= 0, f"{local} is in the past ({now})"
        await self.run(minutes, step)

    async def settle(self) -> None:
        """Let every consequence of a change happen.

        State-change listeners are called one loop iteration later, and a
        template entity's update is itself a state change: one wait is not
        enough for a chain of them.
        """
        for _ in range(3):
            await self.hass.async_block_till_done(wait_background_tasks=True)

    def actions_on(self, entity_id: str) -> list[dict[str, Any]]:
        """Kilowise's actions on one entity, in order."""
        return [a for a in self.actions if a["entity_id"] == entity_id]

    async def set_input(self, name: str, on: bool) -> None:
        """Flip an input boolean, as a person or a device would."""
        await self.hass.services.async_call(
            "input_boolean",
            "turn_on" if on else "turn_off",
            {"entity_id": f"input_boolean.{name}"},
            blocking=True,
        )
        await self.settle()

    async def set_tracker(self, state: str) -> None:
        """Alice's phone reports home or away."""
        self.hass.states.async_set(TRACKER, state, {"source_type": "gps"})
        await self.settle()
