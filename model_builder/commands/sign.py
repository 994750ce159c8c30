"""``sign``: sign a model's manifest with a private key."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..engine import artifact, signing
from ..series import DataError

HELP = "sign an artifact's manifest with an Ed25519 private key"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, help="the artifact's manifest (.json)")
    parser.add_argument(
        "--key", type=Path, required=True, help="private key file written by keygen"
    )


def run(args: argparse.Namespace) -> int:
    try:
        artifact.read_artifact(args.model)  # never sign a model that fails its checks
        private = signing.decode_key(args.key.read_text())
    except (artifact.ArtifactError, signing.SignatureError, OSError) as err:
        raise DataError(f"cannot sign {args.model}: {err}") from err
    document = signing.sign_manifest(args.model.read_bytes(), private)
    target = signing.signature_path(args.model)
    artifact.atomic_write(target, document)
    print(f"signed {args.model} -> {target}")
    return 0
