"""Benchmark of the occupancy forecast on the real office (UCI occupancy data).

Run: ``python bench/occupancy.py`` from the repository root (``scripts/bench
occupancy`` does it in the project's environment). A new install is replayed
on the office's two and a half weeks (see ``model_builder/occupancy.py``): each
local day is forecast at its midnight from the hours before it, then learned.
Every forecast is scored on the same hours, those whose same hour a week
earlier is known: Brier score (lower is better) and accuracy.
"""

from __future__ import annotations

from pathlib import Path
import sys
import time

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model_builder.occupancy import VARIANTS, load_office, office_hours, replay
from model_builder.report import table


def main() -> int:
    started = time.monotonic()
    shares = office_hours(load_office())
    result = replay(shares, VARIANTS)
    seconds = time.monotonic() - started
    print(
        f"Office: {result.hours_known} known hours; {result.hours_scored} scored, "
        f"{result.first_scored:%Y-%m-%d %H:%M} to {result.last_scored:%Y-%m-%d %H:%M} "
        f"local; {100 * result.occupied_share:.1f} % of them occupied"
    )
    print(
        table(
            ["forecast", "Brier score", "accuracy"],
            [[s.name, s.brier, s.accuracy] for s in result.scores],
        )
    )
    print()
    print("For the README:")
    print("| forecast | Brier score | accuracy |")
    print("|---|---|---|")
    for s in result.scores:
        print(f"| {s.name} | {s.brier:.3f} | {100 * s.accuracy:.1f} % |")
    print(f"\n{seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
