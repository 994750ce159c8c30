"""docs/dashboard.yaml against a real Kilowise entry (the browser test draws it).

The dashboard names the entities of a source called "Home energy", as the
demo's and these tests' source is, of the demo's dishwasher and of its living
room zone; the entry here has prices, two appliances and that zone in dry run
(real template and thermostat entities), like the demo. Its markdown cards are
Home Assistant templates, rendered here by each supported Home Assistant.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.template import Template
from homeassistant.util import dt as dt_util, slugify
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import yaml

from custom_components.kilowise.const import CONF_DRY_RUN

from .conftest import SOURCE
from .control_helpers import WATER_HEATER, async_add_zone, async_setup_home
from .translation_files import REPO

DASHBOARD = REPO / "docs" / "dashboard.yaml"
DASHBOARDS = sorted((REPO / "docs").glob("dashboard*.yaml"))
"""The dashboard and its optional chart view (docs/dashboard-apexcharts.yaml)."""
FORECAST = "sensor.kilowise_home_energy_next_48_hours"
EN_DASH = "\u2013"
PEAK_NOW = "binary_sensor.kilowise_home_energy_peak_expected_now"
ENTITY_ID = re.compile(r"\b(?:binary_sensor|sensor|switch)\.[a-z0-9_]+")
ZONE_OCCUPANCY = "sensor.kilowise_living_room_occupancy"
ZONE_FORECAST = "sensor.kilowise_living_room_occupancy_forecast"
ZONE_SWITCH = "switch.kilowise_living_room_control"


def _cards(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "type" in node and node.get("type") not in ("sections", "grid"):
            yield node
        for value in node.values():
            yield from _cards(value)
    elif isinstance(node, list):
        for item in node:
            yield from _cards(item)


@pytest.fixture
async def demo_entry(
    hass: HomeAssistant, priced_entry: MockConfigEntry
) -> MockConfigEntry:
    """The demo's entry: prices, two appliances and the living room in dry run."""
    await async_setup_home(hass)
    await async_add_zone(hass, priced_entry, {CONF_DRY_RUN: True})
    return priced_entry


async def test_dashboard_names_existing_entities(
    hass: HomeAssistant, demo_entry: MockConfigEntry
) -> None:
    """Every entity the dashboards show is one Kilowise (or the source) has."""
    priced_entry = demo_entry
    assert len(DASHBOARDS) >= 2
    text = "\n".join(path.read_text(encoding="utf-8") for path in DASHBOARDS)
    for path in DASHBOARDS:
        assert yaml.safe_load(path.read_text(encoding="utf-8"))
    named = set(ENTITY_ID.findall(text))
    assert any(name.startswith("binary_sensor.") for name in named)
    assert any(name.startswith("switch.") for name in named)
    registry = er.async_get(hass)
    existing = {
        entry.entity_id
        for entry in er.async_entries_for_config_entry(registry, priced_entry.entry_id)
    }
    assert named <= existing | {SOURCE}, named - existing - {SOURCE}
    # Disabled-by-default sensors would show as errors on a fresh install.
    disabled = {
        entry.entity_id
        for entry in er.async_entries_for_config_entry(registry, priced_entry.entry_id)
        if entry.disabled_by is not None
    }
    assert not named & disabled


def _rendered(hass: HomeAssistant) -> list[str]:
    """The dashboard's markdown cards, rendered."""
    markdown = [
        card["content"]
        for card in _cards(yaml.safe_load(DASHBOARD.read_text(encoding="utf-8")))
        if card.get("type") == "markdown"
    ]
    assert markdown
    return [
        str(Template(content, hass).async_render(parse_result=False))
        for content in markdown
    ]


def _rows(text: str) -> list[list[str]]:
    """The body rows of a markdown table, as stripped cells."""
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("|")
        and not line.startswith(("|:", "| Hour", "| Appl", "| Zone |"))
    ]


async def test_dashboard_templates_render_the_forecast(
    hass: HomeAssistant, priced_entry: MockConfigEntry
) -> None:
    """The forecast table renders one row per hour pair, with the sensor's values."""
    rendered = _rendered(hass)
    table = next(text for text in rendered if "expected over the next" in text)
    hours = hass.states.get(FORECAST).attributes["forecast"]
    rows = [
        line for line in table.splitlines() if re.match(r"\| \w{3} \d\d:\d\d", line)
    ]
    assert len(rows) == (len(hours) + 1) // 2
    first = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert first[1] == f"{hours[0]['kwh']:.2f}"
    assert first[2] == f"{hours[0]['p10']:.2f}\u2013{hours[0]['p90']:.2f}"
    total = re.search(r"\*\*([\d.]+) kWh\*\* expected over the next (\d+) hours", table)
    assert total is not None
    assert abs(float(total.group(1)) - float(hass.states.get(FORECAST).state)) < 0.06
    assert int(total.group(2)) == len(hours)
    # The accuracy card lists the model's measured homes.
    accuracy = next(text for text in rendered if "Measured before release" in text)
    assert "Sceaux" in accuracy


async def test_dashboard_templates_render_the_recommendations(
    hass: HomeAssistant, priced_entry: MockConfigEntry
) -> None:
    """One row per appliance with its sensors' values; the next peak below."""
    table = next(text for text in _rendered(hass) if "| Appliance |" in text)
    rows = {row[0]: row for row in _rows(table)}
    assert set(rows) == {"Dishwasher", "Washing machine"}
    for name, row in rows.items():
        object_id = slugify(name)
        start = hass.states.get(f"sensor.{object_id}_recommended_start")
        good = hass.states.get(f"binary_sensor.{object_id}_good_time_to_run")
        attributes = start.attributes
        local = dt_util.as_local(datetime.fromisoformat(start.state))
        end = datetime.fromisoformat(attributes["end"])
        assert row[1] == local.strftime("%a %H:%M")
        assert row[2] == end.strftime("%a %H:%M")
        assert attributes["basis"] == "prices"
        assert row[3] == f"{attributes['expected_cost']:.2f} EUR"
        saving = attributes["saving"]
        assert row[4] == (EN_DASH if saving is None else f"{saving:.2f} EUR")
        assert row[5] == ("good time" if good.state == "on" else "wait")
    peak = hass.states.get(PEAK_NOW).attributes
    first = datetime.fromisoformat(peak["next_peak_start"]).strftime("%a %H:%M")
    last = datetime.fromisoformat(peak["next_peak_end"]).strftime("%H:%M")
    assert f"Next predicted peak: **{first}{EN_DASH}{last}**" in table


async def test_dashboard_without_appliances_says_how_to_add_one(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """An entry without appliances: the table gives way to where to add one."""
    card = next(text for text in _rendered(hass) if "Add appliance" in text)
    assert "| Appliance |" not in card


def _zone_card(hass: HomeAssistant) -> str:
    return next(text for text in _rendered(hass) if "| Zone | Occupancy |" in text)


async def test_dashboard_templates_render_the_zones(
    hass: HomeAssistant, demo_entry: MockConfigEntry
) -> None:
    """Each zone's occupancy, chance this hour, switch and mode; each driven
    entity's last action and what Kilowise does now; the next runs."""
    card = _zone_card(hass)
    tables = card.split("\n\n")
    overview = _rows(next(t for t in tables if "| Zone | Occupancy |" in t))
    assert overview == [
        [
            "Kilowise Living room",
            "Empty",
            f"{float(hass.states.get(ZONE_FORECAST).state):.0f} %",
            "on",
            "dry run",
        ]
    ]
    attributes = hass.states.get(ZONE_OCCUPANCY).attributes
    assert hass.states.get(ZONE_OCCUPANCY).state == "empty"
    assert hass.states.get(ZONE_SWITCH).state == "on"
    control = _rows(next(t for t in tables if "| Zone | Entity |" in t))
    decisions = attributes["decisions"]
    last = attributes["last_actions"]
    assert [row[1] for row in control] == [
        hass.states.get(entity_id).name for entity_id in decisions
    ]
    for row, (entity_id, decision) in zip(control, decisions.items(), strict=True):
        assert row[0] == "Kilowise Living room"
        action = last.get(entity_id)
        if action is None:
            assert row[2:4] == [EN_DASH, EN_DASH]
        else:
            assert action["dry_run"] is True
            assert row[2] == f"would be {action['message']}"
            assert row[3] == datetime.fromisoformat(action["at"]).strftime("%a %H:%M")
        prefix = "would be " if decision["action"] else ""
        assert row[4] == prefix + decision["message"]
    # In a dry run the thermostat would go to eco at once.
    assert "would be set to 17 °C (eco: the zone is empty)" in card
    run = attributes["planned_runs"][WATER_HEATER]
    start = datetime.fromisoformat(run["start"])
    end = datetime.fromisoformat(run["end"])
    where = "in the recommended window" if run["recommended"] else "on its schedule"
    assert (
        f"Next run of Water heater: **{start:%a %H:%M}{EN_DASH}{end:%H:%M}**, {where}."
        in card
    )


async def test_dashboard_templates_render_the_occupancy_forecast(
    hass: HomeAssistant, demo_entry: MockConfigEntry
) -> None:
    """Each of the next 24 hours with its chance of occupancy, as the sensor says."""
    card = next(t for t in _rendered(hass) if "chance of occupancy, next" in t)
    forecast = hass.states.get(ZONE_FORECAST).attributes["forecast"]
    assert len(forecast) == 24
    assert (
        "**Kilowise Living room**: chance of occupancy, next 24 hours (its usual"
        " occupancy: nothing learned yet)" in card
    )
    rows = _rows(card)
    assert len(rows) == 24
    for (label, chance, bar), hour in zip(rows, forecast, strict=True):
        assert label == datetime.fromisoformat(hour["start"]).strftime("%a %H:%M")
        assert chance == f"{100 * hour['probability']:.0f} %"
        assert bar.count("█") == 10


async def test_dashboard_without_zones_says_how_to_add_one(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """An entry without zones: where to add one, and no forecast table."""
    card = next(text for text in _rendered(hass) if "Add zone" in text)
    assert "| Zone |" not in card
    forecast = next(text for text in _rendered(hass) if "add a zone" in text)
    assert "| Hour | Occupied |" not in forecast
