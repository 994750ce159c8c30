"""Typical cycles learned from the Konstanz house's real sub-meter counters."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from custom_components.kilowise.engine.cycles import find_cycles, learn_cycle
from model_builder.datasets import default_data_dir

COUNTERS = (
    Path("opsd_household_residential4")
    / "household_data_60min_singleindex_residential4.csv"
)


def hourly_use(column: str) -> np.ndarray:
    """kWh per hour from a cumulative counter, as Home Assistant's sum changes."""
    with (default_data_dir() / COUNTERS).open(encoding="utf-8") as handle:
        values = [
            float(row[column]) if row[column] else np.nan
            for row in csv.DictReader(handle)
        ]
    counter = np.array(values)
    return np.diff(counter)


@pytest.mark.parametrize(
    ("column", "hours", "low", "high"),
    [
        ("DE_KN_residential4_dishwasher", 2, 0.6, 0.9),
        ("DE_KN_residential4_washing_machine", 3, 0.7, 1.0),
    ],
)
def test_konstanz_cycles(column: str, hours: int, low: float, high: float) -> None:
    """The dishwasher's and the washing machine's cycles, from their counters."""
    use = hourly_use(column)
    cycle = learn_cycle(use)
    assert cycle is not None
    # Hundreds of runs over 16 months, most of them of the typical length.
    assert cycle.cycles > 100
    assert cycle.typical_cycles > cycle.cycles / 2
    assert len(cycle.profile_kwh) == hours
    assert cycle.duration_seconds == hours * 3600
    assert low < cycle.energy_kwh < high
    assert cycle.profile_kwh.sum() == pytest.approx(cycle.energy_kwh)
    assert cycle.energy_p25_kwh <= cycle.energy_kwh <= cycle.energy_p75_kwh
    # Every cycle found is a run of clearly active hours between quiet ones.
    for first, stop in find_cycles(use):
        assert use[first:stop].sum() >= 0.1
        assert stop - first <= 6


def test_washing_machine_heats_first() -> None:
    """The washing machine uses most of its energy in its first hour (heating)."""
    cycle = learn_cycle(hourly_use("DE_KN_residential4_washing_machine"))
    assert cycle is not None
    assert int(np.argmax(cycle.profile_kwh)) == 0
    assert cycle.profile_kwh[0] > 0.5 * cycle.energy_kwh


def test_gaps_and_edges_are_not_cycles() -> None:
    """A run touching a gap or the history's ends is left out; few runs, None."""
    use = np.zeros(48)
    use[0:2] = 0.5  # at the start: unknown beginning
    use[10:12] = [0.4, 0.3]
    use[20] = np.nan
    use[21:23] = 0.5  # right after a gap
    use[30:32] = [0.4, 0.4]
    assert find_cycles(use) == [(10, 12), (30, 32)]
    assert learn_cycle(use) is None
    assert learn_cycle(np.full(24, np.nan)) is None
