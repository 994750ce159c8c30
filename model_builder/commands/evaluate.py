"""``evaluate``: day-ahead walk-forward test of a model on any CSV."""

from __future__ import annotations

import argparse
from datetime import datetime, tzinfo
import json
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .. import ha_db
from ..csv_input import UNIT_TO_KWH, read_energy_csv
from ..evaluation import walk_forward
from ..models import load_predictor
from ..report import evaluation_table
from ..series import DataError

HELP = (
    "score a model day-ahead on a CSV of energy readings or a Home Assistant database"
)


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
        help="readings, one row per interval or meter reading",
    )
    parser.add_argument("--time-column", help="with --csv: the time column")
    parser.add_argument("--energy-column", help="with --csv: the energy column")
    ha_db.add_arguments(parser)
    parser.add_argument(
        "--cumulative", action="store_true", help="the column is a meter counter"
    )
    parser.add_argument(
        "--timezone",
        default=None,
        help="zone of naive times and of midnight (default UTC for a CSV; for "
        "--ha-db, the one in .storage/core.config beside a SQLite file)",
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


def _scored_from(args: argparse.Namespace, tz: tzinfo) -> datetime | None:
    if not args.scored_from:
        return None
    try:
        return datetime.fromisoformat(args.scored_from).replace(tzinfo=tz)
    except ValueError as err:
        raise DataError(f"--from {args.scored_from!r} is not an ISO date") from err


def _run_database(args: argparse.Namespace) -> int:
    """Score the model on homes read from Home Assistant databases."""
    chosen = ha_db.database_homes(args.ha_db, args.statistic_id, args.timezone)
    homes = [ha_db.read_home(home) for home in chosen]
    predict = load_predictor(args.model)
    evaluations = []
    for home in homes:
        try:
            evaluation = walk_forward(home, predict, _scored_from(args, home.tz))
        except ValueError as err:
            raise DataError(f"{home.name}: {err}") from err
        evaluations.append(evaluation)
    if args.json:
        result: dict[str, object] = {
            evaluation.name: evaluation.as_dict() for evaluation in evaluations
        }
        print(json.dumps(result if len(homes) > 1 else result[homes[0].name]))
        return 0
    for database, version in sorted({(h.source, h.schema_version) for h in chosen}):
        print(f"{database}: recorder schema {version}")
    ha_db.print_notes(homes)
    print()
    print(evaluation_table([("database", evaluation) for evaluation in evaluations]))
    return 0


def run(args: argparse.Namespace) -> int:
    if (args.csv is None) == (args.ha_db is None):
        raise DataError("give either --csv or --ha-db")
    if args.ha_db is not None:
        return _run_database(args)
    if args.time_column is None or args.energy_column is None:
        raise DataError("--csv needs --time-column and --energy-column")
    timezone = args.timezone or "UTC"
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise DataError(f"unknown time zone {timezone!r}") from err
    predict = load_predictor(args.model)
    home = read_energy_csv(
        args.csv,
        args.time_column,
        args.energy_column,
        cumulative=args.cumulative,
        tz=tz,
        unit=args.unit,
    )
    scored_from = _scored_from(args, tz)
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
