"""Golden vectors: feature rows and the predictions the builder computed.

Written next to each artifact by ``model_builder`` as ``<stem>.golden.json``.
Replaying them on another machine, Python or numpy shows that the engine
gives the same numbers there. JSON keeps every float exactly (shortest
round-trip repr); a missing feature is ``null``.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
import math
from pathlib import Path

import numpy as np

from .artifact import Artifact
from .features import FEATURE_NAMES, FloatArray

MAX_GOLDEN_BYTES = 4 * 1024 * 1024


class GoldenError(Exception):
    """A golden file that cannot be read or belongs to another model."""


@dataclass(frozen=True, slots=True)
class GoldenResult:
    """How the engine's predictions compare with the recorded ones."""

    rows: int
    max_abs_diff: float
    identical: bool


def golden_path(manifest_path: Path) -> Path:
    """Where the golden vectors of a manifest live."""
    return manifest_path.with_name(f"{manifest_path.stem}.golden.json")


def golden_document(model_id: str, rows: FloatArray, expected: FloatArray) -> bytes:
    """The golden file's content for ``rows`` and their raw predictions."""
    document = {
        "model_id": model_id,
        "features": list(FEATURE_NAMES),
        "rows": [[None if math.isnan(v) else float(v) for v in row] for row in rows],
        "expected": [[float(v) for v in row] for row in expected],
    }
    return json.dumps(document, separators=(",", ":")).encode() + b"\n"


def replay_golden(artifact: Artifact, path: Path) -> GoldenResult:
    """Predict the golden rows with ``artifact`` and compare. Blocking I/O."""
    try:
        if path.stat().st_size > MAX_GOLDEN_BYTES:
            raise GoldenError(f"{path.name} is larger than {MAX_GOLDEN_BYTES} bytes")
        document = json.loads(path.read_bytes())
        if document["model_id"] != artifact.model_id:
            raise GoldenError(
                f"{path.name} belongs to {document['model_id']}, not {artifact.model_id}"
            )
        rows = np.array(
            [[np.nan if v is None else v for v in row] for row in document["rows"]],
            dtype=np.float64,
        )
        expected = np.array(document["expected"], dtype=np.float64)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise GoldenError(f"cannot read {path.name}: {err}") from err
    if rows.ndim != 2 or rows.shape[1] != len(FEATURE_NAMES):
        raise GoldenError(
            f"{path.name}: rows do not have {len(FEATURE_NAMES)} features"
        )
    actual = artifact.ensemble.predict(rows)
    if actual.shape != expected.shape:
        raise GoldenError(
            f"{path.name}: expected {expected.shape}, model gives {actual.shape}"
        )
    return GoldenResult(
        rows=len(rows),
        max_abs_diff=float(np.max(np.abs(actual - expected))) if len(rows) else 0.0,
        identical=bool(np.array_equal(actual, expected)),
    )
