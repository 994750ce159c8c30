"""keygen, sign, verify and inspect on copies of the shipped model."""

from __future__ import annotations

import json
from pathlib import Path
import shutil

import pytest

from model_builder.__main__ import main
from model_builder.engine import BUNDLED_KEYS, BUNDLED_MODEL, golden, signing


@pytest.fixture
def model(tmp_path: Path) -> Path:
    """Manifest, payload and golden file of the bundled model, unsigned."""
    manifest = json.loads(BUNDLED_MODEL.read_text())
    for path in (
        BUNDLED_MODEL,
        BUNDLED_MODEL.parent / manifest["payload"]["file"],
        golden.golden_path(BUNDLED_MODEL),
    ):
        shutil.copy(path, tmp_path)
    return tmp_path / BUNDLED_MODEL.name


def test_verify_the_bundled_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(BUNDLED_MODEL), "--golden"]) == 0
    out = capsys.readouterr().out
    assert "signature: ok, kilowise-project" in out
    assert "golden vectors: ok, identical" in out


def test_keygen_sign_verify(
    tmp_path: Path, model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = tmp_path / "keys"
    assert main(["keygen", "--out", str(keys / "home")]) == 0
    assert (keys / "home.key").stat().st_mode & 0o777 == 0o600
    assert main(["keygen", "--out", str(keys / "home")]) == 2  # never overwrites
    assert main(["verify", str(model), "--keys", str(keys)]) == 1  # unsigned
    assert main(["verify", str(model), "--keys", str(keys), "--allow-unsigned"]) == 0
    assert main(["sign", str(model), "--key", str(keys / "home.key")]) == 0
    assert main(["verify", str(model), "--keys", str(keys), "--golden"]) == 0
    # The project's keys do not know this key.
    assert main(["verify", str(model), "--keys", str(BUNDLED_KEYS)]) == 1
    out = capsys.readouterr().out
    assert "not a trusted key" in out


def test_verify_fails_on_a_flipped_byte(
    model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = model.with_suffix(".npz")
    data = bytearray(payload.read_bytes())
    data[100] ^= 0xFF
    payload.write_bytes(bytes(data))
    assert main(["verify", str(model), "--allow-unsigned"]) == 1
    assert "sha256" in capsys.readouterr().out


def test_verify_golden_detects_a_different_prediction(
    model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = golden.golden_path(model)
    document = json.loads(path.read_text())
    document["expected"][0][0] += 1e-9
    path.write_text(json.dumps(document))
    assert main(["verify", str(model), "--allow-unsigned", "--golden"]) == 1
    assert "golden vectors: FAILED" in capsys.readouterr().out


def test_inspect_shows_manifest_and_checks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(BUNDLED_MODEL)]) == 0
    out = capsys.readouterr().out
    for text in (
        "model id",
        "Training sources",
        "sceaux",
        "belgium",
        "Metrics",
        "Checks",
        "golden vectors",
    ):
        assert text in out


def test_sign_refuses_a_broken_model(tmp_path: Path, model: Path) -> None:
    private, _ = signing.generate_key_pair()
    key = tmp_path / "k.key"
    key.write_text(signing.encode_key(private))
    model.write_text("{}")
    assert main(["sign", str(model), "--key", str(key)]) == 2
    assert not signing.signature_path(model).exists()
