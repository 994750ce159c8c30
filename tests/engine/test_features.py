"""The features: lags, windows, gaps, calendar and the level."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from custom_components.kilowise.engine.features import (
    FEATURE_NAMES,
    HISTORY_HOURS,
    LEVEL_FLOOR_KWH,
    InsufficientHistoryError,
    feature_rows,
    forecast_rows,
    local_calendar,
)

COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}


def _rows(history: np.ndarray, hours: int = 48) -> np.ndarray:
    calendar = np.zeros(hours, dtype=np.int64)
    return forecast_rows(history, calendar, calendar).matrix


def test_lags_read_the_right_hours() -> None:
    """With values equal to their index, every lag names its own hour."""
    history = np.arange(800, dtype=np.float64)
    rows = forecast_rows(history, np.zeros(48, np.int64), np.zeros(48, np.int64))
    origin = 800
    level = np.mean(history[origin - 168 : origin])
    assert rows.level[0] == pytest.approx(level)
    first, later = rows.matrix[0] * level, rows.matrix[24] * level  # horizons 1 and 25
    assert rows.matrix[0, COLUMN["horizon"]] == 1
    assert first[COLUMN["lag_day"]] == pytest.approx(origin - 24)
    assert first[COLUMN["lag_week"]] == pytest.approx(origin - 168)
    assert first[COLUMN["lag_two_weeks"]] == pytest.approx(origin - 336)
    assert first[COLUMN["last_hour"]] == pytest.approx(origin - 1)
    assert first[COLUMN["mean_last_3h"]] == pytest.approx(origin - 2)
    assert first[COLUMN["same_hour_mean_4w"]] == pytest.approx(origin - 420)
    assert first[COLUMN["same_hour_mean_7d"]] == pytest.approx(origin - 24 * 4)
    # Horizon 25 targets hour 824: its most recent known same hour is 2 days back.
    assert later[COLUMN["lag_day"]] == pytest.approx(824 - 48)
    assert later[COLUMN["last_hour"]] == pytest.approx(origin - 1)


def test_no_feature_reads_the_future() -> None:
    """Changing anything at or after the origin changes no feature."""
    rng = np.random.default_rng(1)
    series = rng.random(1000)
    origins = np.full(48, 800, dtype=np.int64)
    horizons = np.arange(1, 49, dtype=np.int64)
    calendar = np.zeros(48, dtype=np.int64)
    before = feature_rows(series, origins, horizons, calendar, calendar).matrix
    series[800:] = 1e6
    after = feature_rows(series, origins, horizons, calendar, calendar).matrix
    np.testing.assert_array_equal(before, after)


def test_gaps_stay_gaps() -> None:
    """A missing lag is NaN, and means skip missing hours rather than fill them."""
    history = np.ones(800)
    history[800 - 168] = np.nan  # the hour one week before the first target
    history[800 - 24 * 3] = np.nan
    matrix = _rows(history)
    assert np.isnan(matrix[0, COLUMN["lag_week"]])
    assert matrix[0, COLUMN["same_hour_mean_4w"]] == pytest.approx(1.0)
    assert matrix[0, COLUMN["same_hour_mean_7d"]] == pytest.approx(1.0)
    assert matrix[0, COLUMN["valid_fraction_7d"]] == pytest.approx(166 / 168)


def test_short_history_degrades_to_recent_features() -> None:
    """Two days of history: weekly lags are missing, recent ones are there."""
    matrix = _rows(np.full(48, 0.5))
    assert np.isnan(matrix[:, COLUMN["lag_week"]]).all()
    assert np.isnan(matrix[:, COLUMN["same_hour_mean_4w"]]).all()
    assert matrix[0, COLUMN["lag_day"]] == pytest.approx(1.0)
    assert matrix[0, COLUMN["valid_fraction_7d"]] == pytest.approx(48 / 168)


def test_history_start_hides_older_hours() -> None:
    """Training can show the model a short history inside a long series."""
    series = np.ones(1000)
    origins = np.array([900], dtype=np.int64)
    one = np.ones(1, dtype=np.int64)
    rows = feature_rows(
        series, origins, one, one, one, history_start=np.array([900 - 100])
    )
    assert np.isnan(rows.matrix[0, COLUMN["lag_week"]])
    assert rows.matrix[0, COLUMN["lag_day"]] == pytest.approx(1.0)


def test_too_little_history_is_refused() -> None:
    """Fewer than 24 valid hours in the last week: no level, no forecast."""
    history = np.full(400, np.nan)
    history[-23:] = 1.0
    with pytest.raises(InsufficientHistoryError, match="24 valid hours"):
        _rows(history)


def test_level_floor_for_a_home_that_reads_zero() -> None:
    """An empty house gives finite features, not a division by zero."""
    matrix = _rows(np.zeros(HISTORY_HOURS))
    assert np.isfinite(matrix[:, :-1]).all()
    rows = forecast_rows(np.zeros(200), np.zeros(2, np.int64), np.zeros(2, np.int64))
    assert rows.level[0] == LEVEL_FLOOR_KWH


def test_scale_free() -> None:
    """A home using four times as much energy gets the very same features."""
    rng = np.random.default_rng(2)
    history = rng.gamma(2.0, 0.4, size=HISTORY_HOURS)
    np.testing.assert_array_equal(_rows(history), _rows(history * 4))


@pytest.mark.parametrize(
    ("start", "expected_hours"),
    [
        # Spring forward in Paris: 02:00 local does not exist.
        (datetime(2026, 3, 29, 0, tzinfo=UTC), [1, 3, 4, 5]),
        # Fall back: 02:00 local happens twice.
        (datetime(2026, 10, 24, 23, tzinfo=UTC), [1, 2, 2, 3]),
    ],
)
def test_local_calendar_follows_daylight_saving(
    start: datetime, expected_hours: list[int]
) -> None:
    """Hour of day is local, so the model sees the household's clock."""
    hours, weekdays = local_calendar(start, 4, ZoneInfo("Europe/Paris"))
    assert hours.tolist() == expected_hours
    assert weekdays.tolist() == [6, 6, 6, 6]  # both dates are Sundays


def test_calendar_needs_aware_time() -> None:
    """A naive datetime is ambiguous and refused."""
    with pytest.raises(ValueError, match="timezone-aware"):
        local_calendar(datetime(2026, 1, 1), 2, ZoneInfo("UTC"))
