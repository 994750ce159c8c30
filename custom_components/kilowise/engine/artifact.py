"""The data-only model artifact: a JSON manifest and a numpy payload.

Reading never unpickles anything: the payload is an ``.npz`` archive opened
with ``allow_pickle=False`` and every array is checked against the manifest
(dtype, shape, index ranges, finite values) before the model is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import hashlib
import io
import json
import os
from pathlib import Path
import tempfile
from typing import Any
import zipfile

import numpy as np

from .features import FEATURE_NAMES, FEATURE_SPEC_VERSION, MAX_HORIZON
from .predictor import NODE_ARRAYS, TreeEnsemble
from .signing import (
    MAX_SIGNATURE_BYTES,
    SignatureError,
    TrustedKey,
    UnknownKeyError,
    signature_path,
    verify_manifest,
)

FORMAT_NAME = "kilowise-model"
FORMAT_VERSION = 1
SUPPORTED_FORMAT_VERSIONS = frozenset({1})

MAX_MANIFEST_BYTES = 256 * 1024
MAX_PAYLOAD_BYTES = 16 * 1024 * 1024
MAX_NODES = 2_000_000

REQUIRED_FIELDS = frozenset(
    {
        "format",
        "format_version",
        "model_id",
        "created",
        "features",
        "horizons",
        "quantiles",
        "trees",
        "training",
        "metrics",
        "libraries",
        "payload",
    }
)


class ArtifactError(Exception):
    """The artifact cannot be used; the message says why."""


class UntrustedArtifactError(ArtifactError):
    """The artifact is intact but not signed by a trusted key."""


@dataclass(frozen=True, slots=True)
class TrustPolicy:
    """Which signatures make an artifact acceptable.

    ``keys`` maps key ids to trusted keys. With ``allow_unsigned``, a model
    without a signature, or signed by a key not in ``keys``, is accepted
    (and reported as unsigned); a signature that does not match its manifest
    is refused in every case.
    """

    keys: Mapping[str, TrustedKey]
    allow_unsigned: bool = False


@dataclass(frozen=True, slots=True)
class Artifact:
    """A verified model: its manifest and its trees.

    ``sha256`` is the payload's hash. ``signer`` names the trusted key that
    signed the manifest, or is None when no trust policy was applied or the
    policy accepted an unsigned model.
    """

    manifest: dict[str, Any]
    ensemble: TreeEnsemble
    sha256: str
    signer: TrustedKey | None = None

    @property
    def quantiles(self) -> tuple[float, ...]:
        """Quantile levels of the prediction columns, ascending."""
        return tuple(float(q) for q in self.manifest["quantiles"])

    @property
    def model_id(self) -> str:
        """Identifier written by the builder."""
        return str(self.manifest["model_id"])


def _canonical_json(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, indent=2, sort_keys=True).encode() + b"\n"


def write_artifact(
    manifest_path: Path, manifest: Mapping[str, Any], ensemble: TreeEnsemble
) -> dict[str, Any]:
    """Write ``ensemble`` and its manifest atomically; return the manifest.

    The payload is written next to the manifest as ``<stem>.npz``. Fields
    describing the payload (file, size, sha256) and the tree layout are
    filled in here so that they cannot disagree with the arrays.
    """
    arrays = {name: getattr(ensemble, name) for name in NODE_ARRAYS}
    arrays["roots"] = ensemble.roots
    arrays["baseline"] = ensemble.baseline
    buffer = io.BytesIO()
    np.savez_compressed(buffer, allow_pickle=False, **arrays)
    payload = buffer.getvalue()
    payload_name = f"{manifest_path.stem}.npz"
    full = dict(manifest)
    full["format"] = FORMAT_NAME
    full["format_version"] = FORMAT_VERSION
    full["trees"] = {
        "per_quantile": int(ensemble.roots.shape[1]),
        "depth": ensemble.depth,
        "nodes": len(ensemble.value),
    }
    full["payload"] = {
        "file": payload_name,
        "bytes": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
    }
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(manifest_path.parent / payload_name, payload)
    atomic_write(manifest_path, _canonical_json(full))
    return full


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a synced temporary file and a rename."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide the model from other users
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _read_capped(path: Path, limit: int) -> bytes:
    try:
        size = path.stat().st_size
    except OSError as err:
        raise ArtifactError(f"cannot read {path.name}: {err.strerror}") from err
    if size > limit:
        raise ArtifactError(
            f"{path.name} is {size} bytes, more than the {limit} allowed"
        )
    return path.read_bytes()


def _check_manifest(manifest: Any) -> dict[str, Any]:
    if not isinstance(manifest, dict):
        raise ArtifactError("manifest is not a JSON object")
    missing = REQUIRED_FIELDS - manifest.keys()
    if missing:
        raise ArtifactError(f"manifest lacks {', '.join(sorted(missing))}")
    unknown = manifest.keys() - REQUIRED_FIELDS
    if unknown:
        raise ArtifactError(f"manifest has unknown fields {', '.join(sorted(unknown))}")
    if manifest["format"] != FORMAT_NAME:
        raise ArtifactError(f"not a {FORMAT_NAME} manifest")
    version = manifest["format_version"]
    if version not in SUPPORTED_FORMAT_VERSIONS:
        raise ArtifactError(
            f"format version {version} is not supported; this version of Kilowise "
            f"reads format version {max(SUPPORTED_FORMAT_VERSIONS)} and older"
        )
    features = manifest["features"]
    if (
        not isinstance(features, dict)
        or features.get("spec_version") != FEATURE_SPEC_VERSION
        or tuple(features.get("names", ())) != FEATURE_NAMES
    ):
        raise ArtifactError("feature specification does not match this engine")
    if manifest["horizons"] != MAX_HORIZON:
        raise ArtifactError(
            f"model forecasts {manifest['horizons']} hours, not {MAX_HORIZON}"
        )
    quantiles = manifest["quantiles"]
    if (
        not isinstance(quantiles, list)
        or not quantiles
        or not all(isinstance(q, float) and 0 < q < 1 for q in quantiles)
        or sorted(quantiles) != quantiles
    ):
        raise ArtifactError("quantiles must be ascending numbers between 0 and 1")
    return manifest


def _check_array_header(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
    """Refuse an array whose header declares too many elements or objects.

    numpy allocates the declared shape before reading the data, so a few bytes
    that claim a huge array would exhaust memory: the header is read first.
    """
    name = member.filename.removesuffix(".npy")
    with archive.open(member) as handle:
        # numpy's format readers carry no type hints.
        version = np.lib.format.read_magic(handle)  # type: ignore[no-untyped-call]
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(handle)  # type: ignore[no-untyped-call]
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(handle)  # type: ignore[no-untyped-call]
        else:
            raise ArtifactError(f"array {name} has npy format {version}")
    if dtype.hasobject:
        raise ArtifactError(f"array {name} holds Python objects")
    elements = int(np.prod(shape, dtype=np.float64))
    if elements > MAX_NODES:
        raise ArtifactError(
            f"array {name} declares {elements} elements, more than the "
            f"{MAX_NODES} allowed"
        )


def _load_arrays(payload: bytes) -> dict[str, np.ndarray[Any, Any]]:
    expected = {*NODE_ARRAYS, "roots", "baseline"}
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            declared = sum(info.file_size for info in archive.infolist())
            if declared > MAX_PAYLOAD_BYTES * 8:
                raise ArtifactError("payload expands beyond the allowed size")
            names = {name.removesuffix(".npy") for name in archive.namelist()}
            if names != expected:
                raise ArtifactError(
                    f"payload arrays are {sorted(names)}, expected {sorted(expected)}"
                )
            for member in archive.infolist():
                _check_array_header(archive, member)
        with np.load(io.BytesIO(payload), allow_pickle=False) as data:
            return {name: data[name] for name in expected}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise ArtifactError(f"payload is not a valid array archive: {err}") from err


def _build_ensemble(
    manifest: Mapping[str, Any], arrays: Mapping[str, np.ndarray[Any, Any]]
) -> TreeEnsemble:
    trees = manifest["trees"]
    n_q = len(manifest["quantiles"])
    per_q = int(trees["per_quantile"])
    n_nodes = int(trees["nodes"])
    depth = int(trees["depth"])
    if not 0 < n_nodes <= MAX_NODES or not 0 <= depth <= 64 or per_q <= 0:
        raise ArtifactError("tree layout in the manifest is out of range")
    for name, dtype in NODE_ARRAYS.items():
        array = arrays[name]
        if array.dtype != np.dtype(dtype) or array.shape != (n_nodes,):
            raise ArtifactError(
                f"array {name} is {array.dtype}{list(array.shape)}, "
                f"expected {np.dtype(dtype)}[{n_nodes}]"
            )
    roots, baseline = arrays["roots"], arrays["baseline"]
    if roots.dtype != np.int32 or roots.shape != (n_q, per_q):
        raise ArtifactError(f"array roots must be int32[{n_q}, {per_q}]")
    if baseline.dtype != np.float64 or baseline.shape != (n_q,):
        raise ArtifactError(f"array baseline must be float64[{n_q}]")
    for name in ("left", "right"):
        if arrays[name].min() < 0 or arrays[name].max() >= n_nodes:
            raise ArtifactError(f"array {name} points outside the node table")
    if roots.min() < 0 or roots.max() >= n_nodes:
        raise ArtifactError("array roots points outside the node table")
    feature = arrays["feature"]
    if feature.min() < 0 or feature.max() >= len(FEATURE_NAMES):
        raise ArtifactError("array feature names a feature the engine does not have")
    if not np.all(np.isfinite(arrays["value"])) or not np.all(np.isfinite(baseline)):
        raise ArtifactError("leaf values or baseline are not finite")
    if np.any(np.isnan(arrays["threshold"])):
        raise ArtifactError("array threshold holds NaN")
    return TreeEnsemble(
        feature=arrays["feature"],
        threshold=arrays["threshold"],
        missing_left=arrays["missing_left"],
        left=arrays["left"],
        right=arrays["right"],
        value=arrays["value"],
        roots=roots,
        baseline=baseline,
        depth=depth,
    )


def _check_signature(
    manifest_path: Path, raw: bytes, trust: TrustPolicy
) -> TrustedKey | None:
    sig_path = signature_path(manifest_path)
    if not sig_path.exists():
        if trust.allow_unsigned:
            return None
        raise UntrustedArtifactError("model is not signed")
    try:
        return verify_manifest(
            raw, _read_capped(sig_path, MAX_SIGNATURE_BYTES), trust.keys
        )
    except UnknownKeyError as err:
        if trust.allow_unsigned:
            return None
        raise UntrustedArtifactError(str(err)) from err
    except SignatureError as err:
        raise UntrustedArtifactError(str(err)) from err


def read_artifact(manifest_path: Path, trust: TrustPolicy | None = None) -> Artifact:
    """Read and verify an artifact. Blocking: run it in an executor.

    Every check runs before any array is used: size caps, the manifest's
    fields, the signature (when ``trust`` is given), the payload's sha256,
    and each array's dtype, shape and index range. Raises ``ArtifactError``
    (``UntrustedArtifactError`` for a signature problem) naming the first
    check that failed.
    """
    raw = _read_capped(manifest_path, MAX_MANIFEST_BYTES)
    try:
        manifest = _check_manifest(json.loads(raw))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ArtifactError(f"manifest is not valid JSON: {err}") from err
    info = manifest["payload"]
    name = str(info.get("file", ""))
    if not name or Path(name).name != name:
        raise ArtifactError("payload file name must be a plain file name")
    payload = _read_capped(manifest_path.parent / name, MAX_PAYLOAD_BYTES)
    digest = hashlib.sha256(payload).hexdigest()
    if digest != info.get("sha256"):
        raise ArtifactError(f"payload sha256 {digest} does not match the manifest")
    signer = None if trust is None else _check_signature(manifest_path, raw, trust)
    ensemble = _build_ensemble(manifest, _load_arrays(payload))
    return Artifact(manifest=manifest, ensemble=ensemble, sha256=digest, signer=signer)
