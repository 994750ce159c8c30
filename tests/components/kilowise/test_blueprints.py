"""The two automation blueprints, instantiated and run on Kilowise's events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint.models import Blueprint, BlueprintInputs
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import yaml as yaml_util
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

BLUEPRINTS = Path(__file__).parents[3] / "blueprints" / "automation" / "kilowise"


def automation(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The automation a user gets from a blueprint and these inputs."""
    data = yaml_util.load_yaml_dict(BLUEPRINTS / name)
    blueprint = Blueprint(
        data, expected_domain="automation", schema=AUTOMATION_BLUEPRINT_SCHEMA
    )
    instance = BlueprintInputs(
        blueprint, {"use_blueprint": {"path": name, "input": inputs}}
    )
    instance.validate()
    return {"id": name, "alias": blueprint.name, **instance.async_substitute()}


@pytest.mark.parametrize("already_on", [False, True])
async def test_start_appliance_at_recommended_time(
    hass: HomeAssistant, already_on: bool
) -> None:
    """The appliance's switch turns on with its recommendation event only."""
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(
        hass,
        "input_boolean",
        {"input_boolean": {"dishwasher": {"initial": already_on}, "dryer": {}}},
    )
    config = automation(
        "start_appliance_at_recommended_time.yaml",
        {"appliance_switch": "input_boolean.dishwasher"},
    )
    assert await async_setup_component(hass, "automation", {"automation": [config]})
    turned_on = async_capture_events(hass, "call_service")
    hass.bus.async_fire(
        "kilowise_recommendation", {"switch_entity": "input_boolean.dryer"}
    )
    await hass.async_block_till_done()
    assert hass.states.get("input_boolean.dishwasher").state == (
        "on" if already_on else "off"
    )
    hass.bus.async_fire(
        "kilowise_recommendation",
        {
            "appliance": "Dishwasher",
            "switch_entity": "input_boolean.dishwasher",
            "start": "2027-02-09T03:00:00+01:00",
        },
    )
    await hass.async_block_till_done()
    assert hass.states.get("input_boolean.dishwasher").state == "on"
    assert hass.states.get("input_boolean.dryer").state == "off"
    calls = [
        e
        for e in turned_on
        if (e.data["domain"], e.data["service"]) == ("homeassistant", "turn_on")
    ]
    assert len(calls) == (0 if already_on else 1)


async def test_notify_before_peak(hass: HomeAssistant) -> None:
    """The default action writes a notification with the peak's times and size."""
    assert await async_setup_component(hass, "persistent_notification", {})
    config = automation(
        "notify_before_peak.yaml", {"kilowise_entry": "entry_of_this_home"}
    )
    assert await async_setup_component(hass, "automation", {"automation": [config]})
    created = async_capture_events(hass, "call_service")
    payload = {
        "config_entry_id": "entry_of_this_home",
        "title": "Kilowise Home energy",
        "peak_start": "2027-02-08T19:00:00+01:00",
        "peak_end": "2027-02-08T21:00:00+01:00",
        "expected_kwh": 2.9,
        "p90_kwh": 4.9,
        "lead_time_minutes": 30,
    }
    hass.bus.async_fire("kilowise_peak_warning", {**payload, "config_entry_id": "x"})
    await hass.async_block_till_done()
    assert [e for e in created if e.data["domain"] == "persistent_notification"] == []
    hass.bus.async_fire("kilowise_peak_warning", payload)
    await hass.async_block_till_done()
    (call,) = [e for e in created if e.data["domain"] == "persistent_notification"]
    message = call.data["service_data"]["message"]
    assert "2.9 kWh" in message
    assert "up to 4.9" in message
    assert call.data["service_data"]["title"] == "Energy peak ahead"
