"""Signatures over the manifest, and the trust policy of read_artifact."""

from __future__ import annotations

import json
from pathlib import Path
import shutil

import pytest

from custom_components.kilowise.const import BUNDLED_MODEL
from custom_components.kilowise.engine.artifact import (
    TrustPolicy,
    UntrustedArtifactError,
    read_artifact,
)
from custom_components.kilowise.engine.signing import (
    SignatureError,
    TrustedKey,
    decode_key,
    generate_key_pair,
    load_trusted_keys,
    sign_manifest,
    signature_path,
    verify_manifest,
)

KEYS_DIR = BUNDLED_MODEL.parent.parent / "keys"


@pytest.fixture
def pair() -> tuple[bytes, TrustedKey]:
    private, public = generate_key_pair()
    return private, TrustedKey("test", public)


@pytest.fixture
def model(tmp_path: Path) -> Path:
    """An unsigned copy of the bundled model."""
    manifest = json.loads(BUNDLED_MODEL.read_text())
    shutil.copy(BUNDLED_MODEL, tmp_path)
    shutil.copy(BUNDLED_MODEL.parent / manifest["payload"]["file"], tmp_path)
    return tmp_path / BUNDLED_MODEL.name


def _sign(model: Path, private: bytes) -> None:
    signature_path(model).write_bytes(sign_manifest(model.read_bytes(), private))


def test_bundled_model_is_signed_by_the_project_key() -> None:
    keys = load_trusted_keys(KEYS_DIR)
    artifact = read_artifact(BUNDLED_MODEL, TrustPolicy(keys))
    assert artifact.signer is not None
    assert artifact.signer.name == "kilowise-project"


def test_signed_by_a_trusted_key(model: Path, pair: tuple[bytes, TrustedKey]) -> None:
    private, key = pair
    _sign(model, private)
    artifact = read_artifact(model, TrustPolicy({key.key_id: key}))
    assert artifact.signer == key


def test_unsigned_is_refused_unless_allowed(
    model: Path, pair: tuple[bytes, TrustedKey]
) -> None:
    _, key = pair
    with pytest.raises(UntrustedArtifactError, match="not signed"):
        read_artifact(model, TrustPolicy({key.key_id: key}))
    assert read_artifact(model, TrustPolicy({}, allow_unsigned=True)).signer is None


def test_unknown_key_is_refused_unless_allowed(
    model: Path, pair: tuple[bytes, TrustedKey]
) -> None:
    private, _ = pair
    _sign(model, private)
    with pytest.raises(UntrustedArtifactError, match="not a trusted key"):
        read_artifact(model, TrustPolicy({}))
    assert read_artifact(model, TrustPolicy({}, allow_unsigned=True)).signer is None


def test_tampered_manifest_is_refused_even_when_unsigned_is_allowed(
    model: Path, pair: tuple[bytes, TrustedKey]
) -> None:
    """Changing a signed manifest breaks the signature, whatever the options."""
    private, key = pair
    _sign(model, private)
    manifest = json.loads(model.read_text())
    manifest["metrics"] = {"sceaux/holdout": "better than ever"}
    model.write_text(json.dumps(manifest))
    for allow in (False, True):
        with pytest.raises(UntrustedArtifactError, match="does not match"):
            read_artifact(model, TrustPolicy({key.key_id: key}, allow_unsigned=allow))


def test_malformed_signature_files(pair: tuple[bytes, TrustedKey]) -> None:
    _, key = pair
    trusted = {key.key_id: key}
    for content in (b"", b"{}", b'{"algorithm": "rsa"}', b"\xff"):
        with pytest.raises(SignatureError):
            verify_manifest(b"{}", content, trusted)
    bad = json.dumps({"algorithm": "ed25519", "key_id": key.key_id, "signature": "!!"})
    with pytest.raises(SignatureError, match="does not match"):
        verify_manifest(b"{}", bad.encode(), trusted)


@pytest.mark.parametrize("text", ["not base64!", "AAAA"])
def test_bad_keys(text: str) -> None:
    with pytest.raises(SignatureError):
        decode_key(text)
