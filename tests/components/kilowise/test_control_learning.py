"""What a zone learns from the recorder, what it keeps across restarts, and
how it drives loads, protects from frost and speaks Fahrenheit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util.unit_system import US_CUSTOMARY_SYSTEM
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from sqlalchemy.exc import SQLAlchemyError

from custom_components.kilowise.const import (
    CONF_CLIMATES,
    CONF_DRY_RUN,
    CONF_LIGHTS,
    CONF_RUN_END,
    CONF_SOURCES,
    CONF_SWITCHES,
    control_storage_key,
)
from custom_components.kilowise.control import ZoneController
from custom_components.kilowise.diagnostics import async_get_config_entry_diagnostics
from custom_components.kilowise.engine.control import DeferrableRun, Guard
from custom_components.kilowise.engine.occupancy import PRIOR_PROFILES, Prior

from .conftest import NOW
from .control_helpers import (
    CLIMATE,
    ENTRY_ID,
    MOTION,
    PERSON,
    WATER_HEATER,
    ZONE_ID,
    Room,
    async_setup_home,
    stored_control,
    zone_entry,
)
from .test_control import local

pytestmark = pytest.mark.usefixtures("source_statistics", "bundled_model")


def _zone(hass: HomeAssistant) -> ZoneController:
    entry = hass.config_entries.async_get_entry(ENTRY_ID)
    assert entry is not None
    assert entry.runtime_data.control is not None
    return entry.runtime_data.control.zones[ZONE_ID]


async def _setup(hass: HomeAssistant, data: dict[str, Any] | None = None) -> None:
    entry = zone_entry(data)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_forecast_learns_from_the_recorded_states(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """A new zone reads its sources' recorded states, folds each whole hour once,
    then one more hour every hour; the model is kept in Kilowise's store."""
    await async_setup_home(hass)
    room = Room(hass, freezer)
    # Monday afternoon before Kilowise: the living room used 13:00-15:00.
    await room.run_until(local(8, 13, 0), step=5)
    await room.set_input("motion", True)
    await room.run_until(local(8, 15, 0), step=5)
    await room.set_input("motion", False)
    await room.run_until(local(8, 17, 5), step=5)
    await async_wait_recording_done(hass)

    await _setup(hass, {CONF_SOURCES: [MOTION], CONF_DRY_RUN: True})
    zone = _zone(hass)
    model = zone.occupancy
    # 12:00-17:00: the first hour is known from 12:05 only (92 %), all count.
    assert model.hours == 5
    assert model.learned_until == local(8, 17, 0)
    table = model.probabilities()
    prior = PRIOR_PROFILES[Prior.HOME]
    assert table[13] > prior[13]
    assert table[14] > prior[14]
    assert table[12] < prior[12]
    assert table[16] < prior[16]
    # Every hour at two past, the hour that ended.
    await room.run_until(local(8, 18, 5), step=5)
    assert model.hours == 6
    assert model.learned_until == local(8, 18, 0)
    # Kept in the store, read back after a restart.
    assert await hass.config_entries.async_reload(ENTRY_ID)
    await hass.async_block_till_done(wait_background_tasks=True)
    stored = hass_storage[control_storage_key(ENTRY_ID)]["data"]["zones"][ZONE_ID]
    assert stored["occupancy"]["hours"] == 6
    assert _zone(hass).occupancy.hours == 6
    forecast = hass.states.get("sensor.kilowise_living_room_occupancy_forecast")
    assert forecast.attributes["hours_learned"] == 6


async def test_heating_and_cooling_rates_learned_from_the_thermostat(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """Three heat-ups and setbacks of a real generic thermostat, read back from
    the recorder: the zone learns the room's rates (2 and 0.5 °C per hour)."""
    await async_setup_home(hass)
    await _setup(hass, {CONF_SOURCES: [PERSON], CONF_DRY_RUN: True})
    zone = _zone(hass)
    assert not zone.thermal[CLIMATE].learned
    room = Room(hass, freezer, temperature=16.0)
    # Three heat-ups and three setbacks; the last heat-up ends the last setback.
    for target, hours in ((21.0, 3), (15.0, 4)) * 3 + ((21.0, 1),):
        await hass.services.async_call(
            "climate",
            "set_temperature",
            {"entity_id": CLIMATE, "temperature": target},
            blocking=True,
        )
        await room.run(hours * 60, step=2)
    await room.run(65, step=5)
    model = zone.thermal[CLIMATE]
    assert model.learned
    assert model.heating_rate == pytest.approx(2.0, rel=0.15)
    assert model.cooling_rate == pytest.approx(0.5, rel=0.25)
    rates = hass.states.get("sensor.kilowise_living_room_occupancy").attributes[
        "heating_rates"
    ]
    assert rates[CLIMATE]["learned"] is True


async def test_overrides_survive_a_restart(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """A manual change keeps Kilowise away after a restart too, until its time."""
    await async_setup_home(hass)
    hass_storage[control_storage_key(ENTRY_ID)] = stored_control(NOW)
    await _setup(hass)
    room = Room(hass, freezer)
    room.listen()
    await hass.services.async_call(
        "climate",
        "set_temperature",
        {"entity_id": CLIMATE, "temperature": 23},
        blocking=True,
    )
    await room.settle()
    assert await hass.config_entries.async_reload(ENTRY_ID)
    await hass.async_block_till_done(wait_background_tasks=True)
    until = _zone(hass).guards[CLIMATE].override_until
    assert until == NOW + timedelta(hours=2)
    await room.run(60, step=5)
    assert hass.states.get(CLIMATE).attributes["temperature"] == 23
    # Switching the zone's control off and on clears overrides.
    for service in ("turn_off", "turn_on"):
        await hass.services.async_call(
            "switch",
            service,
            {"entity_id": "switch.kilowise_living_room_control"},
            blocking=True,
        )
    await room.settle()
    assert hass.states.get(CLIMATE).attributes["temperature"] == 17.0


async def test_damaged_store_starts_afresh(
    hass: HomeAssistant, hass_storage: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """An unreadable stored forecast is replaced and said so; control goes on."""
    await async_setup_home(hass)
    stored = stored_control(NOW)
    stored["data"]["zones"][ZONE_ID]["occupancy"] = {"occupied": [1, 2]}
    stored["data"]["zones"][ZONE_ID]["guards"] = {CLIMATE: {"override_until": "never"}}
    hass_storage[control_storage_key(ENTRY_ID)] = stored
    await _setup(hass)
    assert "stored forecast of zone Living room is not usable" in caplog.text
    assert "stored guards of climate.living_room" in caplog.text
    zone = _zone(hass)
    assert zone.guards[CLIMATE].override_until is None
    assert hass.states.get(CLIMATE).attributes["temperature"] == 17.0


async def test_deferrable_load_in_a_recommended_window(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """With a window provider, the load runs in the window it recommends; without
    an answer from it, on the schedule."""
    await async_setup_home(hass)
    hass_storage[control_storage_key(ENTRY_ID)] = stored_control(NOW)
    await _setup(
        hass,
        {
            CONF_CLIMATES: [],
            CONF_LIGHTS: [],
            CONF_SWITCHES: [WATER_HEATER],
            CONF_RUN_END: "18:00:00",
        },
    )
    asked: list[DeferrableRun] = []

    def cheapest_at_the_end(run: DeferrableRun) -> tuple[Any, Any] | None:
        asked.append(run)
        if run.earliest.astimezone(local(8, 0).tzinfo).day == 9:
            return None  # no prices for Tuesday yet
        return run.latest_end - run.duration, run.latest_end

    entry = hass.config_entries.async_get_entry(ENTRY_ID)
    assert entry is not None
    assert entry.runtime_data.control is not None
    entry.runtime_data.control.window_provider = cheapest_at_the_end
    # Set after the zone planned its first run: plan again with it.
    _zone(hass).guards[WATER_HEATER] = Guard()
    room = Room(hass, freezer)
    room.listen()
    await room.run_until(local(9, 12, 5), step=5)
    runs = [(a["action"], a["reason"], a["at"]) for a in room.actions_on(WATER_HEATER)]
    assert runs == [
        ("switch.turn_on", "run_recommended", local(8, 16, 0)),
        ("switch.turn_off", "run_done", local(8, 18, 0)),
        ("switch.turn_on", "run_schedule", local(9, 10, 0)),
        ("switch.turn_off", "run_done", local(9, 12, 0)),
    ]
    assert asked[0].entity_id == WATER_HEATER
    assert asked[0].duration == timedelta(hours=2)
    assert asked[0].latest_end == local(8, 18, 0)


async def test_frost_protection_passes_an_override(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """The thermostat switched off by hand in a freezing room: Kilowise leaves it
    alone until the room falls below the frost floor, then heats to the floor."""
    await async_setup_home(hass)
    hass_storage[control_storage_key(ENTRY_ID)] = stored_control(NOW)
    await _setup(hass)
    room = Room(hass, freezer, temperature=9.0, cooling_rate=3.0, coldest=0.0)
    room.listen()
    await hass.services.async_call(
        "climate",
        "set_hvac_mode",
        {"entity_id": CLIMATE, "hvac_mode": "off"},
        blocking=True,
    )
    await room.settle()
    assert room.overrides[-1]["paused"] is True
    await room.run(30, step=1)
    assert all(a["reason"] != "frost_protection" for a in room.actions_on(CLIMATE))
    await room.run(20, step=1)
    frost = room.actions_on(CLIMATE)[-1]
    assert frost["reason"] == "frost_protection"
    assert frost["data"] == {"temperature": 7.0, "hvac_mode": "heat"}
    assert room.history[-1][1] < 7.5
    state = hass.states.get(CLIMATE)
    assert state.state == "heat"
    assert state.attributes["temperature"] == 7.0


async def test_temperatures_in_fahrenheit(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """In a home set to °F, Kilowise's °C settings reach the thermostat in °F."""
    hass.config.units = US_CUSTOMARY_SYSTEM
    await async_setup_home(hass, fahrenheit=True)
    hass_storage[control_storage_key(ENTRY_ID)] = stored_control(NOW)
    await _setup(hass)
    state = hass.states.get(CLIMATE)
    # Eco, 17 °C, is 62.6 °F.
    assert state.attributes["temperature"] == 62.6
    zone = _zone(hass)
    assert zone.decisions[CLIMATE].reason == "nothing_to_do"
    freezer.tick(timedelta(minutes=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(CLIMATE).attributes["temperature"] == 62.6


async def test_stale_forecast_is_not_used_to_preheat(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A forecast not updated for three days (the recorder cannot be read) is not
    trusted: no preheat, only what the sources say now."""
    await async_setup_home(hass)
    hass_storage[control_storage_key(ENTRY_ID)] = stored_control(
        NOW - timedelta(days=3)
    )
    with patch(
        "custom_components.kilowise.control.async_learn_occupancy",
        side_effect=SQLAlchemyError("database is locked"),
    ):
        await _setup(hass)
        assert "Could not read the history of zone Living room" in caplog.text
        room = Room(hass, freezer)
        room.listen()
        await room.set_tracker("not_home")
        await room.run_until(local(8, 18, 30), step=10)
    assert [a["reason"] for a in room.actions_on(CLIMATE)] == ["away"]
    assert _zone(hass).outlook is None
    forecast = hass.states.get("sensor.kilowise_living_room_occupancy_forecast")
    assert forecast.attributes["learned_until"] == local(5, 12, 0).isoformat()


async def test_diagnostics_show_each_zone(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """The entry's diagnostics say what each zone sees, decides and plans,
    without the zone's name or entity ids (they name people and rooms)."""
    await async_setup_home(hass)
    hass_storage[control_storage_key(ENTRY_ID)] = stored_control(NOW)
    await _setup(hass)
    entry = hass.config_entries.async_get_entry(ENTRY_ID)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    zone = diagnostics["control"]["zones"][ZONE_ID]
    # Sources, then driven entities, each by its domain and place in the zone.
    climate, light, water_heater = (
        "climate.driven_1",
        "light.driven_2",
        "switch.driven_3",
    )
    assert zone["occupancy"] == "empty"
    assert zone["climate_modes"] == {climate: "eco"}
    assert zone["preheat"][climate]["arrival"] == local(8, 18, 0).isoformat()
    assert zone["planned_runs"][water_heater]["start"] == local(9, 10, 0).isoformat()
    assert set(zone["decisions"]) == {climate, light, water_heater}
    assert set(zone["heating_rates"]) == {climate}

    # An unusable source is named by its stand-in too.
    hass.states.async_set(PERSON, "unavailable")
    await hass.async_block_till_done(wait_background_tasks=True)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    zone = diagnostics["control"]["zones"][ZONE_ID]
    assert zone["unusable_sources"] == ["person.source_2"]
    text = str(diagnostics)
    for personal in ("alice", "living_room", "Living room", "water_heater"):
        assert personal not in text, personal
