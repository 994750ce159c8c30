"""The thermal estimate tried on the real Belgian house's nine temperatures.

The house (UCI appliances energy data) logged the temperature of nine places
every ten minutes from January to May 2016, but not when its heating ran. A
room's own temperature must stand in for the thermostat's ``hvac_action``:
after a three-reading (30-minute) centred mean, a ten-minute step that rises
is labelled ``heating`` and one that falls ``idle``. So "heating" here is any
warming (the heating, but also the sun and cooking), which is what a
thermostat's history shows too when its action is not reported exactly.

Each room is replayed as in Home Assistant: every segment the engine counts
is learned once it ends (``ThermalModel.add``), and from the third week on,
each warming run (that rose at least ``MIN_RISE``) and each cooling run is
predicted before it starts: how long it takes to change by its measured
amount at the rates learned so far, against the same at the default rates.
A preheat is checked on every warm-up of 1 °C or more: would heating planned
with the rate learned so far (margin included) have started early enough,
and how much too early. ``T6`` is outdoors (the north side of the building,
per the dataset's description); it is reported, not judged.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .datasets import default_data_dir
from .engine import thermal as th

HOUSE_FILE = Path("uci_appliances_energy") / "energydata_complete.csv"
ROOMS = {
    "T1": "kitchen",
    "T2": "living room",
    "T3": "laundry room",
    "T4": "office",
    "T5": "bathroom",
    "T6": "outside (north side)",
    "T7": "ironing room",
    "T8": "teenager room",
    "T9": "parents room",
}
OUTDOORS = "T6"
WARM_UP = timedelta(weeks=2)
"""Runs in the first two weeks are learned from, not scored."""
PREHEAT_RISE = 1.0
"""°C: warm-ups at least this large are the ones a preheat is checked on."""


def load_house(
    data_dir: Path | None = None,
) -> tuple[list[datetime], dict[str, npt.NDArray[np.float64]]]:
    """Times (UTC; the file's clock never changes) and °C per room column."""
    path = (data_dir or default_data_dir()) / HOUSE_FILE
    times: list[datetime] = []
    columns: dict[str, list[float]] = {name: [] for name in ROOMS}
    with path.open(encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                times.append(datetime.fromisoformat(row["date"]).replace(tzinfo=UTC))
                for name in ROOMS:
                    columns[name].append(float(row[name]))
            except (KeyError, ValueError) as err:
                raise ValueError(f"{path}:{line}: not a reading ({err})") from err
    return times, {name: np.asarray(v) for name, v in columns.items()}


def samples(
    times: list[datetime], temperature: npt.NDArray[np.float64]
) -> list[th.ThermalSample]:
    """Thermostat-like samples: the temperature and a warming/cooling action."""
    smooth = np.convolve(temperature, np.ones(3) / 3, mode="same")
    smooth[0], smooth[-1] = temperature[0], temperature[-1]
    result = []
    for index, when in enumerate(times):
        if index + 1 < len(times):
            action = "heating" if smooth[index + 1] > smooth[index] else "idle"
        else:
            action = None
        result.append(th.ThermalSample(when, float(smooth[index]), None, action))
    return result


@dataclass(frozen=True, slots=True)
class RoomResult:
    """One room replayed: its rates at the end, and the scores of the predictions.

    Errors are median absolute errors, in minutes, of predicted run durations
    with the rates learned so far (``learned``) and the default ones.
    ``preheat_on_time`` is the share of warm-ups of ``PREHEAT_RISE`` or more
    for which the planned heating time was long enough, ``preheat_early_min``
    the median of how much longer it was (negative: late).
    """

    column: str
    room: str
    heating_rate: float
    cooling_rate: float
    heating_runs: int
    heating_error_learned_min: float
    heating_error_default_min: float
    cooling_runs: int
    cooling_error_learned_min: float
    cooling_error_default_min: float
    warm_ups: int
    preheat_on_time: float
    preheat_early_min: float
    preheat_on_time_default: float
    preheat_early_default_min: float


def _minutes(run: th.Segment, rate: float) -> float:
    """Error (minutes) of the duration predicted for a run at ``rate``."""
    predicted = abs(run.t_end - run.t_start) / max(rate, 1e-3)
    return abs(predicted - run.hours) * 60


def _early(run: th.Segment, rate: float) -> float:
    """Minutes by which heating planned at ``rate`` exceeds the run's duration."""
    planned = th.heating_time(run.t_start, run.t_end, rate)
    return (planned - (run.end - run.start)).total_seconds() / 60


def _median(values: list[float]) -> float:
    return float(np.median(values)) if values else float("nan")


def evaluate_room(
    times: list[datetime], temperature: npt.NDArray[np.float64], column: str
) -> RoomResult:
    """Replay a room: predict each run with what was learned before it started."""
    runs = th.segments(samples(times, temperature))
    model = th.ThermalModel()
    scored_from = times[0] + WARM_UP
    learned_at = 0
    heating: list[tuple[float, float]] = []
    cooling: list[tuple[float, float]] = []
    early: list[tuple[float, float]] = []
    for run in runs:
        # Learn every run that ended before this one started.
        while learned_at < len(runs) and runs[learned_at].end <= run.start:
            model.add(runs[learned_at])
            learned_at += 1
        if run.start < scored_from:
            continue
        if run.kind is th.Kind.HEATING:
            rise = run.t_end - run.t_start
            if rise >= th.MIN_RISE:
                heating.append(
                    (
                        _minutes(run, model.heating_rate),
                        _minutes(run, th.DEFAULT_HEATING_RATE),
                    )
                )
            if rise >= PREHEAT_RISE:
                early.append(
                    (
                        _early(run, model.heating_rate),
                        _early(run, th.DEFAULT_HEATING_RATE),
                    )
                )
        else:
            cooling.append(
                (
                    _minutes(run, model.cooling_rate),
                    _minutes(run, th.DEFAULT_COOLING_RATE),
                )
            )
    for run in runs[learned_at:]:
        model.add(run)
    return RoomResult(
        column=column,
        room=ROOMS[column],
        heating_rate=model.heating_rate,
        cooling_rate=model.cooling_rate,
        heating_runs=len(heating),
        heating_error_learned_min=_median([h[0] for h in heating]),
        heating_error_default_min=_median([h[1] for h in heating]),
        cooling_runs=len(cooling),
        cooling_error_learned_min=_median([c[0] for c in cooling]),
        cooling_error_default_min=_median([c[1] for c in cooling]),
        warm_ups=len(early),
        preheat_on_time=float(np.mean([e[0] >= 0 for e in early]))
        if early
        else float("nan"),
        preheat_early_min=_median([e[0] for e in early]),
        preheat_on_time_default=float(np.mean([e[1] >= 0 for e in early]))
        if early
        else float("nan"),
        preheat_early_default_min=_median([e[1] for e in early]),
    )


def evaluate_house(data_dir: Path | None = None) -> list[RoomResult]:
    """Every room of the Belgian house."""
    times, columns = load_house(data_dir)
    return [evaluate_room(times, columns[name], name) for name in ROOMS]
