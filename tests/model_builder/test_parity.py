"""The engine's numpy predictor gives scikit-learn's numbers."""

from __future__ import annotations

from typing import Any

import numpy as np

from model_builder.bundle import load_bundle
from model_builder.compiler import compile_ensemble
from model_builder.engine import BUNDLED_MODEL, artifact
from model_builder.models import JOBLIB_MODEL
from model_builder.series import HomeSeries
from model_builder.training import QUANTILES, home_rows, predict_raw


def test_compiled_trees_match_scikit_learn(
    small_models: list[Any], homes: dict[str, HomeSeries]
) -> None:
    """Within 1e-9 for every quantile, on real rows with gaps (in fact equal)."""
    belgium = homes["belgium"]
    origins = np.arange(24, len(belgium.values), 5, dtype=np.int64)
    features, _, _, _ = home_rows(belgium, origins, range(1, 49))
    assert np.isnan(features).any(), "rows with missing features must be covered"
    expected = predict_raw(small_models, features)
    actual = compile_ensemble(small_models).predict(features)
    assert actual.shape == (len(features), len(QUANTILES))
    for q in range(len(QUANTILES)):
        assert np.max(np.abs(actual[:, q] - expected[:, q])) <= 1e-9
    # Same splits, same order of additions: the numbers are identical.
    np.testing.assert_array_equal(actual, expected)


def test_missing_values_follow_scikit_learn(small_models: list[Any]) -> None:
    """Rows made only of NaN take each node's missing-value branch."""
    rows = np.full((3, 14), np.nan)
    rows[:, 0] = [1, 24, 48]
    np.testing.assert_array_equal(
        compile_ensemble(small_models).predict(rows), predict_raw(small_models, rows)
    )


def test_bundled_artifact_matches_its_joblib_bundle(
    homes: dict[str, HomeSeries],
) -> None:
    """The shipped model gives the numbers of the scikit-learn model it came from."""
    bundle = load_bundle(JOBLIB_MODEL)
    shipped = artifact.read_artifact(BUNDLED_MODEL)
    assert bundle["model_id"] == shipped.model_id
    sceaux = homes["sceaux"]
    origins = np.arange(
        len(sceaux.values) - 3000, len(sceaux.values), 7, dtype=np.int64
    )
    features, _, _, _ = home_rows(sceaux, origins, range(1, 49))
    expected = predict_raw(bundle["models"], features)
    actual = shipped.ensemble.predict(features)
    assert np.max(np.abs(actual - expected)) <= 1e-9
    np.testing.assert_array_equal(actual, expected)
