"""``export``: compile a joblib bundle into the data-only artifact."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..bundle import export_artifact, load_bundle

HELP = "compile a joblib bundle into the data-only artifact"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", type=Path, required=True, help="joblib bundle written by train"
    )
    parser.add_argument(
        "--output",
        type=Path,
        required=True,
        help="manifest path (.json); payload beside it",
    )


def run(args: argparse.Namespace) -> int:
    manifest = export_artifact(load_bundle(args.model), args.output)
    print(
        f"wrote {args.output} and {manifest['payload']['file']} (sha256 {manifest['payload']['sha256']})"
    )
    return 0
