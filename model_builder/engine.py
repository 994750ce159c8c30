"""The integration's engine, imported without importing Home Assistant.

``custom_components/kilowise/__init__.py`` imports Home Assistant, which
model_builder does not need (nor its container). The engine package itself is
pure numpy, so it is loaded here straight from its folder under the name
``kilowise_engine``: the same files the integration runs, one definition of
every feature.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
import sys
from typing import TYPE_CHECKING

INTEGRATION_DIR = Path(__file__).resolve().parents[1] / "custom_components" / "kilowise"
ENGINE_DIR = INTEGRATION_DIR / "engine"
BUNDLED_MODEL = INTEGRATION_DIR / "models" / "kilowise_global.json"
BUNDLED_KEYS = INTEGRATION_DIR / "keys"

if TYPE_CHECKING:
    from custom_components.kilowise.engine import (
        accuracy,
        adaptation,
        artifact,
        features,
        forecasting,
        golden,
        occupancy,
        predictor,
        signing,
        thermal,
    )
else:
    if "kilowise_engine" not in sys.modules:
        _spec = importlib.util.spec_from_file_location(
            "kilowise_engine",
            ENGINE_DIR / "__init__.py",
            submodule_search_locations=[str(ENGINE_DIR)],
        )
        _module = importlib.util.module_from_spec(_spec)
        sys.modules["kilowise_engine"] = _module
        _spec.loader.exec_module(_module)
    accuracy = importlib.import_module("kilowise_engine.accuracy")
    adaptation = importlib.import_module("kilowise_engine.adaptation")
    artifact = importlib.import_module("kilowise_engine.artifact")
    features = importlib.import_module("kilowise_engine.features")
    forecasting = importlib.import_module("kilowise_engine.forecasting")
    predictor = importlib.import_module("kilowise_engine.predictor")
    golden = importlib.import_module("kilowise_engine.golden")
    occupancy = importlib.import_module("kilowise_engine.occupancy")
    thermal = importlib.import_module("kilowise_engine.thermal")
    signing = importlib.import_module("kilowise_engine.signing")

__all__ = [
    "BUNDLED_KEYS",
    "BUNDLED_MODEL",
    "ENGINE_DIR",
    "accuracy",
    "adaptation",
    "artifact",
    "features",
    "forecasting",
    "golden",
    "occupancy",
    "predictor",
    "signing",
    "thermal",
]
