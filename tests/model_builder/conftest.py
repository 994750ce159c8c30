"""A small model trained on slices of the real homes, shared by the tests."""

from __future__ import annotations

from typing import Any

import pytest

from model_builder.datasets import default_data_dir, load_homes
from model_builder.series import HomeSeries
from model_builder.training import MODEL_PARAMS, build_training_set, fit_quantile_models


@pytest.fixture(scope="session")
def homes() -> dict[str, HomeSeries]:
    """The three real homes of shared/data."""
    return {
        h.name: h
        for h in load_homes(("sceaux", "konstanz", "belgium"), default_data_dir())
    }


@pytest.fixture(scope="session")
def small_models(homes: dict[str, HomeSeries]) -> list[Any]:
    """Three quantile regressors fitted in seconds on two real homes."""
    training = build_training_set(
        [homes["sceaux"].head(6000), homes["konstanz"].head(6000)], stride=24
    )
    return fit_quantile_models(
        training, params={**MODEL_PARAMS, "max_iter": 20}, progress=False
    )
