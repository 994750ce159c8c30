"""Benchmark of the heating and cooling estimate on the real Belgian house.

Run: ``python bench/thermal.py`` from the repository root (``scripts/bench
thermal`` does it in the project's environment). Each of the nine
temperatures of the UCI appliances energy house is replayed as in Home
Assistant (see ``model_builder/thermal.py``): every warming and cooling run
from the third week on is predicted from the rates learned before it, and
from the default rates, and a preheat planned with each is checked against
every warm-up of 1 °C or more.
"""

from __future__ import annotations

from pathlib import Path
import sys
import time

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model_builder.engine import thermal as th
from model_builder.report import table
from model_builder.thermal import OUTDOORS, evaluate_house


def main() -> int:
    started = time.monotonic()
    rooms = evaluate_house()
    seconds = time.monotonic() - started
    rows = []
    markdown = []
    for room in rooms:
        name = f"{room.column} {room.room}" + (
            " (outdoors, not judged)" if room.column == OUTDOORS else ""
        )
        rows.append(
            [
                name,
                room.heating_rate,
                room.cooling_rate,
                room.heating_runs,
                room.heating_error_learned_min,
                room.heating_error_default_min,
                room.cooling_runs,
                room.cooling_error_learned_min,
                room.cooling_error_default_min,
                room.warm_ups,
                room.preheat_on_time,
                room.preheat_early_min,
                room.preheat_on_time_default,
                room.preheat_early_default_min,
            ]
        )
        markdown.append(
            f"| {name} | {room.heating_rate:.2f} | {room.cooling_rate:.2f} "
            f"| {room.heating_error_learned_min:.0f} ({room.heating_error_default_min:.0f}) "
            f"| {room.cooling_error_learned_min:.0f} ({room.cooling_error_default_min:.0f}) "
            f"| {room.warm_ups} | {100 * room.preheat_on_time:.0f} % "
            f"({100 * room.preheat_on_time_default:.0f} %) "
            f"| {room.preheat_early_min:.0f} ({room.preheat_early_default_min:.0f}) |"
        )
    print(
        "Rates (°C/h) at the end of the replay; errors: median absolute error "
        "(minutes) of each run's duration predicted before it started"
    )
    print(
        table(
            [
                "room",
                "heating",
                "cooling",
                "warming runs",
                "error",
                "error default",
                "cooling runs",
                "error",
                "error default",
                "warm-ups >= 1 °C",
                "preheat on time",
                "early by (min)",
                "on time default",
                "early by default",
            ],
            rows,
        )
    )
    print()
    print(
        f"For the README (default rates: heating {th.DEFAULT_HEATING_RATE} °C/h, "
        f"cooling {th.DEFAULT_COOLING_RATE} °C/h; default in brackets):"
    )
    print(
        "| room | heating °C/h | cooling °C/h | warming run error, min "
        "| cooling run error, min | warm-ups ≥ 1 °C | preheat on time "
        "| preheat started early by, min (median) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(markdown))
    print(f"\n{seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
