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
from functools import cached_property

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
class _CompleteTrees:
    """Every tree padded to a complete binary tree of the ensemble's depth.

    Position ``p`` of a tree has children ``2p + 1`` (left) and ``2p + 2``
    (right), so walking is arithmetic rather than pointer chasing. A leaf
    above the last level is copied into every position below it. Missing
    values become -inf in the first copy of the features and +inf in the
    second; each node reads the copy that sends NaN its way, which makes the
    NaN rule a plain comparison.
    """

    column: npt.NDArray[np.intp]
    threshold: FloatArray
    leaf_value: FloatArray

    @classmethod
    def build(cls, trees: TreeEnsemble) -> _CompleteTrees:
        n_features = int(trees.feature.max()) + 1 if len(trees.feature) else 1
        n_trees = trees.roots.size
        node: npt.NDArray[np.intp] = trees.roots.reshape(n_trees, 1).astype(np.intp)
        levels = []
        for _ in range(trees.depth):
            levels.append(node)
            children = np.stack((trees.left[node], trees.right[node]), axis=-1)
            node = children.reshape(n_trees, -1).astype(np.intp)
        heap = np.concatenate(levels, axis=1) if levels else node[:, :0]
        column = trees.feature[heap].astype(np.intp) + np.where(
            trees.missing_left[heap], 0, n_features
        )
        # A threshold of +inf splits off missing values only; the largest
        # float keeps every real value on the left and +inf on the right.
        threshold = np.minimum(trees.threshold[heap], np.finfo(np.float64).max)
        return cls(
            column=column.reshape(-1),
            threshold=threshold.reshape(-1),
            leaf_value=trees.value[node].reshape(-1),
        )


@dataclass(frozen=True)
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

    @cached_property
    def _complete(self) -> _CompleteTrees:
        return _CompleteTrees.build(self)

    def predict(self, features: FloatArray) -> FloatArray:
        """Return raw predictions, shape ``(rows, quantiles)``.

        ``features`` is a float64 matrix with one row per sample; NaN marks a
        missing feature. The output is in the model's target unit (for
        Kilowise: energy relative to the home's level).
        """
        x = np.asarray(features, dtype=np.float64)
        rows, n_features = x.shape
        n_q, n_trees = self.roots.shape
        total = n_q * n_trees
        trees = self._complete
        missing = np.isnan(x)
        values = np.concatenate(
            (np.where(missing, -np.inf, x), np.where(missing, np.inf, x)), axis=1
        ).reshape(-1)
        internal = (1 << self.depth) - 1
        tree_base = np.arange(total, dtype=np.intp) * internal
        row_base = (np.arange(rows, dtype=np.intp) * (2 * n_features))[:, None]
        position = np.zeros((rows, total), dtype=np.intp)
        for _ in range(self.depth):
            node = tree_base + position
            column = trees.column.take(node)
            column += row_base
            goes_right = values.take(column) > trees.threshold.take(node)
            position *= 2
            position += 1
            position += goes_right
        leaf = (position - internal) + np.arange(total, dtype=np.intp) * (internal + 1)
        leaves = trees.leaf_value.take(leaf).reshape(rows, n_q, n_trees)
        # Add tree by tree in training order (cumsum is sequential), starting
        # from the baseline, exactly as scikit-learn accumulates its sum.
        start = np.broadcast_to(self.baseline.reshape(1, n_q, 1), (rows, n_q, 1))
        return np.cumsum(np.concatenate((start, leaves), axis=2), axis=2)[:, :, -1]
