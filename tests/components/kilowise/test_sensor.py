"""Kilowise's sensors: states, attributes, registry, and what their numbers mean."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import history
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.json import json_dumps
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
from homeassistant.util.json import json_loads
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.kilowise.const import DOMAIN
from custom_components.kilowise.engine import forecast

from .conftest import (
    DATA_END,
    DATA_START,
    ENERGY_ATTRIBUTES,
    MODEL_FREE,
    SOURCE,
    async_import,
    meter_statistics,
)

PREFIX = "sensor.kilowise_home_energy_"
ENTITIES = {
    "next_hour": f"{PREFIX}next_hour",
    "rest_of_today": f"{PREFIX}rest_of_today",
    "tomorrow": f"{PREFIX}tomorrow",
    "forecast": f"{PREFIX}next_48_hours",
    "model": f"{PREFIX}model_version",
}

LEARNING_ENTITIES = {
    "adaptation": f"{PREFIX}model_in_use",
    **{
        f"{kind}_{days}d": f"{PREFIX}forecast_{name}_last_{days}_days"
        for kind, name in (
            ("mae", "error"),
            ("mase", "mase"),
            ("coverage", "p10_p90_coverage"),
        )
        for days in (7, 30)
    },
}
"""What Kilowise learns about the home (see test_learning.py)."""
RECOMMENDATION_ENTITIES = {
    "peak_hour_today": f"{PREFIX}peak_hour_today",
    "peak_expected_now": "binary_sensor.kilowise_home_energy_peak_expected_now",
}
"""The home's peak entities (see tests/components/kilowise/test_recommendations.py)."""


CONTROL_ENTITIES = {"control": "switch.kilowise_home_energy_control"}
"""The entry's master switch of occupancy-aware control (see test_control.py)."""
LEARNING_TRANSLATION_KEYS = {
    f"{kind}_{days}d": f"accuracy_{kind}"
    for kind in ("mae", "mase", "coverage")
    for days in (7, 30)
}


def _states(hass: HomeAssistant) -> dict[str, Any]:
    """States as plain JSON values, as the frontend sees them."""
    return {
        entity_id: {
            "state": state.state,
            "attributes": json_loads(json_dumps(dict(state.attributes))),
        }
        for entity_id in sorted(ENTITIES.values())
        if (state := hass.states.get(entity_id)) is not None
    }


async def test_sensor_states(
    hass: HomeAssistant, init_integration: MockConfigEntry, snapshot: SnapshotAssertion
) -> None:
    """The five sensors on the real house's history, with the bundled model."""
    assert _states(hass) == snapshot(matcher=MODEL_FREE)
    model = hass.states.get(ENTITIES["model"])
    artifact = init_integration.runtime_data.artifact
    assert model.state == artifact.model_id
    assert model.attributes["metrics"] == artifact.manifest["metrics"]
    assert model.attributes["training"] == artifact.manifest["training"]


async def test_forecast_is_plausible(
    hass: HomeAssistant, init_integration: MockConfigEntry, household: np.ndarray
) -> None:
    """The bundled model forecasts the real house at about its own level."""
    hours = hass.states.get(ENTITIES["forecast"]).attributes["forecast"]
    p50 = np.array([hour["kwh"] for hour in hours])
    assert np.all(p50 > 0)
    assert np.all(p50 < 10)
    last_week = np.nanmean(household[-168:])
    assert 0.5 * last_week < p50.mean() < 2 * last_week


async def test_registry(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """One service device per entry; entities keyed by entry and purpose."""
    entry = init_integration
    devices = dr.async_entries_for_config_entry(device_registry, entry.entry_id)
    assert len(devices) == 1
    device = devices[0]
    assert device.identifiers == {(DOMAIN, entry.entry_id)}
    assert device.entry_type is dr.DeviceEntryType.SERVICE
    assert device.name == "Kilowise Home energy"
    assert device.sw_version == entry.runtime_data.artifact.model_id

    entities = er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    assert {e.entity_id: e.unique_id for e in entities} == {
        entity_id: f"{entry.entry_id}_{key}"
        for key, entity_id in (
            ENTITIES | LEARNING_ENTITIES | RECOMMENDATION_ENTITIES | CONTROL_ENTITIES
        ).items()
    }
    for entity in entities:
        assert entity.device_id == device.id
        assert entity.has_entity_name
        key = entity.unique_id.removeprefix(f"{entry.entry_id}_")
        assert entity.translation_key == LEARNING_TRANSLATION_KEYS.get(key, key)
        expected = (
            EntityCategory.DIAGNOSTIC
            if entity.translation_key == "model" or key in LEARNING_ENTITIES
            # The master switch says whether Kilowise may act: configuration.
            else EntityCategory.CONFIG
            if key in CONTROL_ENTITIES
            else None
        )
        assert entity.entity_category is expected
        # The 7-day scores swing with a single odd day: disabled by default.
        assert (entity.disabled_by is not None) is key.endswith("_7d")


async def test_values_add_up(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Next hour, rest of today and tomorrow follow from the hourly forecast.

    It is 12:05 in Paris: the forecast's first hour is 12:00-13:00, of which
    55 minutes are still to come.
    """
    hours = hass.states.get(ENTITIES["forecast"]).attributes["forecast"]
    kwh = [hour["kwh"] for hour in hours]
    assert hours[0]["start"] == "2027-02-08T12:00:00+01:00"
    assert hours[12]["start"] == "2027-02-09T00:00:00+01:00"
    assert all(h["p10"] <= h["kwh"] <= h["p90"] for h in hours)

    def value(key: str) -> float:
        return float(hass.states.get(ENTITIES[key]).state)

    remaining = 55 / 60
    assert value("next_hour") == pytest.approx(
        remaining * kwh[0] + (1 - remaining) * kwh[1], abs=0.002
    )
    assert value("rest_of_today") == pytest.approx(
        remaining * kwh[0] + sum(kwh[1:12]), abs=0.01
    )
    assert value("tomorrow") == pytest.approx(sum(kwh[12:36]), abs=0.02)
    assert value("forecast") == pytest.approx(sum(kwh), abs=0.05)
    assert len(hours) == 48


async def test_forecast_is_the_engines(
    hass: HomeAssistant, init_integration: MockConfigEntry, household: np.ndarray
) -> None:
    """The sensor shows what the engine forecasts from the same real hours."""
    meter = household.copy()
    gaps = np.flatnonzero(np.isnan(household))
    meter[gaps + 1] = np.nan  # a meter's hour after a gap has no known change
    expected = forecast(
        init_integration.runtime_data.artifact,
        meter,
        DATA_END,
        dt_util.get_default_time_zone(),
    )
    hours = hass.states.get(ENTITIES["forecast"]).attributes["forecast"]
    np.testing.assert_allclose(
        [h["kwh"] for h in hours], expected.p50, atol=0.0005 + 1e-9
    )
    np.testing.assert_allclose(
        [h["p90"] for h in hours], expected.p90, atol=0.0005 + 1e-9
    )


async def test_tomorrow_on_a_short_day(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    household: np.ndarray,
    freezer: FrozenDateTimeFactory,
) -> None:
    """On the eve of summer time, tomorrow has 23 hours, and so has the sum."""
    shift = timedelta(weeks=7)
    history = household[:-48]  # ends on Saturday 2027-03-27, 12:00 in Paris
    end = DATA_START + shift + timedelta(hours=len(history))
    assert end == datetime.fromisoformat("2027-03-27T11:00:00+00:00")
    freezer.move_to(end + timedelta(minutes=5))
    await async_import(
        hass, SOURCE, "kWh", meter_statistics(history, start=DATA_START + shift)
    )
    hass.states.async_set(SOURCE, "5", ENERGY_ATTRIBUTES)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    hours = hass.states.get(ENTITIES["forecast"]).attributes["forecast"]
    sunday = [h for h in hours if h["start"].startswith("2027-03-28")]
    assert len(sunday) == 23
    assert sunday[2]["start"] == "2027-03-28T03:00:00+02:00"
    assert float(hass.states.get(ENTITIES["tomorrow"]).state) == pytest.approx(
        sum(h["kwh"] for h in sunday), abs=0.02
    )


async def test_large_attributes_not_recorded(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The hourly list and the model's training details stay out of the database."""
    await async_wait_recording_done(hass)
    start = DATA_END
    ids = [ENTITIES["forecast"], ENTITIES["model"]]
    states = await get_instance(hass).async_add_executor_job(
        lambda: history.get_significant_states(
            hass, start, None, ids, significant_changes_only=False
        )
    )
    forecast_attributes = states[ENTITIES["forecast"]][-1].attributes
    assert "forecast" not in forecast_attributes
    assert forecast_attributes["history_hours"] == 666
    model_attributes = states[ENTITIES["model"]][-1].attributes
    assert "training" not in model_attributes
    assert "metrics" not in model_attributes
    assert model_attributes["sha256"] == init_integration.runtime_data.artifact.sha256
    # In the state machine they are there.
    assert len(hass.states.get(ENTITIES["forecast"]).attributes["forecast"]) == 48
    assert "metrics" in hass.states.get(ENTITIES["model"]).attributes
