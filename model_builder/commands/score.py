"""``score``: the efficiency report of many homes, forecast against actual."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ..distributed import map_homes
from ..engine import BUNDLED_MODEL
from ..fleet import add_source_arguments, sources_from_args
from ..report import table
from ..scoring import score_home
from ..series import DataError

HELP = "score many homes day-ahead: expected against actual, per day and week, with anomalies"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser)
    parser.add_argument(
        "--model",
        type=Path,
        default=BUNDLED_MODEL,
        help="data-only manifest (.json) or joblib bundle",
    )
    parser.add_argument(
        "--output", type=Path, required=True, help="report file, .csv or .parquet"
    )
    parser.add_argument(
        "--scheduler",
        help="Dask scheduler address (tcp://host:8786); default: this process",
    )


def run(args: argparse.Namespace) -> int:
    if args.output.suffix not in (".csv", ".parquet"):
        raise DataError(f"--output {args.output}: use a .csv or .parquet file name")
    sources = sources_from_args(args)
    if not sources:
        raise DataError("no homes: give --builtin, --csv-dir, --parquet or --resampled")
    scores = map_homes(
        score_home,
        sources,
        scheduler=args.scheduler,
        model=args.model.resolve(),
        description="scoring",
    )
    report = pd.concat([s.rows for s in scores], ignore_index=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    if args.output.suffix == ".csv":
        report.to_csv(args.output, index=False)
    else:
        report.to_parquet(args.output, index=False)
    print(
        table(
            [
                "home",
                "hours",
                "MASE",
                "p10-p90",
                "days",
                "anomaly days",
                "actual/expected",
                "CPU s",
            ],
            [
                [
                    s.home,
                    s.hours_scored,
                    s.mase_weekly,
                    s.coverage_p10_p90,
                    int((s.rows["period"] == "day").sum()),
                    s.anomaly_days,
                    float(
                        s.rows.loc[s.rows["period"] == "day", "actual_kwh"].sum()
                        / max(
                            s.rows.loc[s.rows["period"] == "day", "expected_kwh"].sum(),
                            1e-9,
                        )
                    ),
                    round(s.seconds, 2),
                ]
                for s in scores
            ],
        )
    )
    print(f"\n{len(scores)} homes, {len(report)} rows -> {args.output}")
    return 0
