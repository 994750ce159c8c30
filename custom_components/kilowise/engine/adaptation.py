"""Per-home calibration of the global model, fitted on the hub with numpy.

The global model forecasts every home relative to its own recent level, so
what is left to learn from one home is small and slow-moving: whether its
actual use sits systematically above or below the median forecast at some
hours of the day, and whether its p10-p90 band is too wide or too narrow.
A :class:`Calibration` holds exactly that:

* a factor per local hour of day that multiplies p10, p50 and p90, shrunk
  towards 1 so that a few odd days cannot move the forecast much;
* two scales that stretch or shrink the distances p50-p10 and p90-p50 (the
  *band*), shrunk towards 1 in the same way.

There is no home-wide factor on purpose: the model's level already follows
the home's mean of the last week, and on the real homes an extra home-wide
factor followed the seasons a week late and made the next weeks worse.

Every factor is the minimiser of the loss that the quantile it changes is
judged by (absolute error for p50, pinball loss for p10 and p90), computed on
*walk-forward pairs*: the forecasts the bundled model made for the home's
past days, each from the hours before its local midnight alone, against what
the home then used.

:func:`adapt` fits on the three weeks before the most recent whole week and
keeps the calibration only when it beats the bundled model on that week
(lower MAE, and a pinball loss over p10/p50/p90 no higher); otherwise the
bundled model stays in use. Why per-hour factors rather than a regression on
the features: replayed on the real homes (``python bench/adaptation.py``), a
ridge regression of the residual on the engine's features won its check week
but lost on the weeks after it, while the shrunk factors did not.

Energies are kWh per hour; times are UTC hours unless named local.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from .features import (
    FEATURE_NAMES,
    HISTORY_HOURS,
    MAX_HORIZON,
    FloatArray,
    IntArray,
    feature_rows,
    local_calendar,
)
from .forecasting import quantile_energy

RawPredictor = Callable[[FloatArray], FloatArray]
"""Feature rows in, raw quantile outputs (relative to the level) out."""

QUANTILES: Final = (0.1, 0.5, 0.9)
"""The quantiles a calibration adjusts, in column order."""

CHECK_DAYS: Final = 7
"""Whole local days at the end of the history that the calibration is checked on."""

FIT_DAYS: Final = 21
"""Local days before the check week whose forecasts the calibration is fitted on.

Three weeks, not more: a home's pattern drifts with the seasons, and on the
real homes a longer window made the fit go stale sooner."""

ADAPTATION_HOURS: Final = (FIT_DAYS + CHECK_DAYS + 1) * 24 + HISTORY_HOURS
"""Hours of history :func:`adapt` reads: fit and check days, one day for the
alignment to local midnight, and the lags of the first forecast."""

MIN_FIT_HOURS: Final = 96
"""Hours with a forecast and an actual value needed to fit (four days)."""

MIN_CHECK_HOURS: Final = 96
"""Hours with an actual and a week-ago value needed in the check week."""

SHRINK_HOUR_HOURS: Final = 112.0
"""Pseudo-observations pulling an hour's factor towards 1: three weeks give a
local hour 21 observations, so its factor moves 21/133 of the way to what
they alone say."""

SHRINK_BAND_HOURS: Final = 336.0
"""Pseudo-hours pulling the band scales towards 1."""

FACTOR_LIMITS: Final = (0.67, 1.5)
BAND_LIMITS: Final = (0.5, 2.0)

_HOUR_COLUMN = FEATURE_NAMES.index("hour_of_day")
_TINY_KWH = 1e-6


class Reason:
    """Why the bundled or the adapted model is in use (stable codes)."""

    ADAPTED = "adapted"
    """The calibration beat the bundled model on the check week."""

    NOT_BETTER = "bundled_not_better"
    """The calibration did not beat the bundled model on the check week."""

    NOT_ENOUGH_HISTORY = "bundled_not_enough_history"
    """Too few hours to fit or to check (a new install: about two weeks needed)."""


@dataclass(frozen=True, slots=True)
class Pairs:
    """Day-ahead forecasts of the bundled model and what the home used.

    One row per forecast hour. ``raw`` holds the model's outputs (relative
    to ``level``, columns p10/p50/p90), ``actual`` the energy used (kWh, NaN
    when unknown), ``naive`` the energy used one week earlier (kWh, NaN when
    unknown), ``target`` the index of the hour in the series and ``origin``
    the index of the local midnight the forecast was made at.
    """

    features: FloatArray
    raw: FloatArray
    level: FloatArray
    actual: FloatArray
    naive: FloatArray
    target: IntArray
    origin: IntArray

    def select(self, mask: npt.NDArray[np.bool_]) -> Pairs:
        """The rows where ``mask`` is true."""
        return Pairs(
            self.features[mask],
            self.raw[mask],
            self.level[mask],
            self.actual[mask],
            self.naive[mask],
            self.target[mask],
            self.origin[mask],
        )

    def __len__(self) -> int:
        """Number of forecast hours."""
        return len(self.target)


def local_midnights(start_utc: datetime, hours: int, tz: tzinfo) -> IntArray:
    """Indices of the hours that start a local day, for a series of ``hours``."""
    hour_of_day, _ = local_calendar(start_utc, hours, tz)
    midnights: IntArray = np.flatnonzero(hour_of_day == 0).astype(np.int64)
    return midnights


def day_ahead_pairs(
    predict: RawPredictor,
    series: FloatArray,
    start_utc: datetime,
    tz: tzinfo,
    origins: IntArray,
    *,
    batch_rows: int = 2048,
) -> Pairs:
    """Forecast each local day at its midnight from the hours before it alone.

    ``series`` is kWh per hour from ``start_utc`` (UTC, on the hour);
    ``origins`` are indices of local midnights. Each day's hours up to the
    next midnight (23, 24 or 25 with daylight saving) are forecast, as far
    as the series reaches. Origins without ``MIN_LEVEL_HOURS`` of history in
    the week before are skipped, as the live forecast would be. The model is
    evaluated ``batch_rows`` rows at a time to bound memory on a small hub.
    """
    series = np.asarray(series, dtype=np.float64)
    n = len(series)
    # One hour past the end, so that a series ending at midnight ends its day.
    hour_of_day, weekday = local_calendar(start_utc, n + 1, tz)
    all_midnights = np.flatnonzero(hour_of_day == 0)
    origins = np.asarray(origins, dtype=np.int64)
    following = np.searchsorted(all_midnights, origins, side="right")
    next_midnight = np.where(
        following < len(all_midnights),
        all_midnights[np.minimum(following, len(all_midnights) - 1)],
        origins + 24,
    )
    lengths = np.minimum(next_midnight - origins, MAX_HORIZON)
    origin = np.repeat(origins, lengths)
    horizon = np.concatenate(
        [np.arange(1, length + 1, dtype=np.int64) for length in lengths]
        or [np.zeros(0, dtype=np.int64)]
    )
    target = origin + horizon - 1
    inside = target < n
    origin, horizon, target = origin[inside], horizon[inside], target[inside]
    rows = feature_rows(series, origin, horizon, hour_of_day[target], weekday[target])
    keep = rows.usable
    matrix = rows.matrix[keep]
    raw = np.empty((len(matrix), len(QUANTILES)), dtype=np.float64)
    for begin in range(0, len(matrix), batch_rows):
        raw[begin : begin + batch_rows] = predict(matrix[begin : begin + batch_rows])
    target = target[keep]
    week_ago = target - 168
    naive = np.where(week_ago >= 0, series[np.maximum(week_ago, 0)], np.nan)
    return Pairs(
        features=matrix,
        raw=np.sort(raw, axis=1),
        level=rows.level[keep],
        actual=series[target],
        naive=naive,
        target=target,
        origin=origin[keep],
    )


def _weighted_quantile(
    values: FloatArray, weights: FloatArray, quantile: float
) -> float:
    """The smallest value whose cumulative weight reaches ``quantile``.

    It minimises the weighted pinball loss of ``quantile`` over ``values``.
    """
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    index = int(np.searchsorted(cumulative, quantile * cumulative[-1]))
    return float(values[order][min(index, len(values) - 1)])


def _shrunk(estimate: float, prior: float, hours: float, strength: float) -> float:
    """``estimate`` pulled towards ``prior``: by half when ``hours == strength``."""
    return prior + hours / (hours + strength) * (estimate - prior)


@dataclass(frozen=True, slots=True)
class Calibration:
    """A per-home correction of the bundled model's quantiles.

    ``hour_factor[h]`` multiplies p10, p50 and p90 of a local hour ``h``;
    ``lower_scale`` and ``upper_scale`` stretch the distances p50-p10 and
    p90-p50 before that. ``fit_hours`` counts the forecast hours it was
    fitted on.
    """

    hour_factor: FloatArray
    lower_scale: float
    upper_scale: float
    fit_hours: int

    def adjust(self, features: FloatArray, raw: FloatArray) -> FloatArray:
        """Calibrated raw outputs (relative to the level) for feature rows.

        Outputs are sorted and floored at zero first, as the forecast does,
        so the band is stretched around the median the home would have seen.
        """
        ordered = np.maximum(np.sort(np.asarray(raw, dtype=np.float64), axis=1), 0.0)
        hour = np.asarray(features, dtype=np.float64)[:, _HOUR_COLUMN]
        factor = self.hour_factor[np.clip(hour, 0, 23).astype(np.intp)]
        middle = ordered[:, 1]
        lower = middle - self.lower_scale * (middle - ordered[:, 0])
        upper = middle + self.upper_scale * (ordered[:, 2] - middle)
        adjusted: FloatArray = np.column_stack((lower, middle, upper)) * factor[:, None]
        return adjusted

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form (for storage and diagnostics)."""
        return {
            "hour_factor": [round(float(v), 6) for v in self.hour_factor],
            "lower_scale": round(self.lower_scale, 6),
            "upper_scale": round(self.upper_scale, 6),
            "fit_hours": self.fit_hours,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        """Read :meth:`as_dict`'s form back; ``ValueError`` when it is not valid."""
        try:
            factor = np.asarray(data["hour_factor"], dtype=np.float64)
            lower = float(data["lower_scale"])
            upper = float(data["upper_scale"])
            fit_hours = int(data["fit_hours"])
        except (KeyError, TypeError) as err:
            raise ValueError(f"not a calibration: {err}") from err
        low, high = FACTOR_LIMITS
        if factor.shape != (24,) or not np.all((factor >= low) & (factor <= high)):
            raise ValueError("hour_factor must be 24 numbers within the limits")
        for scale in (lower, upper):
            if not BAND_LIMITS[0] <= scale <= BAND_LIMITS[1]:
                raise ValueError("band scales must be within the limits")
        return cls(factor, lower, upper, fit_hours)


def _energies(pairs: Pairs, calibration: Calibration | None) -> FloatArray:
    raw = (
        pairs.raw
        if calibration is None
        else calibration.adjust(pairs.features, pairs.raw)
    )
    return quantile_energy(raw, pairs.level)


def fit_calibration(pairs: Pairs) -> Calibration | None:
    """Fit a calibration on walk-forward pairs; None below ``MIN_FIT_HOURS``."""
    known = ~np.isnan(pairs.actual)
    if np.count_nonzero(known) < MIN_FIT_HOURS:
        return None
    pairs = pairs.select(known)
    energy = _energies(pairs, None)
    actual = pairs.actual
    p10, p50, p90 = energy[:, 0], energy[:, 1], energy[:, 2]
    hour = pairs.features[:, _HOUR_COLUMN].astype(np.intp)
    positive = p50 > _TINY_KWH
    factor: FloatArray = np.ones(24)
    for h in range(24):
        chosen = positive & (hour == h)
        count = float(np.count_nonzero(chosen))
        if count:
            # The factor minimising the absolute error of factor * p50.
            best = _weighted_quantile(actual[chosen] / p50[chosen], p50[chosen], 0.5)
            factor[h] = _shrunk(best, 1.0, count, SHRINK_HOUR_HOURS)
    factor = np.clip(factor, *FACTOR_LIMITS)
    f = factor[hour]
    median = f * p50
    below = f * (p50 - p10)
    above = f * (p90 - p50)
    scales = []
    for width, distance in (
        (below, median - actual),  # how far under p50 the actual fell
        (above, actual - median),
    ):
        wide = width > _TINY_KWH
        if np.count_nonzero(wide) < MIN_FIT_HOURS // 2:
            scales.append(1.0)
            continue
        # The scale s minimising the pinball loss of p50 -/+ s * width.
        best = _weighted_quantile(distance[wide] / width[wide], width[wide], 0.9)
        scales.append(_shrunk(best, 1.0, float(len(actual)), SHRINK_BAND_HOURS))
    lower, upper = (float(np.clip(s, *BAND_LIMITS)) for s in scales)
    return Calibration(factor, lower, upper, len(actual))


@dataclass(frozen=True, slots=True)
class Score:
    """Accuracy of forecasts on a set of hours.

    ``mae_kwh``: mean absolute error of p50 (kWh per hour); ``mase_weekly``:
    that divided by the error of "same hour last week" on the same hours;
    ``coverage_p10_p90``: share of hours inside [p10, p90]; ``pinball``: mean
    pinball loss over p10, p50 and p90 (kWh). Hours need an actual value and
    a value a week before.
    """

    mae_kwh: float
    mase_weekly: float | None
    coverage_p10_p90: float
    pinball: float
    hours: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe, rounded."""
        return {
            "mae_kwh": round(self.mae_kwh, 5),
            "mase_weekly": None
            if self.mase_weekly is None
            else round(self.mase_weekly, 5),
            "coverage_p10_p90": round(self.coverage_p10_p90, 5),
            "pinball_kwh": round(self.pinball, 5),
            "hours": self.hours,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Score:
        """Read :meth:`as_dict`'s form back."""
        mase = data.get("mase_weekly")
        return cls(
            float(data["mae_kwh"]),
            None if mase is None else float(mase),
            float(data["coverage_p10_p90"]),
            float(data["pinball_kwh"]),
            int(data["hours"]),
        )


def scored(pairs: Pairs) -> Pairs:
    """The pairs that can be scored: actual and week-ago values known."""
    return pairs.select(~np.isnan(pairs.actual) & ~np.isnan(pairs.naive))


def score(pairs: Pairs, calibration: Calibration | None = None) -> Score | None:
    """Score the bundled model (or it calibrated) on the scorable pairs."""
    pairs = scored(pairs)
    if not len(pairs):
        return None
    energy = _energies(pairs, calibration)
    actual = pairs.actual
    mae = float(np.mean(np.abs(energy[:, 1] - actual)))
    naive = float(np.mean(np.abs(pairs.naive - actual)))
    losses = []
    for column, quantile in enumerate(QUANTILES):
        error = actual - energy[:, column]
        losses.append(np.mean(np.maximum(quantile * error, (quantile - 1) * error)))
    return Score(
        mae_kwh=mae,
        mase_weekly=mae / naive if naive > 0 else None,
        coverage_p10_p90=float(
            np.mean((actual >= energy[:, 0]) & (actual <= energy[:, 2]))
        ),
        pinball=float(np.mean(losses)),
        hours=len(pairs),
    )


@dataclass(frozen=True, slots=True)
class AdaptationResult:
    """What :func:`adapt` decided, and on what evidence.

    ``calibration`` is the calibration to use, None when the bundled model
    stays in use; ``candidate`` is the one fitted (whether kept or not).
    ``before`` and ``after`` score the bundled model and the candidate on
    the check week. Times are UTC.
    """

    reason: str
    calibration: Calibration | None
    candidate: Calibration | None
    before: Score | None
    after: Score | None
    fit_start: datetime | None
    check_start: datetime | None
    check_end: datetime | None
    fit_hours: int

    @property
    def accepted(self) -> bool:
        """True when the adapted model is in use."""
        return self.calibration is not None


def accepts(before: Score, after: Score) -> bool:
    """The acceptance rule: lower MAE, and a pinball loss no higher."""
    return after.mae_kwh < before.mae_kwh and after.pinball <= before.pinball


def adapt(
    predict: RawPredictor,
    series: FloatArray,
    start_utc: datetime,
    tz: tzinfo,
    *,
    since: datetime | None = None,
) -> AdaptationResult:
    """Fit a calibration for one home and keep it only if it beats the model.

    ``series`` is kWh per hour from ``start_utc`` (UTC, on the hour) up to
    the last complete hour, NaN where missing. The check week is the last
    ``CHECK_DAYS`` whole local days; the calibration is fitted on the
    ``FIT_DAYS`` days before it, then both models forecast the check week
    day-ahead, walk-forward, and the calibration is kept only when
    :func:`accepts` says so. With ``since``, days that start before it are
    neither fitted nor checked (their hours still feed the lags): a
    benchmark uses it to keep a home's training period out of the fit.
    """
    series = np.asarray(series, dtype=np.float64)
    start = start_utc.astimezone(UTC)
    # Midnights up to the end of the series included: a day is whole when
    # the next midnight is at or before the end.
    midnights = local_midnights(start, len(series) + 1, tz)
    whole = midnights[:-1]
    if since is not None:
        whole = whole[whole >= (since - start) / timedelta(hours=1)]
    check = whole[-CHECK_DAYS:] if len(whole) >= CHECK_DAYS else whole[:0]
    fit = whole[: len(whole) - len(check)][-FIT_DAYS:]

    def when(index: int) -> datetime:
        return start + timedelta(hours=int(index))

    if not len(check) or not len(fit):
        return AdaptationResult(
            Reason.NOT_ENOUGH_HISTORY, None, None, None, None, None, None, None, 0
        )
    pairs = day_ahead_pairs(predict, series, start, tz, np.concatenate((fit, check)))
    in_check = pairs.origin >= check[0]
    fit_pairs = pairs.select(~in_check)
    check_pairs = pairs.select(in_check)
    fit_hours = int(np.count_nonzero(~np.isnan(fit_pairs.actual)))
    check_end = when(midnights[-1])
    candidate = fit_calibration(fit_pairs)
    before = score(check_pairs)
    if candidate is None or before is None or before.hours < MIN_CHECK_HOURS:
        return AdaptationResult(
            Reason.NOT_ENOUGH_HISTORY,
            None,
            candidate,
            before,
            None,
            when(fit[0]),
            when(check[0]),
            check_end,
            fit_hours,
        )
    after = score(check_pairs, candidate)
    assert after is not None  # same hours as ``before``
    keep = accepts(before, after)
    return AdaptationResult(
        Reason.ADAPTED if keep else Reason.NOT_BETTER,
        candidate if keep else None,
        candidate,
        before,
        after,
        when(fit[0]),
        when(check[0]),
        check_end,
        fit_hours,
    )
