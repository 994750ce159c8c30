"""Benchmark of the run scheduler: how long one exact recommendation takes.

Run: ``python bench/schedule.py`` from the repository root (``scripts/bench
schedule`` does it in the project's environment). Each case is a 48-hour
window of prices (hourly or per 15 minutes) and a run profile; the figure is
the median time of ``engine.schedule.schedule`` (every admissible start,
evaluated exactly) over many runs, and how many starts it evaluated. A
recommendation is recomputed per appliance at every quarter hour, so these
times bound the scheduler's share of the hub's CPU.
"""

from __future__ import annotations

from pathlib import Path
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from custom_components.kilowise.engine.schedule import Profile, Rate, schedule

HOURS = 48
CASES = (
    ("hourly prices, flat 2 h run", 3600.0, Profile.flat(1.2, 7200.0)),
    ("hourly prices, learned 3 h cycle (hourly)", 3600.0, Profile(np.array([0.67, 0.1, 0.08]), 3600.0)),
    ("15-min prices, flat 2 h run", 900.0, Profile.flat(1.2, 7200.0)),
    ("15-min prices, 4-step power profile", 900.0, Profile.from_power([2.0, 0.2, 0.2, 1.8], 5400.0)),
    ("15-min prices, 1-minute profile of 3 h", 900.0, Profile(np.full(180, 0.01), 60.0)),
)  # fmt: skip


def main() -> None:
    """Print one line per case: median time (ms), starts evaluated."""
    rng = np.random.default_rng(0)
    print(f"{'case':<44} {'median ms':>10} {'starts':>7}")
    for name, slot, profile in CASES:
        count = int(HOURS * 3600 / slot)
        starts = 1.8e9 + slot * np.arange(count)
        rate = Rate(starts, starts + slot, rng.normal(0.2, 0.05, count))
        times = []
        for _ in range(30):
            begin = time.perf_counter()
            result = schedule(rate, profile, rate.first, rate.last)
            times.append(time.perf_counter() - begin)
        print(
            f"{name:<44} {1000 * statistics.median(times):>10.3f} "
            f"{len(result.starts):>7}"
        )


if __name__ == "__main__":
    main()
