"""``train``: fit the global model on real homes and write both artifacts."""

from __future__ import annotations

import argparse
from pathlib import Path
import re
import time

import numpy as np
import numpy.typing as npt

from .. import ha_db
from ..bundle import export_artifact, new_bundle, save_bundle
from ..compiler import compile_ensemble
from ..datasets import HELD_OUT_HOMES, HOMES, TRAINING_HOMES, default_data_dir
from ..distributed import map_homes
from ..engine import BUNDLED_MODEL, artifact
from ..evaluation import Evaluation, walk_forward
from ..fleet import HomeSource, add_source_arguments, load_home, sources_from_args
from ..models import JOBLIB_MODEL
from ..report import evaluation_table
from ..series import DataError, HomeSeries
from ..training import MODEL_PARAMS, QUANTILES, build_training_set, fit_quantile_models

HELP = "train the global model on real homes, or a model on other homes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", type=Path, default=default_data_dir(), help="shared/data folder"
    )
    parser.add_argument(
        "--homes",
        default=",".join(TRAINING_HOMES),
        help="real homes to train on (with other homes: only with --fine-tune)",
    )
    parser.add_argument(
        "--held-out",
        default=None,
        help="homes never trained on, only scored (default: "
        f"{','.join(HELD_OUT_HOMES)}; none with other homes)",
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
        "--joblib",
        type=Path,
        default=None,
        help="model_builder's artifact (default: the bundled model's; with "
        "other homes, beside --artifact)",
    )
    parser.add_argument(
        "--artifact",
        type=Path,
        default=None,
        help="data-only artifact manifest (default: the bundled model; "
        "required with other homes)",
    )
    add_source_arguments(parser, builtin=False)
    parser.add_argument(
        "--fine-tune",
        action="store_true",
        help="with other homes (--ha-db, --csv-dir, --parquet): train on the real "
        "homes plus them, weighted up, and export a model for them",
    )
    parser.add_argument(
        "--home-weight",
        type=float,
        default=4.0,
        help="with --fine-tune: how many real homes each other home counts as "
        "(default 4)",
    )
    parser.add_argument(
        "--scheduler",
        help="Dask scheduler address (tcp://host:8786): the homes are read and "
        "prepared on its workers; the model is fitted here",
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


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "home"


def _real_homes(names: tuple[str, ...], args: argparse.Namespace) -> list[HomeSeries]:
    """The named real homes of shared/data, read where the homes are read."""
    if not names:
        return []
    sources = [HomeSource(name, "builtin", data_dir=args.data_dir) for name in names]
    return map_homes(
        load_home, sources, scheduler=args.scheduler, description="reading homes"
    )


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.holdout_fraction < 1:
        raise ValueError("--holdout-fraction must be at least 0 and below 1")
    name = "global"
    home_weights: dict[str, float] = {}
    training_names = _names(args.homes)
    for home_name in training_names:
        if home_name not in HOMES:
            raise DataError(f"unknown home {home_name!r}; known: {', '.join(HOMES)}")
    # Homes beyond the real ones; resampled ones are made of the training
    # homes only, so the held-out home stays unseen.
    others = sources_from_args(args, resampled_from=training_names)
    other_homes: list[HomeSeries] = []
    if not others:
        if args.fine_tune:
            raise DataError(
                "--fine-tune needs the homes to fine-tune for: --ha-db, --csv-dir "
                "or --parquet"
            )
        homes = _real_homes(training_names, args)
        held_out_names = (
            HELD_OUT_HOMES if args.held_out is None else _names(args.held_out)
        )
        artifact_path = args.artifact or BUNDLED_MODEL
        joblib_path = args.joblib or JOBLIB_MODEL
    else:
        if args.artifact is None:
            raise DataError(
                "--artifact is required with --ha-db, --csv-dir, --parquet or "
                "--resampled: a model trained on other homes never replaces the "
                "bundled one"
            )
        if args.home_weight <= 0:
            raise DataError("--home-weight must be above 0")
        for database, version in sorted(
            {
                (s.database.source, s.database.schema_version)
                for s in others
                if s.database is not None
            }
        ):
            print(f"{database}: recorder schema {version}")
        other_homes = map_homes(
            load_home, others, scheduler=args.scheduler, description="reading homes"
        )
        ha_db.print_notes(
            [h for h, s in zip(other_homes, others, strict=True) if s.kind == "ha_db"]
        )
        homes = list(other_homes)
        if args.fine_tune:
            homes = _real_homes(training_names, args) + homes
            home_weights = {home.name: args.home_weight for home in other_homes}
        held_out_names = () if args.held_out is None else _names(args.held_out)
        name = (
            f"home-{_slug(other_homes[0].name)}" if len(other_homes) == 1 else "homes"
        )
        artifact_path = args.artifact
        joblib_path = args.joblib or args.artifact.with_suffix(".joblib")
    held_out = _real_homes(held_out_names, args)
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
    training = build_training_set(
        train_parts, stride=args.stride, home_weights=home_weights
    )
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
    comparisons: list[tuple[str, Evaluation]] = []
    if other_homes and args.holdout_fraction > 0:
        # Each other home's last part, by the model shipped with Kilowise.
        bundled = artifact.read_artifact(BUNDLED_MODEL)
        for home, part in zip(homes, train_parts, strict=True):
            if home.name in {h.name for h in other_homes}:
                comparisons.append(
                    (
                        "holdout, bundled model",
                        walk_forward(home, bundled.ensemble.predict, part.end),
                    )
                )

    metrics = {
        f"{ev.name}/{split}": {**ev.as_dict(), "days": ev.days}
        for split, ev in evaluations
    }
    summary: dict[str, object] = {
        "sources": sources,
        "rows": len(training.target),
        "rows_per_home": training.rows_per_home,
        "params": params,
        "stride_hours": args.stride,
        "holdout_fraction": args.holdout_fraction,
        "fit_seconds": round(fit_seconds, 1),
    }
    if home_weights:
        summary["home_weights"] = home_weights
    bundle = new_bundle(
        models,
        QUANTILES,
        training=summary,
        metrics=metrics,
        golden_rows=golden_rows(training.features),
        name=name,
    )
    save_bundle(bundle, joblib_path)
    manifest = export_artifact(bundle, artifact_path)
    print()
    print(evaluation_table(evaluations + comparisons))
    print()
    print(f"joblib bundle:     {joblib_path}")
    print(
        f"data-only model:   {artifact_path} (+ {manifest['payload']['file']}, "
        f"{manifest['payload']['bytes']} bytes, sha256 {manifest['payload']['sha256'][:12]}…)"
    )
    print(f"model id:          {manifest['model_id']}")
    if other_homes:
        print(
            "unsigned: sign it with `python -m model_builder sign` before loading it "
            "into Home Assistant"
        )
    return 0
