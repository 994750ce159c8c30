"""Command line: ``python -m model_builder COMMAND``.

Commands: train, evaluate, score, export, inspect, verify, sign, keygen.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
import sys

from .bundle import BundleError
from .commands import evaluate, export, keygen, score, sign, train, verify
from .series import DataError

Command = tuple[
    str,
    Callable[[argparse.ArgumentParser], None],
    Callable[[argparse.Namespace], int],
]

COMMANDS: dict[str, Command] = {
    "train": (train.HELP, train.add_arguments, train.run),
    "evaluate": (evaluate.HELP, evaluate.add_arguments, evaluate.run),
    "export": (export.HELP, export.add_arguments, export.run),
    "score": (score.HELP, score.add_arguments, score.run),
    "inspect": (verify.INSPECT_HELP, verify.add_arguments, verify.run_inspect),
    "verify": (verify.HELP, verify.add_arguments, verify.run),
    "sign": (sign.HELP, sign.add_arguments, sign.run),
    "keygen": (keygen.HELP, keygen.add_arguments, keygen.run),
}


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run one command; errors print one line, exit 2."""
    parser = argparse.ArgumentParser(
        prog="python -m model_builder", description=__doc__
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, add_arguments, _) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command][2](args)
    except (DataError, BundleError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
