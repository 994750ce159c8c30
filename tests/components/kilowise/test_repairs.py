"""The repair flow that points an entry at a new source sensor."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import numpy as np
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.kilowise.const import (
    CONF_SOURCE_ENTITY,
    DOMAIN,
    ISSUE_SOURCE_MISSING,
)

from .conftest import (
    POWER_ATTRIBUTES,
    POWER_SOURCE,
    SOURCE,
    async_import,
    power_statistics,
)


async def test_choose_new_source(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    household: np.ndarray,
) -> None:
    """The meter was replaced by a power sensor: the repair moves the entry."""
    assert await async_setup_component(hass, "repairs", {})
    entry = init_integration
    issue_id = f"{ISSUE_SOURCE_MISSING}_{entry.entry_id}"
    await async_import(hass, POWER_SOURCE, "W", power_statistics(household))
    hass.states.async_set(POWER_SOURCE, "850", POWER_ATTRIBUTES)
    hass.states.async_remove(SOURCE)
    # (A refresh at once, not an hour on: the test client's token would expire.)
    await init_integration.runtime_data.coordinator.async_refresh()
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable

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
    assert result["description_placeholders"] == {
        "title": entry.title,
        "entity_id": SOURCE,
    }
    flow_url = f"/api/repairs/issues/fix/{result['flow_id']}"

    result = await post(flow_url, {CONF_SOURCE_ENTITY: "sensor.gone_too"})
    assert result["errors"] == {CONF_SOURCE_ENTITY: "entity_not_found"}

    result = await post(flow_url, {CONF_SOURCE_ENTITY: POWER_SOURCE})
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()

    assert entry.data == {CONF_SOURCE_ENTITY: POWER_SOURCE}
    assert entry.unique_id == POWER_SOURCE
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.coordinator.last_update_success
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_source_taken_by_other_entry(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    household: np.ndarray,
) -> None:
    """A sensor that another entry forecasts from is refused."""
    assert await async_setup_component(hass, "repairs", {})
    MockConfigEntry(
        domain=DOMAIN, data={CONF_SOURCE_ENTITY: POWER_SOURCE}, unique_id=POWER_SOURCE
    ).add_to_hass(hass)
    await async_import(hass, POWER_SOURCE, "W", power_statistics(household))
    hass.states.async_set(POWER_SOURCE, "850", POWER_ATTRIBUTES)
    hass.states.async_remove(SOURCE)
    # (A refresh at once, not an hour on: the test client's token would expire.)
    await init_integration.runtime_data.coordinator.async_refresh()

    client = await hass_client()
    issue_id = f"{ISSUE_SOURCE_MISSING}_{init_integration.entry_id}"
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )
    flow_id = (await response.json())["flow_id"]
    response = await client.post(
        f"/api/repairs/issues/fix/{flow_id}", json={CONF_SOURCE_ENTITY: POWER_SOURCE}
    )
    result = await response.json()
    assert result["errors"] == {CONF_SOURCE_ENTITY: "already_configured"}
    assert init_integration.data == {CONF_SOURCE_ENTITY: SOURCE}
