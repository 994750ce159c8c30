"""Diagnostics of a Kilowise entry."""

from __future__ import annotations

from datetime import datetime
import json

# Diagnostics import the Supervisor client for their system information; its
# data classes cannot be imported while time is frozen, so import it now.
import homeassistant.components.hassio  # noqa: F401
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.kilowise.const import (
    CONF_ALLOWED_DIRS,
    CONF_NAME,
    CONF_TRUSTED_KEYS,
)

from .conftest import ENERGY_ATTRIBUTES, MODEL_FREE, PRICE_SENSOR, SOURCE, subentry_id


async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """Model, history summary and forecast, with anything locating redacted."""
    # A source whose attributes carry a location, as some meters' do.
    hass.states.async_set(
        SOURCE, "12345.6", {**ENERGY_ATTRIBUTES, "latitude": 48.78, "longitude": 2.29}
    )
    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, init_integration
    )
    assert diagnostics["source"]["attributes"]["latitude"] == "**REDACTED**"
    assert diagnostics == snapshot(matcher=MODEL_FREE)
    model = init_integration.runtime_data.artifact
    assert diagnostics["model"]["model_id"] == model.model_id
    assert diagnostics["model"]["metrics"] == model.manifest["metrics"]


async def test_diagnostics_redact_paths_and_key_names(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
) -> None:
    """Folders (often under a user's home) and trusted keys' names are redacted."""
    entry = init_integration
    hass.config_entries.async_update_entry(
        entry,
        options={
            **entry.options,
            CONF_ALLOWED_DIRS: ["/home/alice/kilowise-models"],
            CONF_TRUSTED_KEYS: ["alice AAAA"],
        },
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    options = diagnostics["entry"]["options"]
    assert options[CONF_ALLOWED_DIRS] == "**REDACTED**"
    assert options[CONF_TRUSTED_KEYS] == "**REDACTED**"
    assert "alice" not in str(diagnostics)


async def test_diagnostics_of_recommendations(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    priced_entry: MockConfigEntry,
) -> None:
    """Prices, peaks, costs and each appliance's plan, without appliance names."""
    dishwasher = subentry_id(priced_entry, "Dishwasher")
    subentry = priced_entry.subentries[dishwasher]
    hass.config_entries.async_update_subentry(
        priced_entry,
        subentry,
        data={**subentry.data, CONF_NAME: "Alice's dishwasher"},
        title="Alice's dishwasher",
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, priced_entry
    )
    recommendations = diagnostics["recommendations"]
    assert recommendations["price_entity"] == PRICE_SENSOR
    assert recommendations["prices"]["format"] == "nordpool"
    assert recommendations["prices"]["currency"] == "EUR"
    assert recommendations["prices"]["slots"] == 48
    assert recommendations["peaks"]
    for peak in recommendations["peaks"]:
        assert peak["start"] < peak["end"]
        assert 0 < peak["kwh"] <= peak["p90"]
    assert recommendations["events"]["pending"] >= len(recommendations["peaks"])
    assert recommendations["today"]["cost"] > 0
    appliances = recommendations["appliances"]
    assert set(appliances) == set(priced_entry.subentries)
    planned = appliances[dishwasher]
    assert planned["profile_source"] == "learned"
    assert planned["cycles_learned"] > 0
    state = hass.states.get("sensor.dishwasher_recommended_start")
    assert planned["plan"]["best"]["start"] == (
        dt_util.as_local(datetime.fromisoformat(state.state)).isoformat()
    )
    # What people call their appliances stays out (their names may name them).
    text = json.dumps(diagnostics)
    assert priced_entry.runtime_data.recommendations.appliance("Alice's dishwasher")
    for name in ("Alice", "Washing machine"):
        assert name not in text
