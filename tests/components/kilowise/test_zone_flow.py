"""The zone subentry flow: add, check and change a zone."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.kilowise.const import CONF_RUN_START, DOMAIN, SUBENTRY_ZONE
from custom_components.kilowise.zone_flow import validate_zone

from .control_helpers import async_add_zone, async_setup_home

pytestmark = pytest.mark.usefixtures("source_statistics", "bundled_model")

LIVING_ROOM: dict[str, Any] = {
    "name": "Living room",
    "dry_run": True,
    "occupancy": {
        "sources": ["binary_sensor.living_room_motion", "person.alice"],
        "hold_minutes": 10,
        "stuck_hours": 24,
        "prior": "home",
    },
    "climate": {
        "climates": ["climate.living_room"],
        "comfort_temperature": 20.5,
        "eco_temperature": 17,
        "away_temperature": 15,
        "frost_temperature": 7,
        "preheat_max_hours": 3,
        "preheat_probability": 50,
    },
    "lights_section": {
        "lights": ["light.living_room_light"],
        "lights_off_minutes": 15,
        "lights_on_arrival": False,
    },
    "switches_section": {
        "switches": ["switch.water_heater"],
        "run_window_start": "10:00:00",
        "run_window_end": "18:00:00",
        "run_minutes": 120,
    },
    "safety": {
        "override_minutes": 90,
        "min_on_minutes": 5,
        "min_off_minutes": 5,
        "max_actions_per_hour": 6,
    },
}


def _with(**changes: dict[str, Any] | str | bool) -> dict[str, Any]:
    """The living room with some sections or fields changed."""
    result = {**LIVING_ROOM}
    for key, value in changes.items():
        if isinstance(value, dict):
            result[key] = {**LIVING_ROOM[key], **value}
        else:
            result[key] = value
    return result


async def _add(
    hass: HomeAssistant, entry: MockConfigEntry, user_input: dict[str, Any]
) -> dict[str, Any]:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_ZONE), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    return await hass.config_entries.subentries.async_configure(
        result["flow_id"], user_input
    )


async def test_add_a_zone(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A zone is stored flat, starts in dry run, and gets its own device and entities."""
    await async_setup_home(hass)
    result = await _add(hass, init_integration, LIVING_ROOM)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Living room"
    await hass.async_block_till_done(wait_background_tasks=True)
    (subentry,) = init_integration.subentries.values()
    assert subentry.subentry_type == SUBENTRY_ZONE
    assert subentry.data["dry_run"] is True
    assert subentry.data["sources"] == LIVING_ROOM["occupancy"]["sources"]
    assert subentry.data["comfort_temperature"] == 20.5
    assert subentry.data["override_minutes"] == 90
    assert subentry.data["run_window_start"] == "10:00:00"

    entities = er.async_get(hass)
    (device,) = [
        d
        for d in dr.async_entries_for_config_entry(
            dr.async_get(hass), init_integration.entry_id
        )
        if d.identifiers == {(DOMAIN, subentry.subentry_id)}
    ]
    assert device.name == "Kilowise Living room"
    zone_entities = {
        e.entity_id: e.config_subentry_id
        for e in er.async_entries_for_device(entities, device.id)
    }
    assert zone_entities == {
        "sensor.kilowise_living_room_occupancy": subentry.subentry_id,
        "sensor.kilowise_living_room_occupancy_forecast": subentry.subentry_id,
        "switch.kilowise_living_room_control": subentry.subentry_id,
    }
    assert hass.states.get("switch.kilowise_home_energy_control").state == "on"
    forecast = hass.states.get("sensor.kilowise_living_room_occupancy_forecast")
    assert len(forecast.attributes["forecast"]) == 24


async def test_a_new_zone_defaults_to_dry_run(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Only a name and a source: every other setting takes its default."""
    result = await _add(
        hass,
        init_integration,
        {"name": "Office", "occupancy": {"sources": ["binary_sensor.office_motion"]}},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    (subentry,) = init_integration.subentries.values()
    assert subentry.data["dry_run"] is True
    assert subentry.data["eco_temperature"] == 17.0
    assert subentry.data["frost_temperature"] == 7.0


@pytest.mark.parametrize(
    ("user_input", "error"),
    [
        (_with(name="  "), "name_missing"),
        (_with(occupancy={"sources": []}), "no_sources"),
        (_with(climate={"eco_temperature": 6}), "below_frost_floor"),
        (_with(climate={"eco_temperature": 21}), "setpoint_order"),
        (_with(climate={"eco_preset": "holiday"}), "preset_not_supported"),
        (_with(switches_section={"run_minutes": 600}), "run_longer_than_window"),
    ],
)
async def test_zone_errors(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    user_input: dict[str, Any],
    error: str,
) -> None:
    """Each wrong setting is refused with a message that says what is wrong."""
    await async_setup_home(hass)
    result = await _add(hass, init_integration, user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert not init_integration.subentries


async def test_sources_must_tell_occupancy(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The form accepts only binary sensors, persons, device trackers and zones."""
    with pytest.raises(InvalidData, match="sources"):
        await _add(
            hass,
            init_integration,
            _with(occupancy={"sources": ["light.living_room_light"]}),
        )


async def test_an_entity_is_driven_by_one_zone(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Two zones never drive the same entity, and names are unique in an entry."""
    await async_setup_home(hass)
    assert (await _add(hass, init_integration, LIVING_ROOM))[
        "type"
    ] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    other = _with(name="Kitchen", occupancy={"sources": ["person.alice"]})
    result = await _add(hass, init_integration, other)
    assert result["errors"] == {"base": "entity_in_other_zone"}
    assert result["description_placeholders"]["zone"] == "Living room"
    same_name = _with(
        climate={"climates": []},
        lights_section={"lights": []},
        switches_section={"switches": []},
    )
    assert (await _add(hass, init_integration, same_name))["errors"] == {
        "base": "name_exists"
    }


async def test_reconfigure_a_zone(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Changing a zone keeps its id and entities; the form shows its settings."""
    await async_setup_home(hass)
    await _add(hass, init_integration, LIVING_ROOM)
    await hass.async_block_till_done(wait_background_tasks=True)
    (subentry,) = init_integration.subentries.values()
    result = await hass.config_entries.subentries.async_init(
        (init_integration.entry_id, SUBENTRY_ZONE),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry.subentry_id},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    # The current settings are suggested, section by section.
    schema = result["data_schema"].schema
    climate_section = next(v for k, v in schema.items() if str(k) == "climate")
    suggested = {
        str(k): k.description.get("suggested_value")
        for k in climate_section.schema.schema
        if k.description
    }
    assert suggested["comfort_temperature"] == 20.5
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], _with(dry_run=False, climate={"comfort_temperature": 21})
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    (changed,) = init_integration.subentries.values()
    assert changed.subentry_id == subentry.subentry_id
    assert changed.data["dry_run"] is False
    assert changed.data["comfort_temperature"] == 21
    control = init_integration.runtime_data.control
    assert control is not None
    assert control.zones[subentry.subentry_id].config.climate.comfort == 21.0
    assert hass.states.get("switch.kilowise_living_room_control") is not None


async def test_damaged_zone_is_skipped(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Settings that cannot be read (a stored zone edited by hand) are refused
    by the form's check; a stored zone with them is left out, and said so,
    while the entry and the other zones go on."""
    await async_setup_home(hass)
    damaged = {"sources": ["person.alice"], CONF_RUN_START: "after lunch"}
    assert validate_zone(hass, "Attic", damaged, init_integration.entry_id, None) == (
        "invalid_value",
        {},
    )
    await async_add_zone(hass, init_integration, damaged, title="Attic")
    assert "Zone Attic of Kilowise Home energy has unusable settings" in caplog.text
    control = init_integration.runtime_data.control
    assert control is not None
    assert control.zones == {}
    # A new zone is checked against the others it can read.
    result = await _add(hass, init_integration, LIVING_ROOM)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    control = init_integration.runtime_data.control
    assert control is not None
    assert [zone.config.name for zone in control.zones.values()] == ["Living room"]
