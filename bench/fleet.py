"""Benchmark of fleet work: training throughput, scoring on one and two Dask workers,
and the hourly refresh of 1 and 100 entries in one Home Assistant.

Run: ``python bench/fleet.py [--homes N] [--no-ha]`` from the repository root
(``scripts/bench fleet`` does it in the project's environment). The fleet is made of
homes resampled from the real ones (time-shifted and scaled copies, named
``resampled-*``), since the real data holds three homes. Both scoring paths run in
the same run on the same homes, so the ratio holds on a busy machine too. The Home
Assistant figures come from ``bench/ha`` (the test harness's Home Assistant with a
real recorder), run as a child process.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model_builder.datasets import TRAINING_HOMES, default_data_dir, load_homes
from model_builder.distributed import map_homes
from model_builder.engine import BUNDLED_MODEL
from model_builder.fleet import resampled_sources
from model_builder.report import table
from model_builder.scoring import HomeScore, score_home
from model_builder.training import (
    MODEL_PARAMS,
    build_training_set,
    fit_quantile_models,
)

REPO = Path(__file__).resolve().parents[1]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _home_years(scores: list[HomeScore]) -> float:
    days = sum(int((s.rows["period"] == "day").sum()) for s in scores)
    return days / 365


def _warm_up() -> None:
    """Import the scoring code and load the model, as a long-running worker has."""
    from model_builder.scoring import _predictor  # noqa: PLC0415

    _predictor(BUNDLED_MODEL)


def _resident_mb() -> float:
    import psutil  # noqa: PLC0415  (a dependency of dask.distributed)

    return float(psutil.Process().memory_info().rss) / 2**20


def _score_on_cluster(
    sources: list, workers: int
) -> tuple[float, list[HomeScore], float]:  # type: ignore[type-arg]
    from distributed import Client, LocalCluster  # noqa: PLC0415

    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(_warm_up)  # workers loaded before the clock starts
        started = time.perf_counter()
        scores = map_homes(
            score_home,
            sources,
            scheduler=cluster.scheduler_address,
            model=BUNDLED_MODEL,
            progress=False,
        )
        elapsed = time.perf_counter() - started
        worker_mb = max(client.run(_resident_mb).values())
    return elapsed, scores, worker_mb


def _refresh_cost() -> dict[int, dict[str, float]] | None:
    """``bench/ha``'s figures by number of entries, or None if it failed."""
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "refresh.json"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "bench/ha",
                "-q",
                "-p",
                "no:cacheprovider",
            ],
            cwd=REPO,
            env={**os.environ, "KILOWISE_BENCH_JSON": str(target)},
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0 or not target.exists():
            print(done.stdout[-3000:], file=sys.stderr)
            return None
        return {int(row["entries"]): row for row in json.loads(target.read_text())}


def _refresh_rows(cost: dict[int, dict[str, float]] | None) -> list[list[object]]:
    if cost is None:
        return [["Home Assistant refresh (bench/ha failed, see above)", "-", ""]]
    rows: list[list[object]] = []
    for count, figures in sorted(cost.items()):
        rows.append(
            [
                f"CPU of one hour's refreshes, {count} entr{'y' if count == 1 else 'ies'} "
                "in one Home Assistant (s)",
                round(figures["cpu_s"], 3),
                "<= 2 s for 100" if count == 100 else "",
            ]
        )
    biggest = cost[max(cost)]
    rows.append(
        [
            f"  the same span with no refresh, {max(cost)} entries (s)",
            round(biggest["idle_cpu_s"], 3),
            "",
        ]
    )
    rows.append(
        [
            f"longest event-loop callback during them, {max(cost)} entries "
            "(ms, real / CPU)",
            f"{1000 * biggest['longest_callback_s']:.1f} / "
            f"{1000 * biggest['longest_callback_cpu_s']:.1f}",
            "no blocking",
        ]
    )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--homes", type=int, default=24, help="resampled homes to score"
    )
    parser.add_argument(
        "--no-ha", action="store_true", help="skip the Home Assistant refresh figures"
    )
    args = parser.parse_args()
    refresh = None if args.no_ha else _refresh_cost()

    homes = load_homes(TRAINING_HOMES, default_data_dir())
    started = time.perf_counter()
    training = build_training_set(homes, stride=3)
    build_seconds = time.perf_counter() - started
    started = time.perf_counter()
    fit_quantile_models(training, params=MODEL_PARAMS, progress=False)
    fit_seconds = time.perf_counter() - started
    rows = len(training.target)

    sources = resampled_sources(args.homes, default_data_dir())
    started = time.perf_counter()
    single = map_homes(score_home, sources, model=BUNDLED_MODEL, progress=False)
    single_seconds = time.perf_counter() - started
    single_mb = _peak_mb()
    cpu_per_home_year = sum(s.seconds for s in single) / _home_years(single)

    one_seconds, one, one_mb = _score_on_cluster(sources, 1)
    two_seconds, two, two_mb = _score_on_cluster(sources, 2)
    identical = all(
        a.rows.equals(b.rows) and a.rows.equals(c.rows)
        for a, b, c in zip(single, one, two, strict=True)
    )

    print(
        f"Fleet: {len(sources)} homes resampled from the real ones "
        f"({_home_years(single):.1f} home-years of day-ahead forecasts)"
    )
    print(
        table(
            ["measure", "value", "target"],
            [
                [
                    "training rows (2 real homes, every 3rd hour x 48 horizons)",
                    rows,
                    "",
                ],
                ["building training rows (rows/s)", round(rows / build_seconds), ""],
                ["fitting 3 quantile models (rows/s)", round(rows / fit_seconds), ""],
                [
                    "scoring CPU per home-year, one process (s)",
                    round(cpu_per_home_year, 3),
                    "<= 0.5 s per core",
                ],
                [
                    "homes scored per minute, one process",
                    round(60 * len(sources) / single_seconds, 1),
                    "",
                ],
                [
                    "homes scored per minute, Dask, 1 worker",
                    round(60 * len(sources) / one_seconds, 1),
                    "",
                ],
                [
                    "homes scored per minute, Dask, 2 workers",
                    round(60 * len(sources) / two_seconds, 1),
                    "",
                ],
                [
                    "speed-up, 2 workers over 1",
                    round(one_seconds / two_seconds, 2),
                    ">= 1.7x",
                ],
                ["peak memory, one process incl. training (MB)", round(single_mb), ""],
                [
                    "resident memory of a Dask worker after scoring (MB)",
                    round(max(one_mb, two_mb)),
                    "",
                ],
                ["reports identical on all three paths", identical, "True"],
                *([] if args.no_ha else _refresh_rows(refresh)),
            ],
        )
    )
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
