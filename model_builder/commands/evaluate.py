"""``evaluate``: day-ahead walk-forward test of a model on any CSV."""

from __future__ import annotations

import argparse
from datetime import datetime
import json
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..csv_input import UNIT_TO_KWH, read_energy_csv
from ..evaluation import walk_forward
from ..models import load_predictor
from ..report import evaluation_table
from ..series import DataError

HELP = "score a model day-ahead on a CSV of energy readings"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        type=Path,
        required=True,
        help="data-only manifest (.json) or joblib bundle",
    )
    parser.add_argument(
        "--csv",
        type=Path,
        required=True,
        help="readings, one row per interval or meter reading",
    )
    parser.add_argument("--time-column", required=True)
    parser.add_argument("--energy-column", required=True)
    parser.add_argument(
        "--cumulative", action="store_true", help="the column is a meter counter"
    )
    parser.add_argument(
        "--timezone",
        default="UTC",
        help="zone of naive times and of midnight (default UTC)",
    )
    parser.add_argument(
        "--unit",
        choices=sorted(UNIT_TO_KWH),
        default="kWh",
        help="energy unit (default kWh)",
    )
    parser.add_argument(
        "--from", dest="scored_from", help="first day to score (ISO date, local)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    try:
        tz = ZoneInfo(args.timezone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise DataError(f"unknown time zone {args.timezone!r}") from err
    predict = load_predictor(args.model)
    home = read_energy_csv(
        args.csv,
        args.time_column,
        args.energy_column,
        cumulative=args.cumulative,
        tz=tz,
        unit=args.unit,
    )
    scored_from = None
    if args.scored_from:
        try:
            scored_from = datetime.fromisoformat(args.scored_from).replace(tzinfo=tz)
        except ValueError as err:
            raise DataError(f"--from {args.scored_from!r} is not an ISO date") from err
    try:
        evaluation = walk_forward(home, predict, scored_from)
    except ValueError as err:
        raise DataError(f"{args.csv}: {err}") from err
    if args.json:
        print(json.dumps(evaluation.as_dict()))
        return 0
    print(evaluation_table([("csv", evaluation)]))
    notes = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in home.notes.items() if v)
    print(
        f"\n{evaluation.days} days, {evaluation.hours_scored} hours scored; {home.valid_hours} valid hours read"
        + (f"; {notes}" if notes else "")
    )
    return 0
