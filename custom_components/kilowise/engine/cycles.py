"""An appliance's typical cycle, learned from the energy history of its sub-meter.

Input: energy (kWh) per consecutive step of a sub-meter or smart plug (an
hourly long-term statistic in Home Assistant, so usually one hour per step),
NaN where unmeasured. A *cycle* is a maximal run of active steps; a step is
active when it uses clearly more than standby. The typical cycle is the most
common cycle length, and, over the cycles of that length, the median energy
of each step, scaled so that the whole cycle uses the median cycle energy.

The resolution is the history's: from hourly statistics the duration is a
whole number of hours and the shape says how the energy splits between them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .features import FloatArray

MIN_CYCLES = 3
"""Fewer cycles than this teach nothing reliable: the configured values stay."""

STANDBY_KW = 0.02
"""Mean power (kW) below which a step is standby (display, drying fan, Wi-Fi)."""

RELATIVE_THRESHOLD = 0.05
"""A step is also standby below this share of the meter's busy steps (99th
percentile), so that a large appliance's residual draw is not a cycle."""

MIN_CYCLE_KWH = 0.1
"""A run of active steps using less than this is noise, not a cycle."""

MAX_CYCLE_HOURS = 6.0
"""Longer runs are continuous loads (a fridge, a heater), not cycles."""


@dataclass(frozen=True, slots=True)
class Cycle:
    """A learned typical cycle of an appliance.

    ``profile_kwh`` is the energy per step of ``step_seconds``; its sum is
    ``energy_kwh``. ``cycles`` is how many cycles the history held and
    ``typical_cycles`` how many of them had the typical length.
    """

    profile_kwh: FloatArray
    step_seconds: float
    energy_kwh: float
    cycles: int
    typical_cycles: int
    energy_p25_kwh: float
    energy_p75_kwh: float

    @property
    def duration_seconds(self) -> float:
        """Length of the typical cycle (s)."""
        return len(self.profile_kwh) * self.step_seconds


def find_cycles(
    energy_kwh: FloatArray, step_seconds: float = 3600.0
) -> list[tuple[int, int]]:
    """``(first, stop)`` step indices of each cycle in the history.

    A cycle touching a gap (NaN) or either end of the history is left out:
    part of it is unknown.
    """
    energy = np.asarray(energy_kwh, dtype=np.float64)
    valid = ~np.isnan(energy)
    if not np.any(valid & (energy > 0)):
        return []
    step_hours = step_seconds / 3600.0
    busy = np.percentile(energy[valid & (energy > 0)], 99)
    threshold = max(STANDBY_KW * step_hours, RELATIVE_THRESHOLD * busy)
    active = valid & (energy > threshold)
    edges = np.diff(np.concatenate([[0], active.astype(np.int8), [0]]))
    firsts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    max_steps = MAX_CYCLE_HOURS / step_hours
    cycles = []
    for first, stop in zip(firsts, stops, strict=True):
        if first == 0 or stop == len(energy) or not (valid[first - 1] and valid[stop]):
            continue
        if stop - first > max_steps or np.sum(energy[first:stop]) < MIN_CYCLE_KWH:
            continue
        cycles.append((int(first), int(stop)))
    return cycles


def learn_cycle(energy_kwh: FloatArray, step_seconds: float = 3600.0) -> Cycle | None:
    """The typical cycle in a sub-meter's history, or None with too few cycles."""
    energy = np.asarray(energy_kwh, dtype=np.float64)
    cycles = find_cycles(energy, step_seconds)
    if len(cycles) < MIN_CYCLES:
        return None
    lengths = np.array([stop - first for first, stop in cycles])
    counts = np.bincount(lengths)
    # The most common length; among equally common ones, the shorter.
    typical = int(np.argmax(counts))
    same = [(first, stop) for first, stop in cycles if stop - first == typical]
    shapes = np.array([energy[first:stop] for first, stop in same])
    totals = np.array([np.sum(energy[first:stop]) for first, stop in cycles])
    shape = np.median(shapes, axis=0)
    median_total = float(np.median(totals))
    profile = shape * (median_total / float(np.sum(shape)))
    return Cycle(
        profile_kwh=profile,
        step_seconds=float(step_seconds),
        energy_kwh=median_total,
        cycles=len(cycles),
        typical_cycles=len(same),
        energy_p25_kwh=float(np.percentile(totals, 25)),
        energy_p75_kwh=float(np.percentile(totals, 75)),
    )
