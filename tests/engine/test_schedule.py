"""The run scheduler against a brute-force reference: exact on every case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from custom_components.kilowise.engine.prices import parse_tariff
from custom_components.kilowise.engine.schedule import (
    Profile,
    Rate,
    ScheduleError,
    candidate_starts,
    run_costs,
    schedule,
)

PARIS = ZoneInfo("Europe/Paris")


def brute_cost(rate: Rate, profile: Profile, start: float) -> float | None:
    """Cost of one run by explicit overlaps of every step with every slot."""
    total = 0.0
    covered = 0.0
    for index, energy in enumerate(profile.energy_kwh):
        begin = start + index * profile.step_seconds
        end = begin + profile.step_seconds
        for slot_start, slot_end, value in zip(
            rate.starts, rate.ends, rate.values, strict=True
        ):
            overlap = min(end, slot_end) - max(begin, slot_start)
            if overlap > 0:
                total += energy / profile.step_seconds * overlap * value
                covered += overlap
    if covered < profile.duration_seconds - 1e-6:
        return None
    return total


def random_rate(
    rng: np.random.Generator, slot_seconds: float, count: int, gaps: bool
) -> Rate:
    origin = datetime(2027, 3, 27, 22, tzinfo=UTC).timestamp()
    starts = origin + slot_seconds * np.arange(count)
    values = rng.normal(0.2, 0.1, count)
    keep = np.ones(count, dtype=bool)
    if gaps:
        keep[rng.choice(count, size=max(1, count // 10), replace=False)] = False
    return Rate(starts[keep], starts[keep] + slot_seconds, values[keep])


def random_profile(rng: np.random.Generator) -> Profile:
    steps = int(rng.integers(1, 8))
    step = float(rng.choice([60.0, 420.0, 900.0, 1800.0, 3600.0, 5000.0]))
    return Profile(rng.uniform(0, 1.5, steps), step)


@pytest.mark.parametrize("slot_seconds", [900.0, 3600.0])
@pytest.mark.parametrize("gaps", [False, True])
def test_every_candidate_cost_equals_brute_force(
    slot_seconds: float, gaps: bool
) -> None:
    """Each evaluated start costs exactly what explicit overlaps give."""
    rng = np.random.default_rng(int(slot_seconds) + gaps)
    for _ in range(40):
        rate = random_rate(rng, slot_seconds, int(rng.integers(8, 120)), gaps)
        profile = random_profile(rng)
        earliest = rate.first + float(rng.uniform(-3600, 7200))
        latest_end = rate.last - float(rng.uniform(0, 3600))
        result = schedule(rate, profile, earliest, latest_end)
        everything = candidate_starts(
            rate, profile, earliest, latest_end - profile.duration_seconds
        )
        for start in everything:
            expected = brute_cost(rate, profile, float(start))
            got = result.cost_at(float(start))
            if expected is None:
                assert got is None
            else:
                assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("slot_seconds", [900.0, 3600.0])
def test_best_start_beats_every_start_on_a_fine_grid(slot_seconds: float) -> None:
    """No start at all, on a 1-minute grid, is cheaper than the one chosen."""
    rng = np.random.default_rng(7 + int(slot_seconds))
    for _ in range(25):
        rate = random_rate(rng, slot_seconds, int(rng.integers(8, 60)), gaps=False)
        profile = random_profile(rng)
        earliest = rate.first + float(rng.uniform(0, 1800))
        latest_end = rate.last
        result = schedule(rate, profile, earliest, latest_end)
        if result.empty:
            continue
        best = float(result.costs[result.best()])
        grid = np.arange(earliest, latest_end - profile.duration_seconds, 60.0)
        fine, uncovered = run_costs(rate, profile, grid)
        assert np.all(uncovered <= 1e-6)
        assert best <= fine.min() + 1e-9
        # The brute force agrees with the vectorised costs on the grid too.
        for start in grid[:: max(1, len(grid) // 15)]:
            index = int(np.searchsorted(grid, start))
            assert fine[index] == pytest.approx(brute_cost(rate, profile, start))


def test_profile_spanning_slots_is_integrated_exactly() -> None:
    """A 90-minute run from 00:30 over hourly prices 1, 2, 4 (kWh at 1 kW)."""
    rate = Rate.from_lists([0, 3600, 7200], [3600, 7200, 10800], [1.0, 2.0, 4.0])
    profile = Profile.flat(1.5, 5400)
    costs, uncovered = run_costs(rate, profile, np.array([1800.0, 0.0, 5400.0]))
    # 30 min at 1 + 60 min at 2, 60 min at 1 + 30 min at 2, 30 min at 2 + 60 at 4.
    assert costs.tolist() == pytest.approx([0.5 + 2.0, 1.0 + 1.0, 1.0 + 4.0])
    assert uncovered.tolist() == [0.0, 0.0, 0.0]


def test_runs_past_known_prices_are_not_admissible() -> None:
    """A run reaching past the last price has no cost: it is left out, not free."""
    rate = Rate.from_lists([0, 3600], [3600, 7200], [5.0, 5.0])
    result = schedule(rate, Profile.flat(1.0, 3600), 0, 4 * 3600)
    assert result.starts.max() == 3600
    assert result.cost_at(5400) is None


def test_ranked_alternatives_do_not_overlap() -> None:
    """Alternatives are runs that do not overlap the best or each other."""
    values = [3, 1, 1, 2, 5, 0.5, 0.6, 4]
    rate = Rate.hourly(0.0, np.array(values, dtype=float))
    result = schedule(rate, Profile.flat(2.0, 7200), 0, 8 * 3600)
    ranked = result.ranked(3, separation=7200)
    starts = [float(result.starts[i]) for i in ranked]
    assert starts[0] == 5 * 3600
    for first in starts:
        for second in starts:
            assert first == second or abs(first - second) >= 7200


def test_dst_day_tariff_prices_every_real_quarter() -> None:
    """Over the night clocks go forward, a tariff gives 92 quarters, all priced."""
    tariff = parse_tariff(["all 00:00-24:00 0.30", "all 01:00-04:00 0.10"])
    day = datetime(2027, 3, 28, tzinfo=PARIS)
    series = tariff.series(day, day + timedelta(days=1), PARIS, "EUR")
    assert len(series.starts) == 92
    rate = series.rate()
    # Cheap hours 01:00-02:00 and 03:00-04:00 local (02:00 does not exist).
    cheap = [s for s, p in zip(series.starts, series.prices, strict=True) if p == 0.10]
    assert len(cheap) == 8
    profile = Profile.flat(2.0, 7200)
    result = schedule(rate, profile, rate.first, rate.last)
    best = datetime.fromtimestamp(float(result.starts[result.best()]), PARIS)
    assert best.isoformat() == "2027-03-28T01:00:00+01:00"
    assert float(result.costs[result.best()]) == pytest.approx(0.2)


def test_bad_inputs_are_refused() -> None:
    """Overlapping slots or a negative profile raise, never a wrong number."""
    with pytest.raises(ScheduleError):
        Rate.from_lists([0, 1800], [3600, 7200], [1, 1])
    with pytest.raises(ScheduleError):
        Profile(np.array([-1.0]), 60)
    with pytest.raises(ScheduleError):
        Profile(np.array([]), 60)
