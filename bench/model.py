"""Benchmark of the bundled model: accuracy, speed, load time and size.

Run: ``python bench/model.py`` from the repository root (``scripts/bench``
does it in the project's environment). Speeds are medians of many runs,
and the engine is compared with scikit-learn's own ``predict`` of the same
model in the same run, in turns, so the ratio holds on a busy machine too;
scikit-learn is timed with its default threads and on one thread, and the faster
counts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
import statistics
import sys
import time
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from threadpoolctl import threadpool_limits

from model_builder.bundle import load_bundle
from model_builder.datasets import (
    HELD_OUT_HOMES,
    TRAINING_HOMES,
    default_data_dir,
    load_homes,
)
from model_builder.engine import (
    BUNDLED_KEYS,
    BUNDLED_MODEL,
    artifact,
    features,
    forecasting,
    golden,
    signing,
)
from model_builder.evaluation import walk_forward
from model_builder.models import JOBLIB_MODEL
from model_builder.report import evaluation_table, table
from model_builder.training import predict_raw


def median_ms(call: Callable[[], object], runs: int) -> float:
    call()  # warm caches and lazy set-up
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def paired_medians_ms(
    engine: Callable[[], object], sklearn: Callable[[], object], rounds: int = 40
) -> tuple[float, float]:
    """Medians of the engine's forecast and scikit-learn's predict, in turns.

    Each round times five scikit-learn calls, then twenty engine calls, so a
    change of the machine's load during the run weighs on both sides alike,
    while each side runs warm within its turn.
    """
    engine_times: list[float] = []
    sklearn_times: list[float] = []
    for _ in range(rounds):
        for call, times, runs in (
            (sklearn, sklearn_times, 5),
            (engine, engine_times, 20),
        ):
            call()  # warm after the other side's turn
            for _ in range(runs):
                start = time.perf_counter()
                call()
                times.append(time.perf_counter() - start)
    return (
        statistics.median(engine_times) * 1000,
        statistics.median(sklearn_times) * 1000,
    )


def main() -> int:
    model = artifact.read_artifact(BUNDLED_MODEL)
    bundle = load_bundle(JOBLIB_MODEL)
    if bundle["model_id"] != model.model_id:
        print(
            f"warning: {JOBLIB_MODEL.name} is {bundle['model_id']}, the bundled model is {model.model_id}"
        )

    homes = load_homes(TRAINING_HOMES, default_data_dir())
    held_out = load_homes(HELD_OUT_HOMES, default_data_dir())
    sources = {s["name"]: s for s in model.manifest["training"]["sources"]}
    evaluations = [
        (
            "holdout",
            walk_forward(
                home,
                model.ensemble.predict,
                datetime.fromisoformat(sources[home.name]["trained_until"]),
            ),
        )
        for home in homes
    ] + [("held out", walk_forward(home, model.ensemble.predict)) for home in held_out]
    print(
        "Accuracy, day-ahead at each local midnight (MASE against the same hour last week)"
    )
    print(evaluation_table(evaluations))

    home = held_out[0]
    history = home.values[: features.HISTORY_HOURS]
    start = home.start.replace(tzinfo=UTC) if home.start.tzinfo is None else home.start
    tz = ZoneInfo("Europe/Brussels")
    hour_of_day, weekday = features.local_calendar(start, features.MAX_HORIZON, tz)
    rows = features.forecast_rows(history, hour_of_day, weekday).matrix

    def engine_call() -> object:
        return forecasting.forecast(model, history, start, tz)

    def sklearn_call() -> object:
        return predict_raw(bundle["models"], rows)

    engine_forecast, sklearn_predict = paired_medians_ms(engine_call, sklearn_call)
    with threadpool_limits(
        1
    ):  # on 48 rows its OpenMP threads may cost more than they give
        engine_forecast_2, sklearn_one_thread = paired_medians_ms(
            engine_call, sklearn_call
        )
    engine_predict = median_ms(lambda: model.ensemble.predict(rows), 2000)
    if sklearn_one_thread < sklearn_predict:
        engine_forecast, sklearn_best = engine_forecast_2, sklearn_one_thread
    else:
        sklearn_best = sklearn_predict
    feature_time = median_ms(
        lambda: features.forecast_rows(history, hour_of_day, weekday), 2000
    )
    load = median_ms(lambda: artifact.read_artifact(BUNDLED_MODEL), 50)

    def load_as_at_set_up() -> object:
        # What set-up does: the project's key, the signature, the golden vectors.
        trust = artifact.TrustPolicy(signing.load_trusted_keys(BUNDLED_KEYS))
        checked = artifact.read_artifact(BUNDLED_MODEL, trust)
        return golden.replay_golden(checked, golden.golden_path(BUNDLED_MODEL))

    full_load = median_ms(load_as_at_set_up, 50)
    size = (
        BUNDLED_MODEL.stat().st_size
        + (BUNDLED_MODEL.parent / model.manifest["payload"]["file"]).stat().st_size
    )
    print()
    print("Speed (median; one forecast = 48 hours x p10/p50/p90)")
    print(
        table(
            ["measure", "value", "target"],
            [
                [
                    "engine forecast: features + prediction (ms)",
                    round(engine_forecast, 3),
                    "<= 1 ms",
                ],
                ["  of which features (ms)", round(feature_time, 3), ""],
                ["engine prediction of the 48 rows (ms)", round(engine_predict, 3), ""],
                [
                    "scikit-learn predict, same rows and model (ms)",
                    round(sklearn_predict, 3),
                    "",
                ],
                [
                    "  the same on one thread (ms)",
                    round(sklearn_one_thread, 3),
                    "",
                ],
                [
                    "speed-up: faster scikit-learn predict / engine forecast",
                    round(sklearn_best / engine_forecast, 1),
                    ">= 4x",
                ],
                [
                    "speed-up of the prediction alone (same work on both sides)",
                    round(sklearn_best / engine_predict, 1),
                    "",
                ],
                ["load and check the artifact (ms)", round(load, 2), "<= 100 ms"],
                [
                    "  and its signature and golden vectors, as at set-up (ms)",
                    round(full_load, 2),
                    "<= 100 ms",
                ],
                ["artifact size, manifest + payload (bytes)", size, "<= 1 MB"],
            ],
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
