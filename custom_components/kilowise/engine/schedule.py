"""When to run an appliance: the cost of every admissible start, exactly.

Times are UTC seconds (floats). A *rate* is a piecewise-constant function of
time given as slots ``[starts[i], ends[i])`` with ``values[i]``: a price
(currency per kWh) or the household's expected load (kW). An appliance's
*profile* is the energy (kWh) it uses in each of its consecutive steps of
``step_seconds``, at constant power within a step.

The cost of starting at ``s`` is

    cost(s) = sum_i e_i / step * integral of rate over [s + i*step, s + (i+1)*step)

which is exact however the profile's steps and the rate's slots overlap: the
integral of a piecewise-constant rate is piecewise linear, and its values at
the slot boundaries are exact cumulative sums. As a function of ``s`` the cost
is piecewise linear too, with kinks only where a step boundary of the profile
meets a slot boundary of the rate (``s = boundary - k*step``). Its minimum over
a window of starts therefore lies at one of those kinks or at the window's
ends, so evaluating exactly those starts finds the true optimum over every
start time, not only over the slot grid (which is among them, ``k = 0``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .features import FloatArray

CHUNK = 4096
"""Candidate starts evaluated at once (bounds memory for long profiles)."""

COVERAGE_TOLERANCE_S = 1e-6
"""A run counts as fully priced when at most this many seconds lack a rate."""


class ScheduleError(ValueError):
    """Inputs the optimiser cannot use (unsorted slots, an empty profile...)."""


@dataclass(frozen=True, slots=True)
class Rate:
    """A piecewise-constant rate over UTC seconds; gaps have no rate."""

    starts: FloatArray
    ends: FloatArray
    values: FloatArray

    def __post_init__(self) -> None:
        """Check that the slots are sorted, non-empty and do not overlap."""
        starts, ends, values = self.starts, self.ends, self.values
        if not (starts.shape == ends.shape == values.shape) or starts.ndim != 1:
            raise ScheduleError("starts, ends and values must be 1-D of one length")
        if len(starts) and (
            np.any(ends <= starts)
            or np.any(starts[1:] < ends[:-1])
            or not np.all(np.isfinite(values))
        ):
            raise ScheduleError("slots must be finite, sorted and non-overlapping")

    @classmethod
    def from_lists(
        cls, starts: list[float], ends: list[float], values: list[float]
    ) -> Rate:
        """A rate from plain lists (seconds, seconds, value per slot)."""
        return cls(
            np.asarray(starts, dtype=np.float64),
            np.asarray(ends, dtype=np.float64),
            np.asarray(values, dtype=np.float64),
        )

    @classmethod
    def hourly(cls, first_hour: float, per_hour: FloatArray) -> Rate:
        """Consecutive hours from ``first_hour`` (UTC s) with one value each."""
        values = np.asarray(per_hour, dtype=np.float64)
        starts = first_hour + 3600.0 * np.arange(len(values), dtype=np.float64)
        return cls(starts, starts + 3600.0, values)

    @property
    def first(self) -> float:
        """Start of the first slot (UTC s)."""
        return float(self.starts[0])

    @property
    def last(self) -> float:
        """End of the last slot (UTC s)."""
        return float(self.ends[-1])

    def boundaries(self) -> FloatArray:
        """Every slot start and end, sorted, once each."""
        bounds: FloatArray = np.unique(np.concatenate([self.starts, self.ends]))
        return bounds

    def _knots(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Knots of the cumulative integral and of the covered time.

        Returns ``(x, integral, covered)``: at ``x`` (sorted, distinct) the
        integral of the rate and the time with a rate since the first slot.
        Between knots both are linear; outside they are flat.
        """
        x = np.empty(2 * len(self.starts))
        x[0::2], x[1::2] = self.starts, self.ends
        length = self.ends - self.starts
        integral = np.empty_like(x)
        covered = np.empty_like(x)
        cum_integral = np.concatenate([[0.0], np.cumsum(self.values * length)])
        cum_covered = np.concatenate([[0.0], np.cumsum(length)])
        integral[0::2], integral[1::2] = cum_integral[:-1], cum_integral[1:]
        covered[0::2], covered[1::2] = cum_covered[:-1], cum_covered[1:]
        # Where one slot ends as the next begins, the two knots coincide with
        # equal values: keep one, so that x is strictly increasing.
        keep = np.concatenate([[True], np.diff(x) > 0])
        return x[keep], integral[keep], covered[keep]


@dataclass(frozen=True, slots=True)
class Profile:
    """Energy (kWh) per consecutive step of ``step_seconds``."""

    energy_kwh: FloatArray
    step_seconds: float

    def __post_init__(self) -> None:
        """Check the profile: at least one step, finite, non-negative energy."""
        energy = self.energy_kwh
        if (
            energy.ndim != 1
            or len(energy) == 0
            or not np.all(np.isfinite(energy))
            or np.any(energy < 0)
            or not self.step_seconds > 0
        ):
            raise ScheduleError("a profile needs steps of finite, non-negative kWh")

    @classmethod
    def flat(cls, energy_kwh: float, duration_seconds: float) -> Profile:
        """Constant power over the whole run: one step."""
        return cls(np.array([float(energy_kwh)]), float(duration_seconds))

    @classmethod
    def from_power(cls, power_kw: list[float], duration_seconds: float) -> Profile:
        """Power (kW) in equal steps spread over the run's duration."""
        step = float(duration_seconds) / len(power_kw)
        energy = np.asarray(power_kw, dtype=np.float64) * (step / 3600.0)
        return cls(energy, step)

    @property
    def steps(self) -> int:
        """Number of steps."""
        return len(self.energy_kwh)

    @property
    def duration_seconds(self) -> float:
        """Length of the run (s)."""
        return self.steps * self.step_seconds

    @property
    def total_kwh(self) -> float:
        """Energy of the whole run (kWh)."""
        return float(np.sum(self.energy_kwh))


def candidate_starts(
    rate: Rate, profile: Profile, earliest: float, latest_start: float
) -> FloatArray:
    """Every start in ``[earliest, latest_start]`` where the cost can have a kink.

    These are the starts at which a step boundary of the profile meets a slot
    boundary of the rate, plus the two ends of the window; the minimum of the
    cost over the window is at one of them. Sorted, distinct.
    """
    if latest_start < earliest:
        return np.empty(0)
    offsets = profile.step_seconds * np.arange(profile.steps + 1, dtype=np.float64)
    kinks = (rate.boundaries()[:, None] - offsets[None, :]).ravel()
    inside = kinks[(kinks >= earliest) & (kinks <= latest_start)]
    found: FloatArray = np.unique(np.concatenate([inside, [earliest, latest_start]]))
    return found


def run_costs(
    rate: Rate, profile: Profile, starts: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Cost of a run started at each of ``starts``, and the time it lacks a rate.

    ``cost[j] = sum_i e_i * (mean rate over step i of the run started at
    starts[j])``: with a price in currency per kWh it is the run's cost in
    that currency; with the household load in kW it is the load-weighted
    energy (kWh x kW). ``uncovered[j]`` is how many seconds of that run fall
    outside every slot; a run with ``uncovered > 0`` has no true cost.
    """
    starts = np.asarray(starts, dtype=np.float64)
    costs = np.empty(len(starts))
    uncovered = np.empty(len(starts))
    if len(rate.starts) == 0:
        costs.fill(0.0)
        uncovered.fill(profile.duration_seconds)
        return costs, uncovered
    x, integral, covered = rate._knots()
    # Relative to the first knot, so that UTC seconds (~1.8e9) do not eat the
    # precision of the sub-second differences.
    origin = x[0]
    x = x - origin
    offsets = profile.step_seconds * np.arange(profile.steps + 1, dtype=np.float64)
    weights = profile.energy_kwh / profile.step_seconds
    for begin in range(0, len(starts), CHUNK):
        times = (starts[begin : begin + CHUNK] - origin)[:, None] + offsets[None, :]
        step_integrals = np.diff(np.interp(times, x, integral), axis=1)
        costs[begin : begin + CHUNK] = step_integrals @ weights
        run_covered = np.interp(times[:, -1], x, covered) - np.interp(
            times[:, 0], x, covered
        )
        uncovered[begin : begin + CHUNK] = profile.duration_seconds - run_covered
    return costs, uncovered


@dataclass(frozen=True, slots=True)
class Schedule:
    """The admissible starts of a run, sorted by time, and their costs."""

    starts: FloatArray
    costs: FloatArray

    @property
    def empty(self) -> bool:
        """True when no start fits."""
        return len(self.starts) == 0

    def best(self) -> int:
        """Index of the cheapest start; the earliest among equal costs."""
        return int(np.argmin(self.costs))

    def cost_at(self, start: float) -> float | None:
        """Cost of an evaluated start, or None if it was not admissible."""
        index = np.searchsorted(self.starts, start)
        if index < len(self.starts) and self.starts[index] == start:
            return float(self.costs[index])
        return None

    def ranked(self, count: int, separation: float) -> list[int]:
        """Up to ``count`` cheapest starts at least ``separation`` s apart.

        The first is ``best()``; each next one is the cheapest start that is
        not within ``separation`` of one already chosen, so alternatives are
        real alternatives rather than the best start shifted by a minute.
        """
        order = np.lexsort((self.starts, self.costs))
        chosen: list[int] = []
        for index in order:
            start = self.starts[index]
            if all(abs(start - self.starts[c]) >= separation for c in chosen):
                chosen.append(int(index))
                if len(chosen) == count:
                    break
        return chosen


def schedule(
    rate: Rate, profile: Profile, earliest: float, latest_end: float
) -> Schedule:
    """Every admissible start of a run within ``[earliest, latest_end]`` and its cost.

    A start is admissible when the whole run lies in the window and has a
    rate throughout (a run reaching past the last known price is left out,
    never priced at zero).
    """
    latest_start = latest_end - profile.duration_seconds
    starts = candidate_starts(rate, profile, earliest, latest_start)
    costs, uncovered = run_costs(rate, profile, starts)
    ok = uncovered <= COVERAGE_TOLERANCE_S
    return Schedule(starts=starts[ok], costs=costs[ok])
