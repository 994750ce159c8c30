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


# Lag columns gathered in one step: the same hour on the 7 most recent known
# days (offset by whole days past the horizon), on the 4 previous weeks, every
# hour of the day one week before, and the last hour before the origin.
_SAME_HOUR_7D = slice(0, 7)
_SAME_HOUR_4W = slice(7, 11)
_WEEK_AGO_DAY = slice(11, 35)
_LAST_HOUR = 35
_LAG_STEPS = np.array(
    [24 * k for k in range(7)]
    + [168 * k for k in range(1, 5)]
    + [168 + k for k in range(-12, 12)]
    + [0],
    dtype=np.int64,
)
_LAG_BY_DAY = np.zeros(len(_LAG_STEPS), dtype=bool)
_LAG_BY_DAY[_SAME_HOUR_7D] = True


class InsufficientHistoryError(ValueError):
    """Raised when too few valid hours precede an origin to set the level."""


@dataclass(frozen=True, slots=True)
class FeatureRows:
    """Feature rows for a set of (origin, horizon) pairs.

    ``matrix`` has one row per pair and one column per name in
    ``FEATURE_NAMES``; ``level`` is the divisor of each row in kWh per hour.
    ``usable`` is False for rows whose origin has fewer than
    ``MIN_LEVEL_HOURS`` valid hours in the week before it (level NaN).
    """

    matrix: FloatArray
    level: FloatArray
    usable: npt.NDArray[np.bool_]


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
    step = timedelta(hours=1)
    first = start.astimezone(tz)
    last = (start + (hours - 1) * step).astimezone(tz)
    if first.utcoffset() == last.utcoffset() and hours <= 48:
        # No clock change in between (one can't come and go within 48 h):
        # local time advances with UTC, hour by hour.
        base = first.hour + np.arange(hours, dtype=np.int64)
        return base % 24, (first.weekday() + base // 24) % 7
    hour_of_day = np.empty(hours, dtype=np.int64)
    weekday = np.empty(hours, dtype=np.int64)
    for i in range(hours):
        local = (start + i * step).astimezone(tz)
        hour_of_day[i] = local.hour
        weekday[i] = local.weekday()
    return hour_of_day, weekday


def _window_sums(series: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Prefix sums of values, squares and valid counts (NaN counts as absent)."""
    valid = ~np.isnan(series)
    values = np.where(valid, series, 0.0)
    # One cumulative sum over the three rows (each row is summed in order, so
    # every value is the same as summing that row alone).
    sums = np.zeros((3, len(series) + 1))
    sums[0, 1:] = values
    sums[1, 1:] = values * values
    sums[2, 1:] = valid
    np.cumsum(sums, axis=1, out=sums)
    return sums[0], sums[1], sums[2]


def feature_rows(
    series: FloatArray,
    origins: IntArray,
    horizons: IntArray,
    hour_of_day: IntArray,
    day_of_week: IntArray,
    *,
    history_start: IntArray | None = None,
) -> FeatureRows:
    """Build feature rows for each ``(origins[i], horizons[i])`` pair.

    ``hour_of_day`` and ``day_of_week`` give the local calendar of each
    target hour (same length as ``origins``). Only ``series[history_start[i]
    : origins[i]]`` is read for row ``i``: training uses ``history_start`` to
    show the model homes with short histories, as a new install has.

    Rows without enough history to set the level are marked not usable.
    """
    series = np.asarray(series, dtype=np.float64)
    origins = np.asarray(origins, dtype=np.int64)
    horizons = np.asarray(horizons, dtype=np.int64)
    if history_start is None:
        history_start = np.maximum(origins - HISTORY_HOURS, 0)
    lo = np.maximum(np.asarray(history_start, dtype=np.int64), 0)
    targets = origins + horizons - 1
    total, squares, count = _window_sums(series)

    def window(hours: int) -> tuple[FloatArray, FloatArray, FloatArray]:
        start = np.maximum(origins - hours, lo)
        n = count[origins] - count[start]
        s = total[origins] - total[start]
        q = squares[origins] - squares[start]
        return n, s, q

    n_week, s_week, q_week = window(LEVEL_WINDOW)
    n3, s3, _ = window(3)
    n24, s24, _ = window(24)
    usable = n_week >= MIN_LEVEL_HOURS

    # Every lagged value in one gather: column j of ``lags`` is the series
    # ``_LAG_STEPS[j]`` hours before the target, NaN where it was not known
    # at the origin (or lies before the history start).
    days_back = (horizons + 23) // 24  # most recent day whose same hour is known
    steps = np.where(_LAG_BY_DAY, 24 * days_back[:, None], 0) + _LAG_STEPS
    steps[:, _LAST_HOUR] = horizons
    index = targets[:, None] - steps
    known = (index >= lo[:, None]) & (index < origins[:, None])
    lags = np.where(known, series.take(np.clip(index, 0, len(series) - 1)), np.nan)
    valid = ~np.isnan(lags)
    filled = np.where(valid, lags, 0.0)

    def mean(columns: slice) -> FloatArray:
        n = valid[:, columns].sum(axis=1)
        return np.where(
            n > 0, filled[:, columns].sum(axis=1) / np.maximum(n, 1), np.nan
        )

    with np.errstate(invalid="ignore", divide="ignore"):
        mean_week = np.where(usable, s_week / n_week, np.nan)
        level = np.maximum(mean_week, LEVEL_FLOOR_KWH)
        std_week = np.sqrt(np.maximum(q_week / n_week - mean_week**2, 0.0))
        relative = (
            np.column_stack(
                (
                    lags[:, 0],  # lag_day
                    lags[:, _SAME_HOUR_4W.start],  # lag_week
                    lags[:, _SAME_HOUR_4W.start + 1],  # lag_two_weeks
                    mean(_SAME_HOUR_7D),
                    mean(_SAME_HOUR_4W),
                    mean(_WEEK_AGO_DAY),
                    lags[:, _LAST_HOUR],
                    np.where(n3 > 0, s3 / n3, np.nan),
                    np.where(n24 > 0, s24 / n24, np.nan),
                    std_week,
                )
            )
            / level[:, None]
        )
    matrix = np.column_stack(
        (
            horizons.astype(np.float64),
            np.asarray(hour_of_day, dtype=np.float64),
            np.asarray(day_of_week, dtype=np.float64),
            relative,
            n_week / LEVEL_WINDOW,
        )
    )
    return FeatureRows(matrix=matrix, level=level, usable=usable)


def forecast_rows(
    history: FloatArray,
    hour_of_day: IntArray,
    day_of_week: IntArray,
) -> FeatureRows:
    """Feature rows for the hours right after ``history`` (horizons 1..n).

    ``history[-1]`` is the last complete hour; ``hour_of_day`` and
    ``day_of_week`` describe the ``n`` target hours in local time. Raises
    ``InsufficientHistoryError`` when the last week holds fewer than
    ``MIN_LEVEL_HOURS`` valid hours.
    """
    history = np.asarray(history, dtype=np.float64)[-HISTORY_HOURS:]
    n = len(hour_of_day)
    origin = len(history)
    rows = feature_rows(
        history,
        np.full(n, origin, dtype=np.int64),
        np.arange(1, n + 1, dtype=np.int64),
        hour_of_day,
        day_of_week,
    )
    if not rows.usable.all():
        raise InsufficientHistoryError(
            f"need {MIN_LEVEL_HOURS} valid hours in the last week, "
            f"have {int(np.count_nonzero(~np.isnan(history[-LEVEL_WINDOW:])))}"
        )
    return rows
