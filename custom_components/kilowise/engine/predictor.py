"""Gradient-boosted quantile trees evaluated with numpy alone.

The trees come from scikit-learn's ``HistGradientBoostingRegressor`` (one
regressor per quantile), compiled by ``model_builder`` into flat arrays. The
arithmetic mirrors scikit-learn's: a sample goes left when ``x <= threshold``,
or when ``x`` is NaN and the node sends missing values left; the prediction is
the baseline plus the leaf values added tree by tree in training order, so the
result is the same float64 number scikit-learn computes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

NODE_ARRAYS: dict[str, type[np.generic]] = {
    "feature": np.int32,
    "threshold": np.float64,
    "missing_left": np.bool_,
    "left": np.int32,
    "right": np.int32,
    "value": np.float64,
}
"""Per-node arrays of the payload and their dtypes (all trees concatenated)."""


@dataclass(frozen=True, slots=True)
class TreeEnsemble:
    """All trees of all quantiles, flattened.

    Node ``i`` tests feature ``feature[i]`` against ``threshold[i]`` and moves
    to ``left[i]`` or ``right[i]`` (indices into the flat arrays). A leaf
    points to itself on both sides and holds ``value[i]``. ``roots[q, k]`` is
    the root of tree ``k`` of quantile ``q``; ``baseline[q]`` starts the sum.
    """

    feature: npt.NDArray[np.int32]
    threshold: FloatArray
    missing_left: npt.NDArray[np.bool_]
    left: npt.NDArray[np.int32]
    right: npt.NDArray[np.int32]
    value: FloatArray
    roots: npt.NDArray[np.int32]
    baseline: FloatArray
    depth: int

    @property
    def n_quantiles(self) -> int:
        """Number of quantile models."""
        return int(self.roots.shape[0])

    def predict(self, features: FloatArray) -> FloatArray:
        """Return raw predictions, shape ``(rows, quantiles)``.

        ``features`` is a float64 matrix with one row per sample; NaN marks a
        missing feature. The output is in the model's target unit (for
        Kilowise: energy relative to the home's level).
        """
        x = np.ascontiguousarray(features, dtype=np.float64)
        rows = x.shape[0]
        n_q, n_trees = self.roots.shape
        node = np.broadcast_to(self.roots.reshape(1, -1), (rows, n_q * n_trees))
        row_index = np.arange(rows)[:, None]
        for _ in range(self.depth):
            value = x[row_index, self.feature[node]]
            go_left = (value <= self.threshold[node]) | (
                np.isnan(value) & self.missing_left[node]
            )
            node = np.where(go_left, self.left[node], self.right[node])
        leaves = self.value[node].reshape(rows, n_q, n_trees)
        # Add tree by tree in training order (cumsum is sequential), starting
        # from the baseline, exactly as scikit-learn accumulates its sum.
        start = np.broadcast_to(self.baseline.reshape(1, n_q, 1), (rows, n_q, 1))
        return np.cumsum(np.concatenate((start, leaves), axis=2), axis=2)[:, :, -1]
