"""Day-ahead walk-forward evaluation against the plain seasonal baselines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
import warnings

import numpy as np
import numpy.typing as npt

from .engine import features, forecasting
from .series import HomeSeries
from .training import home_rows

WARMUP_HOURS = features.HISTORY_HOURS - features.MAX_HORIZON
"""History before the first scored day: four weeks, what every lag can read."""

BASELINES = ("same_hour_yesterday", "same_hour_last_week", "mean_same_hour_4_weeks")

RawPredictor = Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]
"""Feature rows in, raw quantile outputs (p10, p50, p90 columns) out."""


@dataclass(frozen=True)
class Score:
    """Mean absolute error (kWh per hour) and MASE against the weekly naive."""

    mae_kwh: float
    mase_weekly: float

    def as_dict(self) -> dict[str, float]:
        """Rounded for reports."""
        return {
            "mae_kwh": round(self.mae_kwh, 5),
            "mase_weekly": round(self.mase_weekly, 5),
        }


@dataclass(frozen=True)
class Evaluation:
    """Scores of the model and baselines on the same scored hours."""

    name: str
    hours_scored: int
    days: int
    model: Score
    baselines: dict[str, Score]
    coverage_p10_p90: float

    def as_dict(self) -> dict[str, object]:
        """The JSON object printed by ``evaluate --json``."""
        return {
            "hours_scored": self.hours_scored,
            "model": self.model.as_dict(),
            "baselines": {
                name: score.as_dict() for name, score in self.baselines.items()
            },
            "coverage_p10_p90": round(self.coverage_p10_p90, 5),
        }


def _midnights(
    home: HomeSeries, first: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Indices of local midnights from ``first`` on, and each day's length."""
    hour_of_day, _ = features.local_calendar(home.start, len(home.values), home.tz)
    starts = np.flatnonzero(hour_of_day == 0)
    following = np.append(starts[1:], starts[-1] + 24 if len(starts) else [])
    lengths = np.minimum(following - starts, features.MAX_HORIZON)
    keep = starts >= first
    return starts[keep].astype(np.int64), lengths[keep].astype(np.int64)


@dataclass(frozen=True)
class DayAheadHours:
    """Every hour forecast by a day-ahead walk-forward, in target order.

    ``target`` indexes ``home.values``; ``origin`` is the local midnight the
    forecast was made at. ``energy`` holds p10, p50 and p90 in kWh. ``actual``
    and the three baselines are NaN where the hour or its lag is missing.
    """

    target: npt.NDArray[np.int64]
    origin: npt.NDArray[np.int64]
    actual: npt.NDArray[np.float64]
    energy: npt.NDArray[np.float64]
    yesterday: npt.NDArray[np.float64]
    last_week: npt.NDArray[np.float64]
    four_weeks: npt.NDArray[np.float64]


def day_ahead(
    home: HomeSeries,
    predict: RawPredictor,
    scored_from: datetime | None = None,
) -> DayAheadHours:
    """Forecast each local day at its midnight from the hours before it alone.

    Days start at ``scored_from`` (default: after four weeks of history).
    """
    first = WARMUP_HOURS
    if scored_from is not None:
        offset = int((scored_from - home.start) / timedelta(hours=1))
        first = max(first, offset)
    starts, lengths = _midnights(home, first)
    if len(starts) == 0:
        raise ValueError(
            f"{home.name}: no whole day to score after four weeks of history"
        )
    x_rows, levels, actual, targets = [], [], [], []
    for length in np.unique(lengths):
        origins = starts[lengths == length]
        x, level, y, t = home_rows(home, origins, range(1, int(length) + 1))
        x_rows.append(x)
        levels.append(level)
        actual.append(y)
        targets.append(t)
    t = np.concatenate(targets)
    order = np.argsort(t, kind="stable")
    x = np.concatenate(x_rows)[order]
    level = np.concatenate(levels)[order]
    y = np.concatenate(actual)[order]
    t = t[order]
    series = home.values
    horizon = x[:, 0].astype(np.int64)
    weeks = np.stack([series[np.maximum(t - 168 * k, 0)] for k in range(1, 5)])
    weeks[:, t - 672 < 0] = np.nan  # lags before the series start do not exist
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        four_weeks = np.nanmean(weeks, axis=0)
    return DayAheadHours(
        target=t,
        origin=t - horizon + 1,
        actual=y,
        energy=forecasting.quantile_energy(predict(x), level),
        yesterday=series[t - 24 * ((horizon + 23) // 24)],
        last_week=series[t - 168],
        four_weeks=four_weeks,
    )


def walk_forward(
    home: HomeSeries,
    predict: RawPredictor,
    scored_from: datetime | None = None,
) -> Evaluation:
    """Score a day-ahead walk-forward (see ``day_ahead``) against the baselines.

    An hour is scored when its actual value and all baselines exist; missing
    hours are skipped, never imputed.
    """
    return score_hours(home.name, day_ahead(home, predict, scored_from))


def score_hours(name: str, hours: DayAheadHours) -> Evaluation:
    """MAE, MASE and coverage of day-ahead hours (see ``walk_forward``)."""
    scored = ~(
        np.isnan(hours.actual)
        | np.isnan(hours.yesterday)
        | np.isnan(hours.last_week)
        | np.isnan(hours.four_weeks)
    )
    if not scored.any():
        raise ValueError(f"{name}: no hour with an actual value and baselines to score")
    energy = hours.energy[scored]
    y = hours.actual[scored]
    weekly_mae = float(np.mean(np.abs(hours.last_week[scored] - y)))

    def score(prediction: npt.NDArray[np.float64]) -> Score:
        mae = float(np.mean(np.abs(prediction - y)))
        return Score(mae, mae / weekly_mae if weekly_mae > 0 else float("nan"))

    return Evaluation(
        name=name,
        hours_scored=int(scored.sum()),
        days=len(np.unique(hours.origin[scored])),
        model=score(energy[:, 1]),
        baselines={
            "same_hour_yesterday": score(hours.yesterday[scored]),
            "same_hour_last_week": score(hours.last_week[scored]),
            "mean_same_hour_4_weeks": score(hours.four_weeks[scored]),
        },
        coverage_p10_p90=float(np.mean((y >= energy[:, 0]) & (y <= energy[:, 2]))),
    )
