"""Control of real climate, light and switch entities across simulated time.

Every test runs Home Assistant's own entities (see ``control_helpers``): a
generic thermostat heating a simulated room through a template switch, a
template light, a template switch for a water heater, a template motion
sensor and a person. Time moves with the freezer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from http import HTTPStatus
import itertools
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import Context, CoreState, HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import mock_component
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.kilowise.const import (
    CONF_LIGHTS,
    CONF_LIGHTS_ON_ARRIVAL,
    CONF_MAX_ACTIONS,
    CONF_PREHEAT_HOURS,
    CONF_SOURCES,
    CONF_SWITCHES,
    DOMAIN,
    EVENT_ACTION,
    control_storage_key,
    zone_issue_id,
)
from custom_components.kilowise.engine.thermal import ThermalModel

from .conftest import NOW
from .control_helpers import (
    CLIMATE,
    ENTRY_ID,
    LIGHT,
    MOTION,
    PARIS,
    PERSON,
    WATER_HEATER,
    ZONE_ID,
    Room,
    async_setup_home,
    stored_control,
    zone_entry,
)

pytestmark = pytest.mark.usefixtures("source_statistics", "bundled_model")

ZONE_SENSOR = "sensor.kilowise_living_room_occupancy"
FORECAST_SENSOR = "sensor.kilowise_living_room_occupancy_forecast"
ZONE_SWITCH = "switch.kilowise_living_room_control"
ENTRY_SWITCH = "switch.kilowise_home_energy_control"
SOFA_LIGHT = "light.sofa_light"


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in Paris in the test's week (Monday 8 February 2027 is day 8)."""
    return datetime(2027, 2, day, hour, minute, tzinfo=PARIS)


def learned_room(heating: float = 2.0, cooling: float = 0.5) -> ThermalModel:
    """A thermostat whose room was learned to heat and cool at these rates."""
    return ThermalModel(heating=[heating] * 5, cooling=[cooling] * 5, learned_until=NOW)


async def _start(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    data: dict[str, Any] | None = None,
    *,
    thermal: ThermalModel | None = None,
    light_on: bool = True,
    before: Callable[[HomeAssistant], None] | None = None,
) -> Room:
    """The home, and Kilowise with the living room zone that learned its week."""
    await async_setup_home(hass, light_on=light_on)
    if before is not None:
        before(hass)
    hass_storage[control_storage_key(ENTRY_ID)] = stored_control(NOW, thermal=thermal)
    entry = zone_entry(data)
    entry.add_to_hass(hass)
    room = Room(hass, freezer)
    room.listen()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    return room


def _at(action: dict[str, Any]) -> datetime:
    return action["at"].astimezone(PARIS)


def _summary(hass: HomeAssistant) -> dict[str, Any]:
    entry = hass.config_entries.async_get_entry(ENTRY_ID)
    assert entry is not None
    control = entry.runtime_data.control
    assert control is not None
    return next(iter(control.zones.values())).summary()


async def test_simulated_day(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """A weekday in the living room: eco, comfort, away, preheat in time for the
    expected evening, lights off, a manual override paused and resumed, and the
    water heater's run the next morning."""
    room = await _start(
        hass, freezer, hass_storage, {CONF_PREHEAT_HOURS: 4}, thermal=learned_room()
    )
    # The room is empty, Alice is home: eco at once; the light goes off
    # after 15 minutes without occupancy.
    assert hass.states.get(ZONE_SENSOR).state == "empty"
    await room.run_until(local(8, 12, 40), step=5)
    climate = room.actions_on(CLIMATE)
    assert [(a["reason"], a["data"], _at(a)) for a in climate] == [
        ("empty", {"temperature": 17.0}, local(8, 12, 5))
    ]
    assert hass.states.get(CLIMATE).attributes["temperature"] == 17.0
    assert [(a["action"], a["reason"], _at(a)) for a in room.actions_on(LIGHT)] == [
        ("light.turn_off", "no_occupancy", local(8, 12, 20))
    ]
    assert hass.states.get(LIGHT).state == "off"
    assert hass.states.get(ZONE_SENSOR).state == "empty"

    # Somebody comes in: comfort at once; the light is not switched on.
    await room.set_input("motion", True)
    assert hass.states.get(CLIMATE).attributes["temperature"] == 20.0
    assert room.actions_on(CLIMATE)[-1]["reason"] == "occupied"
    await room.run_until(local(8, 13, 0), step=5)
    await room.set_input("motion", False)
    await room.run_until(local(8, 13, 30), step=5)
    # Empty ten minutes after the last motion: eco.
    eco = room.actions_on(CLIMATE)[-1]
    assert (eco["reason"], _at(eco)) == ("empty", local(8, 13, 10))

    # Alice leaves: away.
    await room.set_tracker("not_home")
    assert hass.states.get(PERSON).state == "not_home"
    away = room.actions_on(CLIMATE)[-1]
    assert (away["reason"], away["data"], away["occupancy"]) == (
        "away",
        {"temperature": 15.0},
        "away",
    )

    # The evening is expected from 18:00: preheating starts as late as the
    # learned rates allow (2 °C/h, the room cooling at 0.5 °C/h meanwhile),
    # once, and the room is at comfort in time, not hours early.
    await room.run_until(local(8, 17, 50), step=1)
    preheats = [a for a in room.actions_on(CLIMATE) if a["reason"] == "preheat"]
    assert len(preheats) == 1
    (preheat,) = preheats
    assert preheat["data"] == {"temperature": 20.0}
    assert preheat["detail"]["arrival"] == local(8, 18, 0).isoformat()
    assert local(8, 14, 0) <= _at(preheat) <= local(8, 17, 0)
    assert room.actions_on(CLIMATE)[-1] is preheat
    await room.set_tracker("home")
    await room.run_until(local(8, 18, 0), step=1)
    warm = [when for when, temperature in room.history if temperature >= 19.8]
    assert local(8, 17, 0) <= warm[0] <= local(8, 18, 0)
    assert room.temperature >= 19.8

    # The evening: Alice in the room, then turns the heating up by hand.
    await room.set_input("motion", True)
    await room.run_until(local(8, 19, 0), step=5)
    await hass.services.async_call(
        "climate",
        "set_temperature",
        {"entity_id": CLIMATE, "temperature": 22.0},
        blocking=True,
        context=Context(),
    )
    await hass.async_block_till_done()
    assert room.overrides[-1]["entity_id"] == CLIMATE
    assert room.overrides[-1]["paused"] is True
    assert room.overrides[-1]["until"] == local(8, 21, 0).isoformat()
    await room.run_until(local(8, 19, 30), step=5)
    await room.set_input("motion", False)
    # Empty from 19:40, but the manual change is respected until 21:00.
    await room.run_until(local(8, 20, 55), step=5)
    assert hass.states.get(CLIMATE).attributes["temperature"] == 22.0
    assert _summary(hass)["decisions"][CLIMATE]["blocked"] == "override"
    assert _summary(hass)["overrides"] == {CLIMATE: local(8, 21, 0).isoformat()}
    await room.run_until(local(8, 21, 5), step=5)
    assert room.overrides[-1]["paused"] is False
    resumed = room.actions_on(CLIMATE)[-1]
    assert (resumed["reason"], _at(resumed)) == ("empty", local(8, 21, 0))
    assert hass.states.get(CLIMATE).attributes["temperature"] == 17.0

    # Overnight nothing changes; the water heater runs two hours in its
    # 10:00-18:00 window the next day, placed by the recommendations (this
    # home has no prices: where its expected use is lowest; the placement
    # itself is tested in test_recommendations.py).
    count = len(room.actions)
    await room.run_until(local(9, 9, 50), step=15)
    assert room.actions[count:] == []
    planned = _summary(hass)["planned_runs"][WATER_HEATER]
    assert planned["recommended"] is True
    await room.run_until(local(9, 18, 5), step=5)
    runs = [(a["action"], a["reason"], _at(a)) for a in room.actions_on(WATER_HEATER)]
    assert [(action, reason) for action, reason, _ in runs] == [
        ("switch.turn_on", "run_recommended"),
        ("switch.turn_off", "run_done"),
    ]
    (_, _, started), (_, _, ended) = runs
    assert local(9, 10, 0) <= started
    assert ended == started + timedelta(hours=2)
    assert ended <= local(9, 18, 0)
    assert hass.states.get(WATER_HEATER).state == "off"
    # Lights were never switched on by Kilowise.
    assert all(a["action"] != "light.turn_on" for a in room.actions)


async def test_actions_are_in_the_logbook(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    hass_client: ClientSessionGenerator,
) -> None:
    """Each action is a logbook entry on its entity, with its reason; so are overrides."""
    # The logbook's panel needs the frontend, which the test harness lacks.
    mock_component(hass, "frontend")
    assert await async_setup_component(hass, "logbook", {})
    room = await _start(hass, freezer, hass_storage)
    await room.run(20, step=5)
    await hass.services.async_call(
        "climate",
        "set_temperature",
        {"entity_id": CLIMATE, "temperature": 21.5},
        blocking=True,
    )
    await room.settle()
    await room.run(5)
    await async_wait_recording_done(hass)
    client = await hass_client()
    response = await client.get(
        f"/api/logbook/{(NOW - timedelta(minutes=1)).isoformat()}",
        params={"end_time": datetime.now(PARIS).isoformat()},
    )
    assert response.status == HTTPStatus.OK
    entries = await response.json()
    kilowise = [
        (e["entity_id"], e["name"], e["message"])
        for e in entries
        if e.get("name", "").startswith("Kilowise")
    ]
    assert kilowise == [
        (CLIMATE, "Kilowise Living room", "was set to 17 °C (eco: the zone is empty)"),
        (LIGHT, "Kilowise Living room", "was turned off (nobody in the zone)"),
        (
            CLIMATE,
            "Kilowise Living room",
            "was changed by hand: Kilowise leaves it alone until 14:25",
        ),
    ]
    # The light's own entry says that Kilowise's action switched it off.
    changed = [
        e
        for e in entries
        if e.get("entity_id") == LIGHT and e.get("context_event_type") == EVENT_ACTION
    ]
    assert changed


async def test_dry_run_logs_once_and_changes_nothing(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """In dry run the actions are fired and logged once each; no entity changes."""
    room = await _start(hass, freezer, hass_storage, {"dry_run": True})
    await room.run(60, step=1)
    assert [(a["entity_id"], a["reason"], a["dry_run"]) for a in room.actions] == [
        (CLIMATE, "empty", True),
        (LIGHT, "no_occupancy", True),
    ]
    assert hass.states.get(CLIMATE).attributes["temperature"] == 19.0
    assert hass.states.get(LIGHT).state == "on"
    assert hass.states.get(ZONE_SENSOR).attributes["dry_run"] is True
    # A new decision is logged once more.
    await room.set_input("motion", True)
    await room.run(5)
    assert [(a["entity_id"], a["reason"]) for a in room.actions[2:]] == [
        (CLIMATE, "occupied")
    ]
    assert hass.states.get(CLIMATE).attributes["temperature"] == 19.0
    # A reload (a restart, new options, another subentry) logs nothing again.
    assert await hass.config_entries.async_reload(ENTRY_ID)
    await hass.async_block_till_done(wait_background_tasks=True)
    await room.run(5)
    assert len(room.actions) == 3


async def test_unavailable_source_stops_eco_and_lights_off(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """With the motion sensor unavailable the zone is unknown: nothing is done
    until it reports again."""
    room = await _start(hass, freezer, hass_storage, before=_motion_unavailable)
    await room.run(60, step=5)
    assert room.actions == []
    assert hass.states.get(ZONE_SENSOR).state == "unknown"
    assert hass.states.get(ZONE_SENSOR).attributes["unusable_sources"] == [MOTION]
    assert _summary(hass)["decisions"][CLIMATE]["reason"] == "unknown_occupancy"
    assert hass.states.get(LIGHT).state == "on"
    # Back, and off: eco at once; a sensor back from unavailable is not fresh
    # motion, so the light goes off 15 minutes later.
    hass.states.async_set(MOTION, "off", {"device_class": "motion"})
    await room.run(1)
    assert [(a["entity_id"], a["reason"]) for a in room.actions] == [(CLIMATE, "empty")]
    await room.run(15)
    assert [(a["entity_id"], a["reason"]) for a in room.actions] == [
        (CLIMATE, "empty"),
        (LIGHT, "no_occupancy"),
    ]


GHOST = "binary_sensor.ghost"


def _motion_unavailable(hass: HomeAssistant) -> None:
    hass.states.async_set(MOTION, STATE_UNAVAILABLE)


async def test_missing_source_and_unavailable_entity(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """A room sensor that does not exist makes the zone unknown; an unavailable
    driven entity is left alone while the others are driven."""
    room = await _start(hass, freezer, hass_storage, {CONF_SOURCES: [MOTION, GHOST]})
    await room.run(30, step=5)
    assert room.actions == []
    assert hass.states.get(ZONE_SENSOR).attributes["unusable_sources"] == [GHOST]
    # The user must act: a repair issue names the zone and the entity.
    issues = ir.async_get(hass)
    issue = issues.async_get_issue(DOMAIN, zone_issue_id(ZONE_ID, GHOST))
    assert issue is not None
    assert issue.translation_key == "zone_entity_missing"
    assert issue.translation_placeholders == {"zone": "Living room", "entity_id": GHOST}
    hass.states.async_set(LIGHT, STATE_UNAVAILABLE)
    hass.states.async_set(GHOST, "off")
    await room.run(20, step=5)
    # Back: the issue is withdrawn; an unavailable entity is not missing.
    assert issues.async_get_issue(DOMAIN, zone_issue_id(ZONE_ID, GHOST)) is None
    assert issues.async_get_issue(DOMAIN, zone_issue_id(ZONE_ID, LIGHT)) is None
    assert hass.states.get(ZONE_SENSOR).state == "empty"
    assert [(a["entity_id"], a["reason"]) for a in room.actions] == [(CLIMATE, "empty")]
    assert _summary(hass)["decisions"][LIGHT]["reason"] == "entity_unavailable"


async def test_flapping_is_prevented(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """A presence tracker flapping every two minutes moves the thermostat at most
    once per minimum on time, and never more than the cap per hour."""
    room = await _start(
        hass, freezer, hass_storage, {CONF_SOURCES: [PERSON], CONF_MAX_ACTIONS: 4}
    )
    for minute in range(90):
        if minute % 2 == 0:
            await room.set_tracker("not_home" if minute % 4 == 0 else "home")
        await room.run(1)
    times = [_at(a) for a in room.actions_on(CLIMATE)]
    assert len(times) >= 4
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= timedelta(minutes=5)
    for first in times:
        assert sum(first <= t < first + timedelta(hours=1) for t in times) <= 4
    assert _summary(hass)["decisions"][CLIMATE]["blocked"] in {
        None,
        "rate_limit",
        "min_change_interval",
    }


async def test_lights_min_on_time_and_on_at_arrival(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """Asked to, Kilowise switches the light on at arrival; it is not switched off
    sooner than its minimum on time, and not back on after a hand switched it off."""
    room = await _start(
        hass,
        freezer,
        hass_storage,
        {CONF_LIGHTS_ON_ARRIVAL: True, "lights_off_minutes": 1, "hold_minutes": 0},
        light_on=False,
    )
    await room.run(5)
    await room.set_input("motion", True)
    await room.run(1)
    assert hass.states.get(LIGHT).state == "on"
    assert room.actions_on(LIGHT)[-1]["reason"] == "arrival"
    await room.set_input("motion", False)
    # Empty for a minute, but the light has not been on for five yet.
    await room.run(2)
    assert hass.states.get(LIGHT).state == "on"
    assert _summary(hass)["decisions"][LIGHT]["blocked"] == "min_on_time"
    await room.run(4)
    assert hass.states.get(LIGHT).state == "off"
    assert room.actions_on(LIGHT)[-1]["reason"] == "no_occupancy"


async def test_master_switches_stop_everything(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """Off, the zone's or the entry's switch stops all actions at once; the
    state is kept across a restart."""
    room = await _start(hass, freezer, hass_storage)
    assert [a["reason"] for a in room.actions] == ["empty"]
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": ZONE_SWITCH}, blocking=True
    )
    await room.set_input("motion", True)
    await room.run(30, step=5)
    assert len(room.actions) == 1
    assert _summary(hass)["active"] is False
    assert hass.states.get(CLIMATE).attributes["temperature"] == 17.0
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": ENTRY_SWITCH}, blocking=True
    )
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": ZONE_SWITCH}, blocking=True
    )
    await room.run(10, step=5)
    assert len(room.actions) == 1
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": ENTRY_SWITCH}, blocking=True
    )
    await hass.async_block_till_done()
    assert room.actions[-1]["reason"] == "occupied"
    assert hass.states.get(CLIMATE).attributes["temperature"] == 20.0

    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": ZONE_SWITCH}, blocking=True
    )
    assert await hass.config_entries.async_reload(ENTRY_ID)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(ZONE_SWITCH).state == "off"
    assert hass.states.get(ENTRY_SWITCH).state == "on"


async def test_nothing_is_done_while_home_assistant_starts(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """Set up during start-up, control waits for Home Assistant to run, then two
    minutes more for the restored states to be replaced."""
    await async_setup_home(hass)
    hass.set_state(CoreState.starting)
    hass_storage[control_storage_key(ENTRY_ID)] = stored_control(NOW)
    entry = zone_entry({"hold_minutes": 0})
    entry.add_to_hass(hass)
    room = Room(hass, freezer)
    room.listen()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await room.run(30, step=5)
    assert room.actions == []
    hass.set_state(CoreState.running)
    hass.bus.async_fire("homeassistant_started")
    await hass.async_block_till_done()
    started = datetime.now(PARIS)
    await room.run(1)
    assert room.actions == []
    await room.run(2)
    assert {a["entity_id"] for a in room.actions} == {CLIMATE, LIGHT}
    assert min(_at(a) for a in room.actions) >= started + timedelta(minutes=2)


async def test_removed_entity_raises_an_issue_until_reconfigured(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """A driven entity removed from Home Assistant is left alone, with a repair
    issue; reconfiguring the zone without it withdraws the issue."""
    room = await _start(hass, freezer, hass_storage)
    entities = er.async_get(hass)
    entities.async_remove(WATER_HEATER)
    await room.run(5)
    issues = ir.async_get(hass)
    issue_id = zone_issue_id(ZONE_ID, WATER_HEATER)
    assert issues.async_get_issue(DOMAIN, issue_id) is not None
    assert _summary(hass)["decisions"][WATER_HEATER]["reason"] == "entity_unavailable"
    # The other entities are still driven.
    await room.set_input("motion", True)
    await room.run(1)
    assert room.actions_on(CLIMATE)[-1]["reason"] == "occupied"

    entry = hass.config_entries.async_get_entry(ENTRY_ID)
    assert entry is not None
    subentry = entry.subentries[ZONE_ID]
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, CONF_SWITCHES: []}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    await room.run(5)
    assert issues.async_get_issue(DOMAIN, issue_id) is None


async def test_renamed_entity_is_followed(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """Renamed while Kilowise runs, a driven entity is followed under its new
    id, with what Kilowise knew of it (here a manual override); no issue."""
    room = await _start(hass, freezer, hass_storage)
    await room.set_input("living_light", False)  # by hand: an override
    until = _summary(hass)["overrides"][LIGHT]
    entities = er.async_get(hass)
    entities.async_update_entity(LIGHT, new_entity_id=SOFA_LIGHT)
    await hass.async_block_till_done(wait_background_tasks=True)
    await room.run(5)

    entry = hass.config_entries.async_get_entry(ENTRY_ID)
    assert entry is not None
    assert entry.subentries[ZONE_ID].data[CONF_LIGHTS] == [SOFA_LIGHT]
    summary = _summary(hass)
    assert summary["overrides"] == {SOFA_LIGHT: until}
    assert set(summary["decisions"]) == {CLIMATE, SOFA_LIGHT, WATER_HEATER}
    issues = ir.async_get(hass)
    assert issues.async_get_issue(DOMAIN, zone_issue_id(ZONE_ID, LIGHT)) is None
    assert issues.async_get_issue(DOMAIN, zone_issue_id(ZONE_ID, SOFA_LIGHT)) is None
    # Under its new id it is driven as before: on by hand again, and off once
    # the override is over and the zone has been empty for the set time.
    await room.set_input("living_light", True)
    await room.run(150, step=5)
    assert room.actions_on(SOFA_LIGHT)[-1]["reason"] == "no_occupancy"
    assert hass.states.get(SOFA_LIGHT).state == "off"
