"""The occupancy forecast replayed on the real office (UCI occupancy data).

The office's minute-by-minute ground truth becomes the recorded history of an
occupancy ``binary_sensor`` (unavailable in the gaps between the published
files), which goes through the engine's own rules (``status_timeline``,
``hourly_shares``) exactly as a zone's sources do in Home Assistant. A new
install is then replayed: at each local midnight the model forecasts the
whole day from the hours before it, and learns that day's hours afterwards.

Scores are over hours whose status is known and whose same hour a week
earlier is known too, so every forecast is judged on the same hours: the
Brier score (mean squared difference between the probability and the
outcome; 0 is perfect, 0.25 is a coin) and the accuracy (the probability
read as occupied from 0.5 on). An hour's outcome is "occupied" when the room
was occupied at least half of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import csv
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from .datasets import default_data_dir
from .engine import occupancy as occ

OFFICE_TIME_ZONE = ZoneInfo("Europe/Brussels")
"""The office is in Mons, Belgium; its timestamps are local (no clock change in
the published span)."""

OFFICE_FILE = Path("uci_occupancy") / "occupancy_combined.csv"
SENSOR = "binary_sensor.office_occupancy"
GAP = timedelta(minutes=5)
"""Longer than this between two rows: the sensor was not reporting."""

HOUR = timedelta(hours=1)
WEEK = timedelta(weeks=1)


def load_office(data_dir: Path | None = None) -> occ.SourceHistory:
    """The office's occupancy as a binary sensor's recorded states.

    One state per published row (``on`` when occupied), and ``unavailable``
    from a few minutes after the last row before each gap.
    """
    path = (data_dir or default_data_dir()) / OFFICE_FILE
    changes: list[tuple[datetime, str | None]] = []
    last: datetime | None = None
    with path.open(encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                when = datetime.fromisoformat(row["date"]).replace(
                    tzinfo=OFFICE_TIME_ZONE
                )
                state = {"1": "on", "0": "off"}[row["Occupancy"].strip()]
            except (KeyError, ValueError) as err:
                raise ValueError(f"{path}:{line}: not a reading ({err})") from err
            if last is not None and when - last > GAP:
                changes.append((last + GAP, "unavailable"))
            changes.append((when, state))
            last = when
    if last is None:
        raise ValueError(f"{path}: no rows")
    changes.append((last + GAP, "unavailable"))
    return occ.SourceHistory(SENSOR, changes)


def office_hours(history: occ.SourceHistory) -> list[tuple[datetime, float]]:
    """Occupied share of each known local hour of the office (UTC hour starts)."""
    first = history.changes[0][0].astimezone(OFFICE_TIME_ZONE)
    start = first.replace(minute=0, second=0, microsecond=0)
    end = (
        history.changes[-1][0]
        .astimezone(OFFICE_TIME_ZONE)
        .replace(minute=0, second=0, microsecond=0)
        + HOUR
    )
    # Ground truth: no hold (the sensor is the occupancy itself), never stuck.
    timeline = occ.status_timeline(
        [history], start, end, hold=timedelta(0), stale_after=timedelta(days=365)
    )
    return occ.hourly_shares(timeline, start, end)


@dataclass(frozen=True, slots=True)
class Scores:
    """Brier score and accuracy of one way of forecasting, on the scored hours."""

    name: str
    brier: float
    accuracy: float


@dataclass(frozen=True, slots=True)
class Replay:
    """The outcome of replaying a new install on the office."""

    hours_known: int
    hours_scored: int
    first_scored: datetime
    last_scored: datetime
    occupied_share: float
    scores: tuple[Scores, ...]


Forecaster = Callable[[occ.OccupancyModel, datetime, int], list[float]]


def _model_forecast(
    model: occ.OccupancyModel, start: datetime, hours: int
) -> list[float]:
    return model.forecast(start, hours, OFFICE_TIME_ZONE)


def _unpooled(model: occ.OccupancyModel, start: datetime, hours: int) -> list[float]:
    """Each hour of the week on its own, with the prior (no pooling across days)."""
    prior = occ.PRIOR_PROFILES[model.prior]
    table = (model.occupied + model.prior_strength * prior) / (
        model.observed + model.prior_strength
    )
    return [
        float(table[occ.hour_of_week(start + i * HOUR, OFFICE_TIME_ZONE)])
        for i in range(hours)
    ]


def replay(
    shares: Sequence[tuple[datetime, float]],
    variants: Sequence[tuple[str, occ.Prior, Forecaster]] | None = None,
) -> Replay:
    """Forecast each local day at its midnight, then learn it; score the hours.

    ``variants`` are (name, prior, forecaster) of the learned model; the
    constant (share of occupied hours learned so far) and the same hour last
    week are always scored too, and the prior alone for each prior used.
    """
    if variants is None:
        variants = (
            ("Kilowise forecast (prior: daytime)", occ.Prior.DAYTIME, _model_forecast),
        )
    by_hour = dict(shares)
    days: dict[datetime, list[datetime]] = {}
    for start, _share in shares:
        local = start.astimezone(OFFICE_TIME_ZONE)
        midnight = local.replace(hour=0)
        days.setdefault(midnight, []).append(start)
    models = [occ.OccupancyModel(prior=prior) for _name, prior, _f in variants]
    priors = sorted({prior for _n, prior, _f in variants}, key=list(occ.Prior).index)
    columns: dict[str, list[float]] = {name: [] for name, _p, _f in variants}
    for prior in priors:
        columns[f"prior alone ({prior.value})"] = []
    columns["constant (share of occupied hours so far)"] = []
    columns["same hour last week"] = []
    outcomes: list[bool] = []
    scored: list[datetime] = []
    seen: list[float] = []
    for midnight in sorted(days):
        hours = days[midnight]
        forecasts = [
            forecaster(model, midnight, 24)
            for model, (_name, _prior, forecaster) in zip(models, variants, strict=True)
        ]
        for start in hours:
            index = int((start - midnight) / HOUR)
            week_ago = by_hour.get(start - WEEK)
            if week_ago is None or not seen:
                continue
            scored.append(start)
            outcomes.append(by_hour[start] >= occ.OCCUPIED_SHARE)
            for (name, _prior, _f), forecast in zip(variants, forecasts, strict=True):
                columns[name].append(forecast[index])
            for prior in priors:
                slot = occ.hour_of_week(start, OFFICE_TIME_ZONE)
                columns[f"prior alone ({prior.value})"].append(
                    float(occ.PRIOR_PROFILES[prior][slot])
                )
            columns["constant (share of occupied hours so far)"].append(
                float(np.mean(seen))
            )
            columns["same hour last week"].append(week_ago)
        day = [(start, by_hour[start]) for start in hours]
        for model in models:
            model.fold(day, OFFICE_TIME_ZONE)
        seen.extend(share >= occ.OCCUPIED_SHARE for _start, share in day)
    if not scored:
        raise ValueError("no hour has a known same hour a week earlier")
    return Replay(
        hours_known=len(shares),
        hours_scored=len(scored),
        first_scored=scored[0],
        last_scored=scored[-1],
        occupied_share=float(np.mean(outcomes)),
        scores=tuple(
            Scores(name, occ.brier(values, outcomes), occ.accuracy(values, outcomes))
            for name, values in columns.items()
        ),
    )


VARIANTS: tuple[tuple[str, occ.Prior, Forecaster], ...] = (
    ("Kilowise forecast (prior: daytime)", occ.Prior.DAYTIME, _model_forecast),
    ("Kilowise forecast (prior: flat)", occ.Prior.FLAT, _model_forecast),
    ("Kilowise forecast (prior: home, the wrong one)", occ.Prior.HOME, _model_forecast),
    ("hour of week alone, no pooling (prior: daytime)", occ.Prior.DAYTIME, _unpooled),
)
"""What the benchmark compares: the shipped model with each prior, and the
same counts without pooling the weekdays."""
