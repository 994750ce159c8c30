"""Benchmark of on-hub adaptation on the real homes: MASE with and without it.

Run: ``python bench/adaptation.py`` from the repository root (``scripts/bench
adaptation`` does it in the project's environment). For each home, a new
install is replayed on the part of its history the bundled model never saw
(see ``model_builder/adaptation.py``): after 2, 4 and 8 weeks the engine's
``adapt`` runs as it does in Home Assistant, and the next four weeks are scored
day-ahead with the calibration it kept (or the bundled model when it kept
none). A second table replays the integration's weekly refit over the whole
held-out period.
"""

from __future__ import annotations

from pathlib import Path
import sys
import time

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model_builder.adaptation import (
    held_out_start,
    simulate_install,
    simulate_weekly,
)
from model_builder.datasets import HOMES, default_data_dir, load_homes
from model_builder.engine import BUNDLED_MODEL, artifact
from model_builder.report import table

WEEKS = (2, 4, 8)
FOLLOWING_WEEKS = 4
VERDICTS = {
    "bundled_not_better": "kept bundled: not better",
    "bundled_not_enough_history": "kept bundled: too few hours",
}


def _mase(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def main() -> int:
    model = artifact.read_artifact(BUNDLED_MODEL)
    sources = {s["name"]: s for s in model.manifest["training"]["sources"]}
    predict = model.ensemble.predict
    homes = load_homes(tuple(HOMES), default_data_dir())
    started = time.monotonic()
    install_rows = []
    weekly_rows = []
    markdown = []
    for home in homes:
        since = held_out_start(home, sources)
        cells = []
        for weeks in WEEKS:
            run = simulate_install(home, predict, since, weeks, FOLLOWING_WEEKS)
            if run is None:
                install_rows.append(
                    [home.name, weeks, "data end", "", "", "", "", "", ""]
                )
                cells.append("data end too soon")
                continue
            result = run.result
            verdict = "adapted" if result.accepted else VERDICTS[result.reason]
            cells.append(
                f"{run.bundled.mase:.3f} → **{run.adapted.mase:.3f}** ({verdict})"
            )
            before = result.before.mase_weekly if result.before else None
            after = result.after.mase_weekly if result.after else None
            install_rows.append(
                [
                    home.name,
                    weeks,
                    result.reason,
                    result.fit_hours,
                    _mase(before),
                    _mase(after),
                    run.bundled.hours,
                    f"{run.bundled.mase:.3f}",
                    f"{run.adapted.mase:.3f}",
                ]
            )
        weekly = simulate_weekly(home, predict, since)
        markdown.append(
            f"| {home.name} | "
            + " | ".join(cells)
            + f" | {weekly.bundled.mase:.3f} → **{weekly.adapted.mase:.3f}** "
            f"({weekly.weeks_adapted} of {weekly.weeks_scored} weeks adapted) |"
        )
        weekly_rows.append(
            [
                home.name,
                weekly.weeks_scored,
                weekly.weeks_adapted,
                weekly.worse_weeks,
                weekly.bundled.hours,
                f"{weekly.bundled.mase:.3f}",
                f"{weekly.adapted.mase:.3f}",
                f"{weekly.bundled.coverage:.3f}",
                f"{weekly.adapted.coverage:.3f}",
            ]
        )
    print(
        "After N weeks of the home's own history: adapt once, then score the next "
        f"{FOLLOWING_WEEKS} weeks day-ahead (MASE against the same hour last week)"
    )
    print(
        table(
            [
                "home",
                "weeks",
                "decision",
                "fit hours",
                "check week bundled",
                "check week adapted",
                "hours scored",
                "next weeks bundled",
                "next weeks in use",
            ],
            install_rows,
        )
    )
    print()
    print("Weekly refit over the whole held-out period, as the integration does")
    print(
        table(
            [
                "home",
                "weeks scored",
                "weeks adapted",
                "adapted weeks worse",
                "hours",
                "MASE bundled",
                "MASE in use",
                "p10-p90 bundled",
                "p10-p90 in use",
            ],
            weekly_rows,
        )
    )
    print()
    print("For the README (MASE bundled → in use; next four weeks, then weekly refit):")
    print(
        "| home | after 2 weeks | after 4 weeks | after 8 weeks "
        "| weekly refit, whole held-out period |"
    )
    print("|---|---|---|---|---|")
    print("\n".join(markdown))
    print(f"\n{time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
