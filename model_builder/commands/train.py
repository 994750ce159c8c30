"""``train``: fit the global model on real homes and write both artifacts."""

from __future__ import annotations

import argparse
from pathlib import Path
import time

import numpy as np
import numpy.typing as npt

from ..bundle import export_artifact, new_bundle, save_bundle
from ..compiler import compile_ensemble
from ..datasets import HELD_OUT_HOMES, TRAINING_HOMES, default_data_dir, load_homes
from ..engine import BUNDLED_MODEL
from ..evaluation import Evaluation, walk_forward
from ..models import JOBLIB_MODEL
from ..report import evaluation_table
from ..series import HomeSeries
from ..training import MODEL_PARAMS, QUANTILES, build_training_set, fit_quantile_models

HELP = "train the global model on real homes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", type=Path, default=default_data_dir(), help="shared/data folder"
    )
    parser.add_argument(
        "--homes", default=",".join(TRAINING_HOMES), help="homes to train on"
    )
    parser.add_argument(
        "--held-out",
        default=",".join(HELD_OUT_HOMES),
        help="homes never trained on, only scored",
    )
    parser.add_argument(
        "--holdout-fraction",
        type=float,
        default=0.25,
        help="last share of each training home kept out of training and scored (default 0.25)",
    )
    parser.add_argument(
        "--stride", type=int, default=3, help="hours between training origins"
    )
    parser.add_argument("--max-iter", type=int, default=int(MODEL_PARAMS["max_iter"]))  # type: ignore[call-overload]
    parser.add_argument(
        "--joblib", type=Path, default=JOBLIB_MODEL, help="model_builder's artifact"
    )
    parser.add_argument(
        "--artifact",
        type=Path,
        default=BUNDLED_MODEL,
        help="data-only artifact manifest",
    )


def _names(text: str) -> tuple[str, ...]:
    return tuple(name for name in (part.strip() for part in text.split(",")) if name)


GOLDEN_ROWS = 256


def golden_rows(features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """A fixed sample of training rows (gaps included) for the golden file."""
    pick = np.random.default_rng(0).choice(
        len(features), size=min(GOLDEN_ROWS, len(features)), replace=False
    )
    return features[np.sort(pick)]


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.holdout_fraction < 1:
        raise ValueError("--holdout-fraction must be at least 0 and below 1")
    homes = load_homes(_names(args.homes), args.data_dir)
    held_out = load_homes(_names(args.held_out), args.data_dir)
    train_parts: list[HomeSeries] = []
    sources = []
    for home in homes:
        cut = int(len(home.values) * (1 - args.holdout_fraction))
        part = home.head(cut)
        train_parts.append(part)
        sources.append(
            {
                **home.summary(),
                "trained_until": part.end.isoformat(),
                "role": "training",
            }
        )
    sources += [{**home.summary(), "role": "held_out"} for home in held_out]

    started = time.monotonic()
    training = build_training_set(train_parts, stride=args.stride)
    print(f"training rows: {len(training.target)} ({training.rows_per_home})")
    params = {**MODEL_PARAMS, "max_iter": args.max_iter}
    models = fit_quantile_models(training, params=params)
    fit_seconds = time.monotonic() - started

    ensemble = compile_ensemble(models)
    evaluations: list[tuple[str, Evaluation]] = []
    for home, part in zip(homes, train_parts, strict=True):
        if args.holdout_fraction > 0:
            evaluations.append(
                ("holdout", walk_forward(home, ensemble.predict, part.end))
            )
    evaluations += [
        ("held out", walk_forward(home, ensemble.predict)) for home in held_out
    ]

    metrics = {
        f"{ev.name}/{split}": {**ev.as_dict(), "days": ev.days}
        for split, ev in evaluations
    }
    bundle = new_bundle(
        models,
        QUANTILES,
        training={
            "sources": sources,
            "rows": len(training.target),
            "rows_per_home": training.rows_per_home,
            "params": params,
            "stride_hours": args.stride,
            "holdout_fraction": args.holdout_fraction,
            "fit_seconds": round(fit_seconds, 1),
        },
        metrics=metrics,
        golden_rows=golden_rows(training.features),
    )
    save_bundle(bundle, args.joblib)
    manifest = export_artifact(bundle, args.artifact)
    print()
    print(evaluation_table(evaluations))
    print()
    print(f"joblib bundle:     {args.joblib}")
    print(
        f"data-only model:   {args.artifact} (+ {manifest['payload']['file']}, "
        f"{manifest['payload']['bytes']} bytes, sha256 {manifest['payload']['sha256'][:12]}…)"
    )
    print(f"model id:          {manifest['model_id']}")
    return 0
