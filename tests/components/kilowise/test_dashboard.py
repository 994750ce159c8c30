"""docs/dashboard.yaml against a real Kilowise entry (the browser test draws it).

The dashboard names the entities of a source called "Home energy", as the
demo's and these tests' source is; its markdown cards are Home Assistant
templates, rendered here by each supported Home Assistant.
"""

from __future__ import annotations

from collections.abc import Iterator
import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.template import Template
from pytest_homeassistant_custom_component.common import MockConfigEntry
import yaml

from .conftest import SOURCE
from .translation_files import REPO

DASHBOARD = REPO / "docs" / "dashboard.yaml"
DASHBOARDS = sorted((REPO / "docs").glob("dashboard*.yaml"))
"""The dashboard and its optional chart view (docs/dashboard-apexcharts.yaml)."""
FORECAST = "sensor.kilowise_home_energy_next_48_hours"


def _cards(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "type" in node and node.get("type") not in ("sections", "grid"):
            yield node
        for value in node.values():
            yield from _cards(value)
    elif isinstance(node, list):
        for item in node:
            yield from _cards(item)


async def test_dashboard_names_existing_entities(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Every entity the dashboards show is one Kilowise (or the source) has."""
    assert len(DASHBOARDS) >= 2
    text = "\n".join(path.read_text(encoding="utf-8") for path in DASHBOARDS)
    for path in DASHBOARDS:
        assert yaml.safe_load(path.read_text(encoding="utf-8"))
    named = set(re.findall(r"\bsensor\.[a-z0-9_]+", text))
    registry = er.async_get(hass)
    existing = {
        entry.entity_id
        for entry in er.async_entries_for_config_entry(
            registry, init_integration.entry_id
        )
    }
    assert named <= existing | {SOURCE}, named - existing - {SOURCE}
    # Disabled-by-default sensors would show as errors on a fresh install.
    disabled = {
        entry.entity_id
        for entry in er.async_entries_for_config_entry(
            registry, init_integration.entry_id
        )
        if entry.disabled_by is not None
    }
    assert not named & disabled


async def test_dashboard_templates_render_the_forecast(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The forecast table renders one row per hour pair, with the sensor's values."""
    markdown = [
        card["content"]
        for card in _cards(yaml.safe_load(DASHBOARD.read_text(encoding="utf-8")))
        if card.get("type") == "markdown"
    ]
    assert markdown
    rendered = [
        str(Template(content, hass).async_render(parse_result=False))
        for content in markdown
    ]
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
