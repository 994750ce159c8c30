"""What Kilowise learns about a home: the calibration, its schedule and storage,
the ``kilowise.retrain`` action, and the live accuracy sensors as days pass."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.storage import Store
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from sqlalchemy.exc import OperationalError

from custom_components.kilowise.const import (
    BUNDLED_MODEL,
    DOMAIN,
    LEARNING_STORAGE_VERSION,
    SERVICE_RETRAIN,
    learning_storage_key,
)
from custom_components.kilowise.engine import Artifact, forecast, read_artifact
from custom_components.kilowise.engine.accuracy import CAPACITY
from custom_components.kilowise.engine.adaptation import (
    ADAPTATION_HOURS,
    AdaptationResult,
    Calibration,
    Reason,
    adapt,
)

from .conftest import (
    DATA_END,
    DATA_HOURS,
    ENERGY_ATTRIBUTES,
    SOURCE,
    async_import,
    meter_statistics,
)

PARIS = ZoneInfo("Europe/Paris")
HOUR = timedelta(hours=1)
PREFIX = "sensor.kilowise_home_energy_"
ADAPTATION = f"{PREFIX}model_in_use"
FORECAST = f"{PREFIX}next_48_hours"
FIRST_NIGHT = datetime(2027, 2, 9, 3, 30, tzinfo=PARIS)
"""When the first fit runs: 03:30 in Paris, the night after set-up."""


def _accuracy_entity(kind: str, days: int) -> str:
    name = {"mae": "error", "mase": "mase", "coverage": "p10_p90_coverage"}[kind]
    return f"{PREFIX}forecast_{name}_last_{days}_days"


async def _move_to(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: datetime
) -> None:
    freezer.move_to(when)
    async_fire_time_changed(hass, when)
    await hass.async_block_till_done(wait_background_tasks=True)


def _meter_view(household: np.ndarray) -> np.ndarray:
    """What the meter's statistics tell: an hour's use is the change from the
    hour before, so the first hour and any hour after a gap are unknown too."""
    view = household.copy()
    gaps = np.flatnonzero(np.isnan(household))
    view[gaps[gaps + 1 < len(household)] + 1] = np.nan
    view[0] = np.nan
    return view


def _series(known: np.ndarray, known_end: datetime, end: datetime) -> np.ndarray:
    """The ``ADAPTATION_HOURS`` hours before ``end`` as the recorder holds them:
    ``known`` ends at ``known_end``; nothing before or after it."""
    series = np.full(ADAPTATION_HOURS, np.nan)
    last = ADAPTATION_HOURS - int((end - known_end) / HOUR)
    take = min(last, len(known))
    series[last - take : last] = known[len(known) - take :]
    return series


def _expected(
    artifact: Artifact, household: np.ndarray, end: datetime
) -> AdaptationResult:
    """The engine's own decision on the real house, computed here directly."""
    series = _series(_meter_view(household), DATA_END, end)
    return adapt(
        artifact.ensemble.predict, series, end - ADAPTATION_HOURS * HOUR, PARIS
    )


def _scores(result: AdaptationResult) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = ("mae_kwh", "mase_weekly", "coverage_p10_p90", "hours")
    assert result.before is not None
    assert result.after is not None
    before, after = result.before.as_dict(), result.after.as_dict()
    return {k: before[k] for k in keys}, {k: after[k] for k in keys}


async def test_adapts_at_night_and_keeps_a_winning_calibration(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    household: np.ndarray,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """The first fit runs at 03:30 the night after set-up, off the event loop;
    on the real house it wins its check week, so the forecast uses it."""
    entry = init_integration
    learning = entry.runtime_data.learning
    coordinator = entry.runtime_data.coordinator
    state = hass.states.get(ADAPTATION)
    assert state.state == "bundled_not_checked"
    assert state.attributes["next_check"] == FIRST_NIGHT.isoformat()
    assert not coordinator.data.adapted

    await _move_to(hass, freezer, FIRST_NIGHT - timedelta(minutes=1))
    assert learning.adaptation.checked_at is None
    await _move_to(hass, freezer, FIRST_NIGHT)

    expected = _expected(
        entry.runtime_data.artifact, household, FIRST_NIGHT.replace(minute=0)
    )
    assert expected.reason == Reason.ADAPTED
    state = learning.adaptation
    assert state.reason == Reason.ADAPTED
    assert state.model_id == entry.runtime_data.artifact.model_id
    assert state.checked_at == FIRST_NIGHT
    assert state.calibration is not None
    assert expected.calibration is not None
    np.testing.assert_allclose(
        state.calibration.hour_factor, expected.calibration.hour_factor
    )
    # The same numbers, up to the rounding of the meter's sums.
    for got, want in ((state.before, expected.before), (state.after, expected.after)):
        assert got is not None
        assert want is not None
        assert dataclasses.astuple(got) == pytest.approx(dataclasses.astuple(want))
    assert state.after is not None
    assert state.before is not None
    assert state.after.mae_kwh < state.before.mae_kwh

    sensor = hass.states.get(ADAPTATION)
    assert sensor.state == "adapted"
    before, after = _scores(expected)
    assert sensor.attributes["before"] == before
    assert sensor.attributes["after"] == after
    assert sensor.attributes["checked_at"] == FIRST_NIGHT.isoformat()
    # The last seven whole days in Paris (the 8th counts: its midnight is past).
    assert sensor.attributes["check_week_start"] == "2027-02-02T00:00:00+01:00"
    assert sensor.attributes["check_week_end"] == "2027-02-09T00:00:00+01:00"
    # A week later, at the same time of night.
    assert sensor.attributes["next_check"] == "2027-02-16T03:30:00+01:00"

    # The forecast was made again, with the calibration.
    data = coordinator.data
    assert data.adapted
    artifact = entry.runtime_data.artifact
    plain = forecast(artifact, data.history.kwh, data.forecast.start, PARIS)
    adjusted = forecast(
        artifact,
        data.history.kwh,
        data.forecast.start,
        PARIS,
        adjust=state.calibration.adjust,
    )
    np.testing.assert_allclose(data.forecast.p50, adjusted.p50)
    assert not np.allclose(data.forecast.p50, plain.p50)

    # Written to the entry's store a minute later (the forecast log was
    # written once already, at the first hourly refresh).
    key = learning_storage_key(entry.entry_id)
    assert hass_storage[key]["data"]["adaptation"]["reason"] == "bundled_not_checked"
    await _move_to(hass, freezer, FIRST_NIGHT + timedelta(seconds=61))
    stored = hass_storage[key]["data"]["adaptation"]
    assert stored["reason"] == "adapted"
    assert stored["fitted_for"] == artifact.model_id


async def test_retrain_action_answers_with_the_check_week(
    hass: HomeAssistant, init_integration: MockConfigEntry, household: np.ndarray
) -> None:
    """``kilowise.retrain`` fits now and answers with before/after scores."""
    entry = init_integration
    response = await hass.services.async_call(
        DOMAIN,
        SERVICE_RETRAIN,
        {"config_entry_id": entry.entry_id},
        blocking=True,
        return_response=True,
    )
    expected = _expected(entry.runtime_data.artifact, household, DATA_END)
    before, after = _scores(expected)
    accepted = expected.reason == Reason.ADAPTED
    assert response == {
        "model_in_use": "adapted" if accepted else "bundled",
        "accepted": accepted,
        "reason": expected.reason,
        "model_id": entry.runtime_data.artifact.model_id,
        "checked_at": "2027-02-08T12:05:00+01:00",
        "next_check": "2027-02-16T03:30:00+01:00",  # the first night after a week
        "fit": {
            "start": "2027-01-11T00:00:00+01:00",
            "end": "2027-02-01T00:00:00+01:00",
            "hours": expected.fit_hours,
        },
        "check_week": {
            "start": "2027-02-01T00:00:00+01:00",
            "end": "2027-02-08T00:00:00+01:00",
        },
        "before": before,
        "after": after,
    }
    assert hass.states.get(ADAPTATION).state == expected.reason
    assert entry.runtime_data.coordinator.data.adapted is accepted

    # Without asking for a response, it just adapts.
    assert (
        await hass.services.async_call(
            DOMAIN, SERVICE_RETRAIN, {"config_entry_id": entry.entry_id}, blocking=True
        )
        is None
    )


async def test_retrain_action_errors(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Unknown or unloaded entries and database errors give translated errors."""
    other = MockConfigEntry(domain="demo")
    other.add_to_hass(hass)
    for entry_id in ("no_such_entry", other.entry_id):
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(
                DOMAIN,
                SERVICE_RETRAIN,
                {"config_entry_id": entry_id},
                blocking=True,
                return_response=True,
            )
        assert err.value.translation_key == "entry_not_found"

    def fail(*args: object, **kwargs: object) -> None:
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(
        "custom_components.kilowise.history.statistics_during_period", fail
    )
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN,
            SERVICE_RETRAIN,
            {"config_entry_id": init_integration.entry_id},
            blocking=True,
            return_response=True,
        )
    assert err.value.translation_key == "statistics_unavailable"
    monkeypatch.undo()

    await hass.config_entries.async_unload(init_integration.entry_id)
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            SERVICE_RETRAIN,
            {"config_entry_id": init_integration.entry_id},
            blocking=True,
            return_response=True,
        )
    assert err.value.translation_key == "entry_not_loaded"


async def test_waits_for_two_weeks_of_history(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    household: np.ndarray,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Ten days of statistics: the bundled model stays, and the next attempt
    is the next night rather than a week later."""
    recent = household[-240:]
    await async_import(
        hass,
        SOURCE,
        "kWh",
        meter_statistics(recent, start=DATA_END - len(recent) * HOUR),
    )
    hass.states.async_set(SOURCE, "12345.6", ENERGY_ATTRIBUTES)
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await _move_to(hass, freezer, FIRST_NIGHT)
    learning = mock_config_entry.runtime_data.learning
    assert learning.adaptation.reason == Reason.NOT_ENOUGH_HISTORY
    sensor = hass.states.get(ADAPTATION)
    assert sensor.state == "bundled_not_enough_history"
    assert sensor.attributes["next_check"] == "2027-02-10T03:30:00+01:00"
    assert not mock_config_entry.runtime_data.coordinator.data.adapted


def _stored(
    model_id: str, factor: float, log: dict[str, Any] | None = None
) -> dict[str, Any]:
    calibration = Calibration(np.full(24, factor), 1.0, 1.0, 500).as_dict()
    return {
        "version": LEARNING_STORAGE_VERSION,
        "minor_version": 1,
        "key": "unused",
        "data": {
            "adaptation": {
                "reason": "adapted",
                "fitted_for": model_id,
                "calibration": calibration,
                "candidate": calibration,
                "checked_at": "2027-02-05T02:30:00+00:00",
                "before": None,
                "after": None,
                "fit_start": None,
                "check_start": None,
                "check_end": None,
                "fit_hours": 500,
            },
            "forecast_log": log
            or {
                "hours": [],
                "issued": [],
                "p10": [],
                "p50": [],
                "p90": [],
                "actual": [],
                "naive": [],
            },
        },
    }


async def test_learned_state_survives_a_restart(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mock_config_entry: MockConfigEntry,
    source_statistics: None,
) -> None:
    """A stored calibration for the model in use adjusts the first forecast
    after start-up; the stored forecast log feeds the accuracy sensors."""
    artifact = await hass.async_add_executor_job(read_artifact, BUNDLED_MODEL)
    end_hour = int(DATA_END.timestamp() // 3600)
    log = {
        "hours": [end_hour - 3, end_hour - 2],
        "issued": [end_hour - 20, end_hour - 20],
        "p10": [0.2, 0.5],
        "p50": [1.0, 1.0],
        "p90": [1.5, 1.2],
        "actual": [1.25, 1.5],
        "naive": [1.0, None],
    }
    hass_storage[learning_storage_key(mock_config_entry.entry_id)] = _stored(
        artifact.model_id, 1.1, log
    )
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)

    data = mock_config_entry.runtime_data.coordinator.data
    assert data.adapted
    plain = forecast(artifact, data.history.kwh, data.forecast.start, PARIS)
    np.testing.assert_allclose(data.forecast.p50, 1.1 * plain.p50)
    assert hass.states.get(ADAPTATION).state == "adapted"
    # Two stored hours scored: errors 0.25 and 0.5; only the first has a
    # week-ago value (error 0.25); only the first lies inside its band.
    assert float(hass.states.get(_accuracy_entity("mae", 30)).state) == 0.375
    assert float(hass.states.get(_accuracy_entity("mase", 30)).state) == 1.0
    assert float(hass.states.get(_accuracy_entity("coverage", 30)).state) == 50.0
    assert hass.states.get(_accuracy_entity("mae", 30)).attributes == {
        "hours_scored": 2,
        "hours_with_week_ago": 1,
        "unit_of_measurement": "kWh",
        "state_class": "measurement",
        "friendly_name": "Kilowise Home energy Forecast error, last 30 days",
    }


async def test_calibration_of_another_model_is_not_used(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mock_config_entry: MockConfigEntry,
    source_statistics: None,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A calibration fitted on another model's errors is left aside, and one
    for the model in use is fitted at the next night."""
    hass_storage[learning_storage_key(mock_config_entry.entry_id)] = _stored(
        "kilowise-global-19990101000000", 1.3
    )
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert not mock_config_entry.runtime_data.coordinator.data.adapted
    sensor = hass.states.get(ADAPTATION)
    assert sensor.state == "bundled_not_checked"
    assert sensor.attributes["next_check"] == FIRST_NIGHT.isoformat()


async def test_model_replaced_while_running(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """When the model in use changes, the calibration of the old one stops
    applying at once and a new fit is planned for the coming night."""
    entry = init_integration
    await hass.services.async_call(
        DOMAIN, SERVICE_RETRAIN, {"config_entry_id": entry.entry_id}, blocking=True
    )
    coordinator = entry.runtime_data.coordinator
    assert coordinator.data.adapted
    assert hass.states.get(ADAPTATION).attributes["next_check"] == (
        "2027-02-16T03:30:00+01:00"
    )
    old = coordinator.artifact
    coordinator.artifact = dataclasses.replace(
        old, manifest={**old.manifest, "model_id": "kilowise-home-test"}
    )
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert not coordinator.data.adapted
    sensor = hass.states.get(ADAPTATION)
    assert sensor.state == "bundled_not_checked"
    assert sensor.attributes["next_check"] == FIRST_NIGHT.isoformat()


async def test_unusable_stored_state_starts_afresh(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mock_config_entry: MockConfigEntry,
    source_statistics: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A damaged store is reported in the log and replaced, never a crash."""
    stored = _stored("x", 1.0)
    stored["data"]["adaptation"]["reason"] = "magic"
    stored["data"]["forecast_log"]["hours"] = [3, 2]
    hass_storage[learning_storage_key(mock_config_entry.entry_id)] = stored
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(ADAPTATION).state == "bundled_not_checked"
    assert "stored adaptation of Kilowise Home energy is not usable" in caplog.text
    assert "stored forecast log of Kilowise Home energy is not usable" in caplog.text
    # The log started empty, then took the first forecast's hours of today.
    assert len(mock_config_entry.runtime_data.learning.log) == 12


async def test_start_up_never_waits_for_the_store(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    source_statistics: None,
) -> None:
    """Set-up finishes and the forecast sensors work while the store is read."""
    release = asyncio.Event()
    original = Store.async_load

    async def slow_load(self: Store[Any]) -> Any:
        # Only the learning store is slow; the model record is read at set-up.
        if self.key == learning_storage_key(mock_config_entry.entry_id):
            await release.wait()
        return await original(self)

    with patch.object(Store, "async_load", slow_load):
        mock_config_entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await hass.async_block_till_done()
        learning = mock_config_entry.runtime_data.learning
        assert mock_config_entry.state is ConfigEntryState.LOADED
        assert not learning.loaded
        assert hass.states.get(FORECAST).state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)
        assert hass.states.get(ADAPTATION).state == STATE_UNAVAILABLE
        release.set()
        await hass.async_block_till_done(wait_background_tasks=True)
    assert learning.loaded
    assert hass.states.get(ADAPTATION).state == "bundled_not_checked"


async def test_removing_the_entry_removes_what_it_learned(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Kilowise keeps nothing once its entry is deleted."""
    key = learning_storage_key(init_integration.entry_id)
    await hass.config_entries.async_unload(init_integration.entry_id)
    assert key in hass_storage  # written when the entry unloaded
    await hass.config_entries.async_remove(init_integration.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage


async def test_live_accuracy_as_days_pass(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    household: np.ndarray,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """Nine days pass; each forecast hour is scored when its statistics come in.

    The expected numbers are computed here from the forecasts as first issued
    on each hour's own local day and from the hours imported into the recorder.
    """
    entry = init_integration
    issued: dict[datetime, tuple[float, float, float]] = {}

    def take(coordinator: Any) -> None:
        """The hours of today (Paris) not yet forecast, as this forecast says."""
        data = coordinator.data
        if data is None or not coordinator.last_update_success:
            return
        fc = data.forecast
        midnight = data.next_local_midnight(1)
        for i in range(fc.hours):
            start = fc.hour_start(i)
            if start < midnight and start not in issued:
                issued[start] = (float(fc.p10[i]), float(fc.p50[i]), float(fc.p90[i]))

    take(entry.runtime_data.coordinator)
    assert len(issued) == 12  # 12:00 to 23:00 in Paris

    # The 7-day sensors start disabled; enable them. Home Assistant reloads
    # the entry 30 s later: what was learned so far is written and read back.
    before_reload = entry.runtime_data.learning
    entity_registry = er.async_get(hass)
    for key in ("mae_7d", "mase_7d", "coverage_7d"):
        entity_id = entity_registry.async_get_entity_id(
            "sensor", DOMAIN, f"{entry.entry_id}_{key}"
        )
        assert entity_registry.async_get(entity_id).disabled_by is not None
        entity_registry.async_update_entity(entity_id, disabled_by=None)
    await _move_to(hass, freezer, DATA_END + timedelta(minutes=5, seconds=31))
    learning = entry.runtime_data.learning
    assert learning is not before_reload
    assert len(learning.log) == 12
    coordinator = entry.runtime_data.coordinator
    coordinator.async_add_listener(lambda: take(coordinator))
    for days in (7, 30):
        for kind in ("mae", "mase", "coverage"):
            assert hass.states.get(_accuracy_entity(kind, days)).state == STATE_UNKNOWN

    # Day by day: the house uses what it used a week before, scaled a little
    # differently each day, and the recorder gets each hour's statistics.
    used = list(_meter_view(household))
    total = meter_statistics(household)[-1]["sum"]
    imported_until = DATA_END
    for day in range(9):
        midnight = datetime.combine(
            imported_until.astimezone(PARIS).date() + timedelta(days=1),
            datetime.min.time(),
            PARIS,
        ).astimezone(UTC)
        rows = []
        when = imported_until
        while when < midnight:
            week_ago = used[len(used) - 168]
            value = (0.5 if np.isnan(week_ago) else week_ago) * (0.8 + 0.05 * day)
            total += value
            rows.append({"start": when, "state": total, "sum": total})
            used.append(value)
            when += HOUR
        await async_import(hass, SOURCE, "kWh", rows)
        imported_until = midnight
        await _move_to(hass, freezer, midnight + timedelta(minutes=5))

    end = imported_until
    first = DATA_END - DATA_HOURS * HOUR  # hour of used[0]

    def expected(days: int) -> dict[str, float]:
        errors, naive_errors, with_naive, inside = [], [], [], []
        for start, (p10, p50, p90) in issued.items():
            if not end - days * 24 * HOUR <= start < end:
                continue
            index = int((start - first) / HOUR)
            actual = used[index]
            week_ago = used[index - 168]
            errors.append(abs(actual - p50))
            inside.append(p10 <= actual <= p90)
            if not np.isnan(week_ago):
                with_naive.append(abs(actual - p50))
                naive_errors.append(abs(actual - week_ago))
        return {
            "mae": float(np.mean(errors)),
            "mase": float(np.sum(with_naive) / np.sum(naive_errors)),
            "coverage": 100 * float(np.mean(inside)),
            "hours": len(errors),
        }

    for days in (7, 30):
        want = expected(days)
        assert want["hours"] == (7 * 24 if days == 7 else 12 + 8 * 24)
        for kind, tolerance in (("mae", 1e-4), ("mase", 1e-4), ("coverage", 0.01)):
            state = hass.states.get(_accuracy_entity(kind, days))
            assert float(state.state) == pytest.approx(want[kind], abs=tolerance), (
                kind,
                days,
            )
            assert state.attributes["hours_scored"] == want["hours"]
    # The week and the month differ, since the house drifted day by day.
    assert (
        hass.states.get(_accuracy_entity("mae", 7)).state
        != hass.states.get(_accuracy_entity("mae", 30)).state
    )
    # Storage stays bounded, and holds what the sensors show.
    assert len(learning.log) <= CAPACITY
    await _move_to(hass, freezer, end + timedelta(minutes=7))
    stored = hass_storage[learning_storage_key(entry.entry_id)]["data"]["forecast_log"]
    assert len(stored["hours"]) == len(learning.log)
