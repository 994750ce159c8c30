"""Open either kind of model file as a function from feature rows to quantiles."""

from __future__ import annotations

from pathlib import Path

from .bundle import BundleError, load_bundle
from .engine import artifact
from .evaluation import RawPredictor
from .series import DataError
from .training import predict_raw

JOBLIB_MODEL = Path(__file__).parent / "artifacts" / "kilowise_global.joblib"
"""The joblib bundle the shipped artifact was exported from."""


def load_predictor(path: Path) -> RawPredictor:
    """A data-only manifest runs on the engine; a joblib bundle on scikit-learn."""
    if path.suffix == ".json":
        try:
            return artifact.read_artifact(path).ensemble.predict
        except artifact.ArtifactError as err:
            raise DataError(f"{path}: {err}") from err
    try:
        models = load_bundle(path)["models"]
    except BundleError as err:
        raise DataError(str(err)) from err
    return lambda features: predict_raw(models, features)
