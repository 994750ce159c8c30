"""``keygen``: make an Ed25519 key pair for signing models."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..engine import signing
from ..series import DataError

HELP = "make an Ed25519 key pair (PREFIX.key, private; PREFIX.pub, public)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=Path, required=True, help="path prefix of the two key files"
    )


def run(args: argparse.Namespace) -> int:
    private_path = args.out.with_name(args.out.name + ".key")
    public_path = args.out.with_name(args.out.name + ".pub")
    for path in (private_path, public_path):
        if path.exists():
            raise DataError(f"{path} exists; keys are never overwritten")
    private, public = signing.generate_key_pair()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(signing.encode_key(private) + "\n")
    public_path.write_text(signing.encode_key(public) + "\n")
    print(f"private key: {private_path} (keep it secret)")
    print(f"public key:  {public_path} (key id {signing.key_id(public)})")
    return 0
