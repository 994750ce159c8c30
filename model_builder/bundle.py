"""model_builder's own artifact (joblib) and the manifest derived from it."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
import platform
from typing import Any
import warnings

import joblib
import numpy as np
import numpy.typing as npt
import sklearn
from sklearn.ensemble import HistGradientBoostingRegressor

from .compiler import compile_ensemble
from .engine import artifact, features, golden, signing
from .training import predict_raw

BUNDLE_FORMAT = "kilowise-sklearn-bundle"


class BundleError(Exception):
    """A joblib bundle that cannot be used; the message says what to do."""


def library_versions() -> dict[str, str]:
    """Versions that shaped the model, recorded in both artifacts."""
    versions = {"python": platform.python_version()}
    for name in ("numpy", "scikit-learn", "joblib", "pandas"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def new_bundle(
    models: list[HistGradientBoostingRegressor],
    quantiles: tuple[float, ...],
    training: dict[str, Any],
    metrics: dict[str, Any],
    golden_rows: npt.NDArray[np.float64] | None = None,
    *,
    name: str = "global",
) -> dict[str, Any]:
    """Everything needed to re-export or inspect a trained model.

    ``golden_rows`` are feature rows whose predictions are recorded beside
    every artifact exported from this bundle; ``name`` goes in the model id
    (``global`` for the bundled model, ``home-…`` for one home's).
    """
    created = datetime.now(UTC).replace(microsecond=0)
    return {
        "format": BUNDLE_FORMAT,
        "model_id": f"kilowise-{name}-{created:%Y%m%d%H%M%S}",
        "created": created.isoformat(),
        "quantiles": list(quantiles),
        "features": {
            "spec_version": features.FEATURE_SPEC_VERSION,
            "names": list(features.FEATURE_NAMES),
        },
        "horizons": features.MAX_HORIZON,
        "models": models,
        "training": training,
        "metrics": metrics,
        "libraries": library_versions(),
        "golden_rows": golden_rows,
    }


def save_bundle(bundle: dict[str, Any], path: Path) -> None:
    """Write the joblib bundle (a pickle: for model_builder only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(bundle, path, compress=3)


def load_bundle(path: Path) -> dict[str, Any]:
    """Load a joblib bundle, warning clearly when scikit-learn versions differ."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            bundle = joblib.load(path)
        except FileNotFoundError as err:
            raise BundleError(f"{path}: no such file") from err
        except Exception as err:  # a pickle can fail in many ways
            raise BundleError(
                f"{path}: not a Kilowise model (a joblib bundle written by `train`, "
                "or a data-only .json artifact), or a damaged one "
                f"({type(err).__name__}: {err}); retrain with "
                "`python -m model_builder train` if it was one"
            ) from err
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{path}: not a Kilowise model bundle")
    saved = bundle.get("libraries", {}).get("scikit-learn")
    if saved != sklearn.__version__ or any(
        type(w.message).__name__ == "InconsistentVersionWarning" for w in caught
    ):
        warnings.warn(
            f"{path} was written by scikit-learn {saved}; this is scikit-learn "
            f"{sklearn.__version__}. Its trees may load differently: re-export it with "
            "the version that wrote it (`python -m model_builder export`) or retrain "
            "with this one (`python -m model_builder train`).",
            stacklevel=2,
        )
    return bundle


def export_artifact(bundle: dict[str, Any], manifest_path: Path) -> dict[str, Any]:
    """Compile the bundle's trees and write the data-only artifact."""
    manifest = {
        key: bundle[key]
        for key in (
            "model_id",
            "created",
            "quantiles",
            "features",
            "horizons",
            "training",
            "metrics",
        )
    }
    manifest["libraries"] = {**bundle["libraries"], "exported_with": library_versions()}
    written = artifact.write_artifact(
        manifest_path, manifest, compile_ensemble(bundle["models"])
    )
    # A new manifest invalidates any signature of the old one.
    signing.signature_path(manifest_path).unlink(missing_ok=True)
    rows = bundle.get("golden_rows")
    if rows is not None:
        expected = predict_raw(bundle["models"], rows)
        artifact.atomic_write(
            golden.golden_path(manifest_path),
            golden.golden_document(bundle["model_id"], rows, expected),
        )
    return written
