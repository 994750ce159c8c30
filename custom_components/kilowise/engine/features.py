"""Scale-free forecast features, defined once for training and prediction.

Conventions used throughout the engine:

* A *series* is a float64 array of energy per hour in kWh, one value per UTC
  hour, oldest first, with ``NaN`` for an hour that is missing. Gaps stay gaps:
  nothing here imputes a value.
* An *origin* is the index of the first hour to forecast; only hours before it
  are read. A *horizon* ``h`` (1..48) names the target hour ``origin + h - 1``.
* Every energy feature is divided by the home's *level*, the mean energy per
  hour over the week before the origin, so one model serves homes of any size.
  The model predicts ``target / level``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
import warnings

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

FEATURE_SPEC_VERSION = 1

FEATURE_NAMES: tuple[str, ...] = (
    "horizon",
    "hour_of_day",
    "day_of_week",
    "lag_day",
    "lag_week",
    "lag_two_weeks",
    "same_hour_mean_7d",
    "same_hour_mean_4w",
    "day_mean_week_ago",
    "last_hour",
    "mean_last_3h",
    "mean_last_24h",
    "std_last_7d",
    "valid_fraction_7d",
)

MAX_HORIZON = 48
"""Hours forecast from one origin."""

LEVEL_WINDOW = 168
"""Hours before the origin that define the home's level (one week)."""

HISTORY_HOURS = 4 * 168 + MAX_HORIZON
"""Hours of history that every feature can use; more is never read."""

MIN_LEVEL_HOURS = 24
"""Valid hours needed in the level window before a forecast is made."""

LEVEL_FLOOR_KWH = 0.001
"""Smallest level used as a divisor (kWh per hour), for homes that read zero."""


class InsufficientHistoryError(ValueError):
    """Raised when too few valid hours precede an origin to set the level."""


@dataclass(frozen=True, slots=True)
class FeatureRows:
    """Feature rows for a set of (origin, horizon) pairs.

    ``matrix`` has one row per pair and one column per name in
    ``FEATURE_NAMES``; ``level`` is the divisor of each row in kWh per hour.
    """

    matrix: FloatArray
    level: FloatArray


def local_calendar(
    start_utc: datetime, hours: int, tz: tzinfo
) -> tuple[IntArray, IntArray]:
    """Return the local hour of day (0-23) and weekday (Monday 0) of each hour.

    ``start_utc`` is the start of the first hour; hour ``i`` starts at
    ``start_utc + i h``. Local time follows ``tz``, daylight saving included.
    """
    if start_utc.tzinfo is None:
        raise ValueError("start_utc must be timezone-aware")
    start = start_utc.astimezone(UTC)
    hour_of_day = np.empty(hours, dtype=np.int64)
    weekday = np.empty(hours, dtype=np.int64)
    step = timedelta(hours=1)
    for i in range(hours):
        local = (start + i * step).astimezone(tz)
        hour_of_day[i] = local.hour
        weekday[i] = local.weekday()
    return hour_of_day, weekday


def _window_sums(series: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Prefix sums of values, squares and valid counts (NaN counts as absent)."""
    valid = ~np.isnan(series)
    values = np.where(valid, series, 0.0)
    zero = np.zeros(1)
    return (
        np.concatenate((zero, np.cumsum(values))),
        np.concatenate((zero, np.cumsum(values * values))),
        np.concatenate((zero, np.cumsum(valid.astype(np.float64)))),
    )


def feature_rows(
    series: FloatArray,
    origins: IntArray,
    horizons: IntArray,
    hour_of_day: IntArray,
    day_of_week: IntArray,
    history_start: IntArray | None = None,
) -> FeatureRows:
    """Build feature rows for each ``(origins[i], horizons[i])`` pair.

    ``hour_of_day`` and ``day_of_week`` give the local calendar of each
    target hour (same length as ``origins``). Only ``series[history_start[i]
    : origins[i]]`` is read for row ``i``: training uses ``history_start`` to
    show the model homes with short histories, as a new install has.

    Raises ``InsufficientHistoryError`` if any row has fewer than
    ``MIN_LEVEL_HOURS`` valid hours in the week before its origin.
    """
    series = np.asarray(series, dtype=np.float64)
    origins = np.asarray(origins, dtype=np.int64)
    horizons = np.asarray(horizons, dtype=np.int64)
    if history_start is None:
        history_start = np.maximum(origins - HISTORY_HOURS, 0)
    lo = np.maximum(np.asarray(history_start, dtype=np.int64), 0)
    targets = origins + horizons - 1
    total, squares, count = _window_sums(series)

    def lag(steps: IntArray) -> FloatArray:
        index = targets - steps
        inside = (index >= lo) & (index < origins)
        return np.where(inside, series[np.clip(index, 0, len(series) - 1)], np.nan)

    def window(hours: int) -> tuple[FloatArray, FloatArray, FloatArray]:
        start = np.maximum(origins - hours, lo)
        n = count[origins] - count[start]
        s = total[origins] - total[start]
        q = squares[origins] - squares[start]
        return n, s, q

    def mean_of(n: FloatArray, s: FloatArray) -> FloatArray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, s / n, np.nan)

    n_week, s_week, q_week = window(LEVEL_WINDOW)
    if np.any(n_week < MIN_LEVEL_HOURS):
        raise InsufficientHistoryError(
            f"need {MIN_LEVEL_HOURS} valid hours in the week before the origin"
        )
    level = np.maximum(s_week / n_week, LEVEL_FLOOR_KWH)
    variance = np.maximum(q_week / n_week - (s_week / n_week) ** 2, 0.0)

    days_back = (horizons + 23) // 24  # most recent day whose same hour is known
    same_hour_7d = np.stack([lag(24 * (days_back + k)) for k in range(7)])
    same_hour_4w = np.stack([lag(168 * k) for k in range(1, 5)])
    week_ago_day = np.stack([lag(168 + k) for k in range(-12, 12)])
    n3, s3, _ = window(3)
    n24, s24, _ = window(24)

    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        # The mean of an all-NaN slice is NaN, which is what a gap should give.
        warnings.simplefilter("ignore", RuntimeWarning)
        columns = (
            horizons.astype(np.float64),
            np.asarray(hour_of_day, dtype=np.float64),
            np.asarray(day_of_week, dtype=np.float64),
            lag(24 * days_back) / level,
            lag(np.full_like(targets, 168)) / level,
            lag(np.full_like(targets, 336)) / level,
            np.nanmean(same_hour_7d, axis=0) / level,
            np.nanmean(same_hour_4w, axis=0) / level,
            np.nanmean(week_ago_day, axis=0) / level,
            lag(horizons) / level,
            mean_of(n3, s3) / level,
            mean_of(n24, s24) / level,
            np.sqrt(variance) / level,
            n_week / LEVEL_WINDOW,
        )
    return FeatureRows(matrix=np.column_stack(columns), level=level)


def forecast_rows(
    history: FloatArray,
    hour_of_day: IntArray,
    day_of_week: IntArray,
) -> FeatureRows:
    """Feature rows for the hours right after ``history`` (horizons 1..n).

    ``history[-1]`` is the last complete hour; ``hour_of_day`` and
    ``day_of_week`` describe the ``n`` target hours in local time.
    """
    history = np.asarray(history, dtype=np.float64)[-HISTORY_HOURS:]
    n = len(hour_of_day)
    origin = len(history)
    return feature_rows(
        history,
        np.full(n, origin, dtype=np.int64),
        np.arange(1, n + 1, dtype=np.int64),
        hour_of_day,
        day_of_week,
    )
