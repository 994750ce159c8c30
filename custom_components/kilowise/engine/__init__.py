"""Kilowise's forecasting engine: pure Python and numpy, no Home Assistant.

``features`` defines the model's inputs (shared by training and prediction),
``predictor`` evaluates the compiled trees, ``artifact`` reads and writes the
data-only model files, and ``forecasting`` turns an hourly history into a
48-hour forecast with p10, p50 and p90.
"""

from .artifact import Artifact, ArtifactError, read_artifact, write_artifact
from .features import (
    FEATURE_NAMES,
    HISTORY_HOURS,
    MAX_HORIZON,
    InsufficientHistoryError,
)
from .forecasting import FULL_HISTORY_HOURS, Forecast, forecast

__all__ = [
    "FEATURE_NAMES",
    "FULL_HISTORY_HOURS",
    "HISTORY_HOURS",
    "MAX_HORIZON",
    "Artifact",
    "ArtifactError",
    "Forecast",
    "InsufficientHistoryError",
    "forecast",
    "read_artifact",
    "write_artifact",
]
