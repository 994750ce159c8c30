"""Writing and strictly reading the data-only artifact."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
import pickle
import shutil
import zipfile

import numpy as np
import pytest

from custom_components.kilowise.const import BUNDLED_MODEL
from custom_components.kilowise.engine.artifact import (
    MAX_PAYLOAD_BYTES,
    ArtifactError,
    read_artifact,
    write_artifact,
)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the bundled artifact that a test may damage."""
    manifest = json.loads(BUNDLED_MODEL.read_text())
    shutil.copy(BUNDLED_MODEL, tmp_path / BUNDLED_MODEL.name)
    shutil.copy(BUNDLED_MODEL.parent / manifest["payload"]["file"], tmp_path)
    return tmp_path / BUNDLED_MODEL.name


def _payload(manifest_path: Path) -> Path:
    return (
        manifest_path.parent / json.loads(manifest_path.read_text())["payload"]["file"]
    )


def _edit_manifest(manifest_path: Path, **changes: object) -> None:
    manifest = json.loads(manifest_path.read_text())
    manifest.update(changes)
    manifest_path.write_text(json.dumps(manifest))


def _replace_payload(manifest_path: Path, data: bytes) -> None:
    """Swap in another payload with a matching hash, to reach later checks."""
    _payload(manifest_path).write_bytes(data)
    manifest = json.loads(manifest_path.read_text())
    manifest["payload"]["sha256"] = hashlib.sha256(data).hexdigest()
    manifest_path.write_text(json.dumps(manifest))


def test_bundled_model_loads() -> None:
    """The shipped model passes every check and names itself."""
    artifact = read_artifact(BUNDLED_MODEL)
    assert artifact.quantiles == (0.1, 0.5, 0.9)
    assert artifact.model_id.startswith("kilowise-global-")
    assert artifact.manifest["payload"]["bytes"] <= 1_000_000
    assert {s["role"] for s in artifact.manifest["training"]["sources"]} == {
        "training",
        "held_out",
    }


def test_round_trip(copy: Path, tmp_path: Path) -> None:
    """Written again, the trees predict the same numbers."""
    original = read_artifact(copy)
    out = tmp_path / "again" / "model.json"
    fields = {
        k: v for k, v in original.manifest.items() if k not in ("payload", "trees")
    }
    write_artifact(out, fields, original.ensemble)
    again = read_artifact(out)
    x = np.random.default_rng(0).random((10, 14))
    np.testing.assert_array_equal(
        original.ensemble.predict(x), again.ensemble.predict(x)
    )


def test_flipped_byte_is_refused(copy: Path) -> None:
    data = bytearray(_payload(copy).read_bytes())
    data[len(data) // 2] ^= 0x01
    _payload(copy).write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="sha256"):
        read_artifact(copy)


def test_truncated_payload_is_refused(copy: Path) -> None:
    data = _payload(copy).read_bytes()
    _replace_payload(copy, data[: len(data) // 2])
    with pytest.raises(ArtifactError, match="not a valid array archive"):
        read_artifact(copy)


def test_pickle_renamed_as_payload_is_refused(copy: Path) -> None:
    """Even with a matching hash, a pickle is never unpickled."""
    _replace_payload(copy, pickle.dumps({"feature": np.zeros(3)}))
    with pytest.raises(ArtifactError, match="not a valid array archive"):
        read_artifact(copy)


def test_pickled_object_array_is_refused(copy: Path) -> None:
    """An .npz holding an object array would need pickle: refused."""
    buffer = io.BytesIO()
    arrays = dict(np.load(_payload(copy)))
    arrays["value"] = np.array([object()] * len(arrays["value"]), dtype=object)
    np.savez(buffer, **arrays)
    _replace_payload(copy, buffer.getvalue())
    with pytest.raises(ArtifactError):
        read_artifact(copy)


def test_wrong_dtype_is_refused(copy: Path) -> None:
    buffer = io.BytesIO()
    arrays = dict(np.load(_payload(copy)))
    arrays["threshold"] = arrays["threshold"].astype(np.float32)
    np.savez_compressed(buffer, **arrays)
    _replace_payload(copy, buffer.getvalue())
    with pytest.raises(ArtifactError, match="threshold is float32"):
        read_artifact(copy)


def test_index_out_of_range_is_refused(copy: Path) -> None:
    buffer = io.BytesIO()
    arrays = dict(np.load(_payload(copy)))
    arrays["left"][0] = 10**9
    np.savez_compressed(buffer, **arrays)
    _replace_payload(copy, buffer.getvalue())
    with pytest.raises(ArtifactError, match="outside the node table"):
        read_artifact(copy)


def test_oversized_payload_is_refused_before_reading(copy: Path) -> None:
    with _payload(copy).open("r+b") as handle:
        handle.truncate(MAX_PAYLOAD_BYTES + 1)  # sparse: nothing is allocated
    with pytest.raises(ArtifactError, match="more than the"):
        read_artifact(copy)


def huge_array_payload(payload: Path, name: str = "value") -> bytes:
    """The payload with one array whose header claims 2**40 elements.

    Its data is the real array's few kB: numpy would allocate the declared
    8 TiB before finding out.
    """
    arrays = dict(np.load(payload))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for key, array in arrays.items():
            entry = io.BytesIO()
            if key == name:
                header = {"descr": "<f8", "fortran_order": False, "shape": (2**40,)}
                np.lib.format.write_array_header_1_0(entry, header)
                entry.write(array.tobytes())
            else:
                np.save(entry, array)
            archive.writestr(f"{key}.npy", entry.getvalue())
    return buffer.getvalue()


def test_array_far_too_large_is_refused_before_reading(copy: Path) -> None:
    _replace_payload(copy, huge_array_payload(_payload(copy)))
    with pytest.raises(
        ArtifactError, match=r"array value declares 1099511627776 elements"
    ):
        read_artifact(copy)


def test_unknown_format_version_names_the_supported_one(copy: Path) -> None:
    _edit_manifest(copy, format_version=99)
    with pytest.raises(ArtifactError, match=r"format version 99 is not supported.*1"):
        read_artifact(copy)


def test_missing_field_is_named(copy: Path) -> None:
    manifest = json.loads(copy.read_text())
    del manifest["quantiles"]
    copy.write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="lacks quantiles"):
        read_artifact(copy)


def test_feature_spec_mismatch_is_refused(copy: Path) -> None:
    _edit_manifest(copy, features={"spec_version": 1, "names": ["horizon"]})
    with pytest.raises(ArtifactError, match="feature specification"):
        read_artifact(copy)


def test_payload_path_cannot_escape(copy: Path) -> None:
    manifest = json.loads(copy.read_text())
    manifest["payload"]["file"] = "../elsewhere.npz"
    copy.write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="plain file name"):
        read_artifact(copy)


@pytest.mark.parametrize("content", [b"", b"{not json", b"[]", b"\xff\xfe"])
def test_broken_manifest(copy: Path, content: bytes) -> None:
    copy.write_bytes(content)
    with pytest.raises(ArtifactError):
        read_artifact(copy)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="cannot read"):
        read_artifact(tmp_path / "nothing.json")
