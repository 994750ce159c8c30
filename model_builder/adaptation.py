"""On-hub adaptation replayed on the real homes: what it gains, week by week.

A new install is simulated on each home's held-out period (the last quarter
of a training home, which the bundled model never saw, or the whole of a home
never trained on): after ``weeks`` weeks of it, the engine's
:func:`adaptation.adapt` runs exactly as it does in Home Assistant (fit on the
weeks before the most recent one, keep the calibration only if it wins that
week), and the weeks that follow are scored day-ahead with the same
:func:`walk_forward` that scores the bundled model. The hours before the
held-out period only feed the model's lags (as long-term statistics recorded
before Kilowise was installed would); they are never fitted on or scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

import numpy as np

from .engine import adaptation
from .evaluation import Evaluation, RawPredictor, walk_forward
from .series import HomeSeries

HOUR = timedelta(hours=1)


def calibrated(
    predict: RawPredictor, calibration: adaptation.Calibration | None
) -> RawPredictor:
    """The model's predictor with a calibration applied (or unchanged)."""
    if calibration is None:
        return predict
    adjust = calibration.adjust
    return lambda rows: adjust(rows, predict(rows))


@dataclass(frozen=True)
class Totals:
    """Sums over scored hours, to pool several evaluations into one score."""

    hours: int = 0
    abs_error: float = 0.0
    naive_abs_error: float = 0.0
    covered: float = 0.0

    def add(self, evaluation: Evaluation) -> Totals:
        """These totals plus one evaluation's hours."""
        n = evaluation.hours_scored
        return Totals(
            self.hours + n,
            self.abs_error + evaluation.model.mae_kwh * n,
            self.naive_abs_error
            + evaluation.baselines["same_hour_last_week"].mae_kwh * n,
            self.covered + evaluation.coverage_p10_p90 * n,
        )

    @property
    def mase(self) -> float:
        """Pooled MAE divided by the pooled MAE of "same hour last week"."""
        return self.abs_error / self.naive_abs_error if self.naive_abs_error else np.nan

    @property
    def coverage(self) -> float:
        """Share of pooled hours inside [p10, p90]."""
        return self.covered / self.hours if self.hours else np.nan


def _index(home: HomeSeries, when: datetime) -> int:
    return int((when - home.start) / HOUR)


def _midnight_at_or_after(home: HomeSeries, index: int) -> int | None:
    midnights = adaptation.local_midnights(home.start, len(home.values), home.tz)
    later = midnights[midnights >= index]
    return int(later[0]) if len(later) else None


def _score(
    home: HomeSeries, predict: RawPredictor, begin: int, end: int
) -> Evaluation | None:
    """Day-ahead scores of the days from ``begin`` to ``end`` (indices), if any."""
    try:
        return walk_forward(home.head(end), predict, home.start + begin * HOUR)
    except ValueError:  # no scorable day in that span (gaps, too early)
        return None


@dataclass(frozen=True)
class InstallResult:
    """One simulated install, ``weeks`` weeks into the held-out period."""

    home: str
    weeks: int
    result: adaptation.AdaptationResult
    following_weeks: int
    bundled: Totals
    adapted: Totals


def simulate_install(
    home: HomeSeries,
    predict: RawPredictor,
    since: datetime,
    weeks: int,
    following_weeks: int = 4,
) -> InstallResult | None:
    """Adapt after ``weeks`` weeks from ``since``; score the weeks that follow.

    The calibration (or the bundled model, when it was not kept) is used
    unchanged for ``following_weeks`` weeks, a stricter test than the weekly
    refit the integration does. None when the home's data end too early.
    """
    now = _midnight_at_or_after(home, _index(home, since) + weeks * 168)
    if now is None:
        return None
    result = adaptation.adapt(
        predict, home.values[:now], home.start, home.tz, since=since
    )
    stop = min(now + following_weeks * 168, len(home.values))
    bundled = _score(home, predict, now, stop)
    if bundled is None:
        return None
    adapted = (
        _score(home, calibrated(predict, result.calibration), now, stop)
        if result.accepted
        else bundled
    )
    assert adapted is not None
    return InstallResult(
        home.name,
        weeks,
        result,
        following_weeks,
        Totals().add(bundled),
        Totals().add(adapted),
    )


@dataclass(frozen=True)
class WeeklyResult:
    """The integration's behaviour replayed: refit every week, use it a week."""

    home: str
    weeks_scored: int
    weeks_adapted: int
    bundled: Totals
    adapted: Totals
    worse_weeks: int


def simulate_weekly(
    home: HomeSeries,
    predict: RawPredictor,
    since: datetime,
    first_week: int = 2,
) -> WeeklyResult:
    """Refit each week from ``first_week`` weeks after ``since`` to the end.

    Each week is scored with the model in use during it: the calibration
    fitted at its first midnight if :func:`adaptation.adapt` kept it, the
    bundled model otherwise. ``worse_weeks`` counts weeks where the adapted
    model's MAE was higher than the bundled model's.
    """
    midnights = adaptation.local_midnights(home.start, len(home.values), home.tz)
    first = _index(home, since) + first_week * 168
    starts = midnights[midnights >= first][::7]
    bundled_total, adapted_total = Totals(), Totals()
    scored = adapted_weeks = worse = 0
    for begin, end in pairwise(starts):
        bundled = _score(home, predict, int(begin), int(end))
        if bundled is None:
            continue
        result = adaptation.adapt(
            predict, home.values[: int(begin)], home.start, home.tz, since=since
        )
        adapted = bundled
        if result.accepted:
            scored_adapted = _score(
                home, calibrated(predict, result.calibration), int(begin), int(end)
            )
            assert scored_adapted is not None
            adapted = scored_adapted
            adapted_weeks += 1
            worse += adapted.model.mae_kwh > bundled.model.mae_kwh
        scored += 1
        bundled_total = bundled_total.add(bundled)
        adapted_total = adapted_total.add(adapted)
    return WeeklyResult(
        home.name, scored, adapted_weeks, bundled_total, adapted_total, worse
    )


def held_out_start(home: HomeSeries, sources: dict[str, dict[str, object]]) -> datetime:
    """Where the bundled model's knowledge of a home ends.

    A training home's ``trained_until`` from the model's manifest; the start
    of a home the model never trained on.
    """
    source = sources.get(home.name, {})
    until = source.get("trained_until")
    if isinstance(until, str):
        return datetime.fromisoformat(until)
    return home.start


__all__ = [
    "InstallResult",
    "Totals",
    "WeeklyResult",
    "calibrated",
    "held_out_start",
    "simulate_install",
    "simulate_weekly",
]
