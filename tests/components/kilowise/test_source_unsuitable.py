"""A source sensor whose unit or state class changed: repair issue and its fix."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from homeassistant.const import ATTR_DEVICE_CLASS, ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import numpy as np
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.kilowise.const import (
    CONF_SOURCE_ENTITY,
    DOMAIN,
    ISSUE_SOURCE_UNSUITABLE,
)

from .conftest import (
    ENERGY_ATTRIBUTES,
    POWER_ATTRIBUTES,
    POWER_SOURCE,
    SOURCE,
    async_import,
    power_statistics,
)

FORECAST = "sensor.kilowise_home_energy_next_48_hours"
# What a meter integration that switched the entity to a temperature reports.
TEMPERATURE_ATTRIBUTES = {
    **ENERGY_ATTRIBUTES,
    ATTR_DEVICE_CLASS: "temperature",
    ATTR_UNIT_OF_MEASUREMENT: "°C",
    "state_class": "measurement",
}


async def test_changed_unit_raises_and_clears_issue(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The issue names the new unit, and goes once the sensor is set back."""
    issues = ir.async_get(hass)
    issue_id = f"{ISSUE_SOURCE_UNSUITABLE}_{init_integration.entry_id}"
    coordinator = init_integration.runtime_data.coordinator
    assert issues.async_get_issue(DOMAIN, issue_id) is None

    hass.states.async_set(SOURCE, "19.5", TEMPERATURE_ATTRIBUTES)
    await coordinator.async_refresh()
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_key == ISSUE_SOURCE_UNSUITABLE
    assert issue.translation_placeholders == {
        "entity_id": SOURCE,
        "title": init_integration.title,
        "unit": "°C",
        "state_class": "measurement",
    }
    # The history recorded so far still forecasts meanwhile.
    assert coordinator.last_update_success
    assert float(hass.states.get(FORECAST).state) > 0

    # A meter without a state class is refused as well, and says so.
    hass.states.async_set(SOURCE, "12345.7", {**ENERGY_ATTRIBUTES, "state_class": None})
    await coordinator.async_refresh()
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["state_class"] == "none"

    hass.states.async_set(SOURCE, "12345.8", ENERGY_ATTRIBUTES)
    await coordinator.async_refresh()
    assert issues.async_get_issue(DOMAIN, issue_id) is None


async def test_unavailable_source_is_not_unsuitable(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """An unavailable sensor has no unit to judge: no unsuitable issue."""
    hass.states.async_set(SOURCE, "unavailable", {"friendly_name": "Home energy"})
    await init_integration.runtime_data.coordinator.async_refresh()
    issue_id = f"{ISSUE_SOURCE_UNSUITABLE}_{init_integration.entry_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_fix_flow_moves_to_new_source(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    household: np.ndarray,
) -> None:
    """The repair refuses the unfit sensor and accepts a fitting one."""
    assert await async_setup_component(hass, "repairs", {})
    entry = init_integration
    issue_id = f"{ISSUE_SOURCE_UNSUITABLE}_{entry.entry_id}"
    hass.states.async_set(SOURCE, "19.5", TEMPERATURE_ATTRIBUTES)
    await async_import(hass, POWER_SOURCE, "W", power_statistics(household))
    hass.states.async_set(POWER_SOURCE, "850", POWER_ATTRIBUTES)
    await entry.runtime_data.coordinator.async_refresh()
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None

    client = await hass_client()

    async def post(url: str, payload: dict[str, Any]) -> dict[str, Any]:
        response = await client.post(url, json=payload)
        assert response.status == HTTPStatus.OK
        result: dict[str, Any] = await response.json()
        return result

    result = await post(
        "/api/repairs/issues/fix", {"handler": DOMAIN, "issue_id": issue_id}
    )
    assert result["step_id"] == "choose_source"
    # The step's text names the unit the sensor reports now.
    assert result["description_placeholders"] == {
        "entity_id": SOURCE,
        "title": entry.title,
        "unit": "°C",
        "state_class": "measurement",
    }
    flow_url = f"/api/repairs/issues/fix/{result['flow_id']}"

    result = await post(flow_url, {CONF_SOURCE_ENTITY: SOURCE})
    assert result["errors"] == {CONF_SOURCE_ENTITY: "wrong_unit"}

    result = await post(flow_url, {CONF_SOURCE_ENTITY: POWER_SOURCE})
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    assert entry.data == {CONF_SOURCE_ENTITY: POWER_SOURCE}
    assert entry.runtime_data.coordinator.last_update_success
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
