"""The log of issued forecasts: recording, scoring, windows, bounds, storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from custom_components.kilowise.engine.accuracy import (
    CAPACITY,
    PENDING_HOURS,
    RETENTION_DAYS,
    ForecastLog,
    hour_number,
)

HOUR = timedelta(hours=1)
T0 = datetime(2027, 3, 1, tzinfo=UTC)


def _record(
    log: ForecastLog, start: datetime, p50: list[float], until: datetime
) -> int:
    values = np.asarray(p50, dtype=np.float64)
    return log.record(
        start, values * 0.5, values, values * 1.5, until=until, issued=start
    )


def test_keeps_the_first_forecast_of_each_hour() -> None:
    """Hours up to ``until`` are logged once; later forecasts do not replace them."""
    log = ForecastLog()
    assert _record(log, T0, [1.0, 2.0, 3.0, 4.0], T0 + 3 * HOUR) == 3
    assert _record(log, T0 + HOUR, [9.0, 9.0, 9.0, 9.0], T0 + 5 * HOUR) == 2
    assert list(log.hours - hour_number(T0)) == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(log.values["p50"], [1.0, 2.0, 3.0, 9.0, 9.0])
    np.testing.assert_allclose(log.values["p10"], [0.5, 1.0, 1.5, 4.5, 4.5])
    assert list(log.issued - hour_number(T0)) == [0, 0, 0, 1, 1]
    assert not log.scored.any()


def test_scores_when_the_hours_arrive() -> None:
    """Actual use and the week-ago value come from the hourly history."""
    log = ForecastLog()
    _record(log, T0, [1.0, 1.0, 1.0], T0 + 3 * HOUR)
    history = np.arange(200, dtype=np.float64)  # hour i of the history used i kWh
    history[-1] = np.nan  # the newest hour is not compiled yet
    end = T0 + 2 * HOUR  # the history ends two hours into the log
    assert log.score(end, history) == 1  # hour 0 only: hour 1 is NaN, hour 2 later
    first = len(history) - 2
    assert log.values["actual"][0] == first
    assert log.values["naive"][0] == first - 168
    assert list(log.scored) == [True, False, False]
    # Later the missing hour arrives, with the next one.
    history = np.arange(202, dtype=np.float64)
    assert log.score(end + 2 * HOUR, history) == 2
    np.testing.assert_allclose(log.values["actual"], [first, first + 1, first + 2])
    # Scoring again changes nothing.
    assert log.score(end + 2 * HOUR, history * 0) == 0
    np.testing.assert_allclose(log.values["actual"], [first, first + 1, first + 2])


def test_week_ago_value_may_be_unknown() -> None:
    """Without a value a week before, an hour counts for MAE but not MASE."""
    log = ForecastLog()
    _record(log, T0, [1.0, 1.0], T0 + 2 * HOUR)
    history = np.array([np.nan] * 168 + [2.0, 0.5])
    history[1] = 0.0  # a week before the second hour
    log.score(T0 + 2 * HOUR, history)
    result = log.accuracy(T0 + 2 * HOUR, 7)
    assert result is not None
    assert result.hours == 2
    assert result.naive_hours == 1
    assert result.mae_kwh == pytest.approx((1.0 + 0.5) / 2)
    assert result.mase_weekly == pytest.approx(0.5 / 0.5)


def test_accuracy_by_hand_over_two_windows() -> None:
    """MAE, MASE and coverage over 7 and 30 days, computed by hand."""
    log = ForecastLog()
    end = T0 + 10 * 24 * HOUR
    # One hour per day for ten days: p50 = 1, band [0.5, 1.5].
    actual = [1.2, 0.4, 1.0, 2.0, 1.1, 0.9, 1.6, 0.3, 1.0, 1.4]
    naive = [1.0, 1.0, 1.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    for day in range(10):
        start = T0 + day * 24 * HOUR
        _record(log, start, [1.0], start + HOUR)
        history = np.full(169, np.nan)
        history[-1] = actual[day]
        history[0] = naive[day]
        log.score(start + HOUR, history)
    errors = np.abs(np.array(actual) - 1.0)
    naive_errors = np.abs(np.array(actual) - np.array(naive))
    inside = [(0.5 <= a <= 1.5) for a in actual]
    month = log.accuracy(end, 30)
    assert month is not None
    assert month.hours == 10
    assert month.mae_kwh == pytest.approx(errors.mean())
    assert month.mase_weekly == pytest.approx(errors.sum() / naive_errors.sum())
    assert month.coverage_p10_p90 == pytest.approx(np.mean(inside))
    week = log.accuracy(end, 7)  # days 3 to 9
    assert week is not None
    assert week.hours == 7
    assert week.mae_kwh == pytest.approx(errors[3:].mean())
    assert week.mase_weekly == pytest.approx(errors[3:].sum() / naive_errors[3:].sum())
    assert week.coverage_p10_p90 == pytest.approx(np.mean(inside[3:]))
    assert log.accuracy(T0, 7) is None  # nothing scored before the first hour


def test_prune_and_capacity_keep_storage_bounded() -> None:
    """Old hours are forgotten, unscorable ones given up, and the log never
    holds more than CAPACITY records."""
    log = ForecastLog()
    for day in range(60):
        start = T0 + day * 24 * HOUR
        _record(log, start, [1.0] * 24, start + 24 * HOUR)
        assert len(log) <= CAPACITY
    assert len(log) == CAPACITY
    now = T0 + 60 * 24 * HOUR
    # Score everything except the last three days.
    history = np.ones(60 * 24)
    history[-72:] = np.nan
    log.score(now, history)
    given_up = log.prune(now)
    # Pending hours that ended more than PENDING_HOURS ago are given up.
    assert given_up == 72 - PENDING_HOURS
    assert log.dropped == given_up
    assert hour_number(now) - log.hours.min() <= RETENTION_DAYS * 24
    assert (~log.scored).sum() == PENDING_HOURS


def test_storage_round_trip_and_refusals() -> None:
    """The stored form reads back equal; inconsistent data is refused."""
    log = ForecastLog()
    _record(log, T0, [1.0, 2.0, 3.0], T0 + 3 * HOUR)
    log.score(T0 + 2 * HOUR, np.array([1.5] * 170))
    stored = log.as_dict()
    again = ForecastLog.from_dict(stored)
    np.testing.assert_array_equal(again.hours, log.hours)
    for name, values in log.values.items():
        np.testing.assert_allclose(again.values[name], values)
    assert stored["actual"][2] is None
    for broken in (
        {**stored, "p50": stored["p50"][:2]},
        {**stored, "hours": [5, 4, 3]},
        {key: value for key, value in stored.items() if key != "naive"},
        {**stored, "p10": ["x", 1, 2]},
    ):
        with pytest.raises(ValueError, match="forecast log"):
            ForecastLog.from_dict(broken)
