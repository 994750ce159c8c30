"""Efficiency report of one home: forecast against actual, per day and per week.

For an energy provider: each day the model forecasts the day ahead from the
hours before midnight; the report puts the expected energy (the mean estimated
from p10/p50/p90) and the median next to what the home used, and flags long
runs of hours above the p90 forecast (consumption the home's own pattern does
not explain) as anomalies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
import time

import numpy as np
import numpy.typing as npt
import pandas as pd

from .engine import forecasting
from .evaluation import RawPredictor, day_ahead, score_hours
from .fleet import HomeSource
from .models import load_predictor

ANOMALY_RUN_HOURS = 6
"""Consecutive hours above p90 that make a day anomalous."""

REPORT_COLUMNS = [
    "home",
    "period",
    "start",
    "hours_measured",
    "expected_kwh",
    "median_kwh",
    "actual_kwh",
    "actual_over_expected",
    "p10_kwh",
    "p90_kwh",
    "hours_above_p90",
    "longest_run_above_p90",
    "anomaly",
]


@dataclass(frozen=True)
class HomeScore:
    """The report rows of one home and its summary figures."""

    home: str
    rows: pd.DataFrame
    hours_scored: int
    mase_weekly: float
    coverage_p10_p90: float
    anomaly_days: int
    seconds: float


@cache
def _predictor(model: Path) -> RawPredictor:
    """One model per worker process, loaded on first use."""
    return load_predictor(model)


def _runs_above(
    above: npt.NDArray[np.bool_], origin: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Length of the run of consecutive ``above`` hours ending at each hour, per day."""
    runs = np.zeros(len(above), dtype=np.int64)
    for i in range(len(above)):
        if above[i]:
            same_day = i > 0 and origin[i - 1] == origin[i]
            runs[i] = runs[i - 1] + 1 if same_day else 1
    return runs


def score_home(source: HomeSource, model: Path) -> HomeScore:
    """Day-ahead forecasts of a whole home against what it used."""
    started = time.process_time()
    home = source.load()
    predict = _predictor(model)
    hours = day_ahead(home, predict)
    measured = ~np.isnan(hours.actual)
    actual = np.where(measured, hours.actual, 0.0)
    energy = np.where(measured[:, None], hours.energy, 0.0)
    above = measured & (hours.actual > hours.energy[:, 2])
    start_times = pd.to_datetime(
        [home.start + timedelta(hours=int(t)) for t in hours.origin], utc=True
    ).tz_convert(home.tz)
    frame = pd.DataFrame(
        {
            "day": start_times.tz_localize(None).normalize(),
            "measured": measured,
            "actual": actual,
            "p10": energy[:, 0],
            "p50": energy[:, 1],
            "mean": forecasting.expected_energy(
                energy[:, 0], energy[:, 1], energy[:, 2]
            ),
            "p90": energy[:, 2],
            "above": above,
            "run": _runs_above(above, hours.origin),
        }
    )
    days = frame.groupby("day", sort=True).agg(
        hours_measured=("measured", "sum"),
        expected_kwh=("mean", "sum"),
        median_kwh=("p50", "sum"),
        actual_kwh=("actual", "sum"),
        p10_kwh=("p10", "sum"),
        p90_kwh=("p90", "sum"),
        hours_above_p90=("above", "sum"),
        longest_run_above_p90=("run", "max"),
    )
    days["anomaly"] = days["longest_run_above_p90"] >= ANOMALY_RUN_HOURS
    weeks = days.groupby(days.index.to_period("W-SUN").start_time).agg(
        hours_measured=("hours_measured", "sum"),
        expected_kwh=("expected_kwh", "sum"),
        median_kwh=("median_kwh", "sum"),
        actual_kwh=("actual_kwh", "sum"),
        p10_kwh=("p10_kwh", "sum"),
        p90_kwh=("p90_kwh", "sum"),
        hours_above_p90=("hours_above_p90", "sum"),
        longest_run_above_p90=("longest_run_above_p90", "max"),
        anomaly=("anomaly", "any"),
    )
    parts = []
    for period, totals in (("day", days), ("week", weeks)):
        table = totals.reset_index(names="start")
        table.insert(0, "period", period)
        table.insert(0, "home", home.name)
        parts.append(table)
    rows = pd.concat(parts, ignore_index=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        rows["actual_over_expected"] = np.where(
            rows["expected_kwh"] > 0, rows["actual_kwh"] / rows["expected_kwh"], np.nan
        )
    rows["start"] = rows["start"].dt.strftime("%Y-%m-%d")
    rows = rows.astype({"hours_measured": "int64", "hours_above_p90": "int64"})
    for column in (
        "expected_kwh",
        "median_kwh",
        "actual_kwh",
        "p10_kwh",
        "p90_kwh",
        "actual_over_expected",
    ):
        rows[column] = rows[column].round(4)
    evaluation = score_hours(home.name, hours)
    return HomeScore(
        home=home.name,
        rows=rows[REPORT_COLUMNS],
        hours_scored=evaluation.hours_scored,
        mase_weekly=evaluation.model.mase_weekly,
        coverage_p10_p90=evaluation.coverage_p10_p90,
        anomaly_days=int(days["anomaly"].sum()),
        seconds=time.process_time() - started,
    )
