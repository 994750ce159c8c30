"""Command line: ``python -m model_builder {train,evaluate,export}``."""

from __future__ import annotations

import argparse
import sys

from .bundle import BundleError
from .commands import evaluate, export, train
from .series import DataError

COMMANDS = {"train": train, "evaluate": evaluate, "export": export}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m model_builder", description=__doc__
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in COMMANDS.items():
        module.add_arguments(
            sub.add_parser(name, help=module.HELP, description=module.HELP)
        )
    args = parser.parse_args(argv)
    try:
        status: int = COMMANDS[args.command].run(args)
        return status
    except (DataError, BundleError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
