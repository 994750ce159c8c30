"""Ed25519 signatures over a model's manifest.

The signature covers the manifest file's exact bytes, and the manifest holds
the payload's sha256, so one signature vouches for the whole artifact. It is
stored beside the manifest as ``<stem>.sig``, a small JSON object naming the
key that made it. Keys are raw 32-byte Ed25519 keys written in base64; a key's
id is the first 16 hex digits of the sha256 of its public key.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
import hashlib
import json
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

ALGORITHM = "ed25519"
MAX_SIGNATURE_BYTES = 4096


class SignatureError(Exception):
    """A signature that is missing, malformed, unknown or wrong."""


class UnknownKeyError(SignatureError):
    """A well-formed signature by a key that is not trusted."""


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """A public key the user trusts, with a name to show for it."""

    name: str
    public_key: bytes

    @property
    def key_id(self) -> str:
        """Short, stable id of the key."""
        return key_id(self.public_key)


def key_id(public_key: bytes) -> str:
    """First 16 hex digits of the sha256 of a raw public key."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def decode_key(text: str) -> bytes:
    """Decode a base64 raw key of 32 bytes; raise ``SignatureError`` if not one."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as err:
        raise SignatureError("key is not base64") from err
    if len(raw) != 32:
        raise SignatureError(f"key is {len(raw)} bytes, an Ed25519 key is 32")
    return raw


def encode_key(raw: bytes) -> str:
    """Base64 text of a raw key."""
    return base64.b64encode(raw).decode()


def generate_key_pair() -> tuple[bytes, bytes]:
    """A new (private, public) pair of raw Ed25519 keys."""
    private = Ed25519PrivateKey.generate()
    return (
        private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()),
        private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
    )


def signature_path(manifest_path: Path) -> Path:
    """Where the signature of a manifest lives."""
    return manifest_path.with_name(f"{manifest_path.stem}.sig")


def sign_manifest(manifest_bytes: bytes, private_key: bytes) -> bytes:
    """The ``.sig`` file content for ``manifest_bytes``."""
    key = Ed25519PrivateKey.from_private_bytes(private_key)
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    document = {
        "algorithm": ALGORITHM,
        "key_id": key_id(public),
        "signature": encode_key(key.sign(manifest_bytes)),
    }
    return json.dumps(document, indent=2, sort_keys=True).encode() + b"\n"


def verify_manifest(
    manifest_bytes: bytes, signature_file: bytes, trusted: Mapping[str, TrustedKey]
) -> TrustedKey:
    """Return the trusted key that signed ``manifest_bytes``.

    ``trusted`` maps key ids to keys. Raises ``SignatureError`` when the
    signature is malformed, made by a key not in ``trusted``, or wrong.
    """
    try:
        document = json.loads(signature_file)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SignatureError("signature file is not valid JSON") from err
    if not isinstance(document, dict) or document.get("algorithm") != ALGORITHM:
        raise SignatureError(f"signature is not an {ALGORITHM} signature")
    signer = trusted.get(str(document.get("key_id")))
    if signer is None:
        raise UnknownKeyError(
            f"signed by key {document.get('key_id')}, which is not a trusted key"
        )
    try:
        signature = base64.b64decode(str(document.get("signature")), validate=True)
        Ed25519PublicKey.from_public_bytes(signer.public_key).verify(
            signature, manifest_bytes
        )
    except (binascii.Error, ValueError, InvalidSignature) as err:
        raise SignatureError(
            f"signature does not match the manifest (key {signer.key_id})"
        ) from err
    return signer


def load_trusted_keys(folder: Path) -> dict[str, TrustedKey]:
    """Read every ``*.pub`` file of ``folder`` (base64 raw keys), by key id.

    Blocking: run it in an executor.
    """
    keys: dict[str, TrustedKey] = {}
    for path in sorted(folder.glob("*.pub")):
        key = TrustedKey(path.stem, decode_key(path.read_text()))
        keys[key.key_id] = key
    return keys
