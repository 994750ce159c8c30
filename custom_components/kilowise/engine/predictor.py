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

    Nodes are stored level by level: at level ``L`` node ``p`` of tree ``t``
    sits at ``t * 2**L + p``, and its children at ``2 * i`` (left) and
    ``2 * i + 1`` (right) of level ``L + 1``, so walking all trees at once is
    one multiply-add per level. A leaf above the last level is copied into
    every position below it. Missing values become -inf in the first copy of
    the features and +inf in the second; each node reads the copy that sends
    NaN its way, which makes the NaN rule a plain comparison.
    """

    columns: tuple[npt.NDArray[np.intp], ...]
    thresholds: tuple[FloatArray, ...]
    leaf_value: FloatArray

    @classmethod
    def build(cls, trees: TreeEnsemble) -> _CompleteTrees:
        n_features = int(trees.feature.max()) + 1 if len(trees.feature) else 1
        n_trees = trees.roots.size
        node: npt.NDArray[np.intp] = trees.roots.reshape(n_trees, 1).astype(np.intp)
        columns, thresholds = [], []
        for _ in range(trees.depth):
            column = trees.feature[node].astype(np.intp) + np.where(
                trees.missing_left[node], 0, n_features
            )
            columns.append(column.reshape(-1))
            # A threshold of +inf splits off missing values only; the largest
            # float keeps every real value on the left and +inf on the right.
            thresholds.append(
                np.minimum(trees.threshold[node], np.finfo(np.float64).max).reshape(-1)
            )
            children = np.stack((trees.left[node], trees.right[node]), axis=-1)
            node = children.reshape(n_trees, -1).astype(np.intp)
        return cls(
            columns=tuple(columns),
            thresholds=tuple(thresholds),
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
        trees = self._complete
        missing = np.isnan(x)
        values = np.concatenate(
            (np.where(missing, -np.inf, x), np.where(missing, np.inf, x)), axis=1
        ).reshape(-1)
        # Walk arrays are shaped (tree, row), trees of each quantile in
        # training order, so that the leaves come out ready to be summed.
        row_base = np.arange(rows, dtype=np.intp) * (2 * n_features)
        tree = np.arange(n_q * n_trees, dtype=np.intp)[:, None]
        if trees.columns:
            # Level 0: every tree's root, the same node for every row.
            node = (
                values.take(trees.columns[0][:, None] + row_base)
                > trees.thresholds[0][:, None]
            ).astype(np.intp)
            node += 2 * tree
        else:
            node = np.broadcast_to(tree, (n_q * n_trees, rows))
        for column, threshold in zip(
            trees.columns[1:], trees.thresholds[1:], strict=True
        ):
            at = column.take(node)
            at += row_base
            goes_right = values.take(at) > threshold.take(node)
            node *= 2
            node += goes_right
        # Add tree by tree in training order, starting from the baseline,
        # exactly as scikit-learn accumulates its sum.
        terms = np.empty((n_q, n_trees + 1, rows))
        terms[:, 0, :] = self.baseline[:, None]
        terms[:, 1:, :] = trees.leaf_value.take(node).reshape(n_q, n_trees, rows)
        return np.ascontiguousarray(_sum_in_order(terms).T)


def _sum_in_order(terms: FloatArray) -> FloatArray:
    """``terms[:, 0] + terms[:, 1] + ...`` added in that order: shape (q, rows).

    numpy reduces a middle axis of a C-ordered array one slice after another
    (it sums pairwise only along the contiguous last axis), so ``np.add.reduce``
    is the sequential sum while there are two rows or more; a single row would
    make the summed axis the contiguous one, and goes through ``cumsum``,
    sequential by definition.
    """
    if terms.shape[2] >= 2:
        total: FloatArray = np.add.reduce(terms, axis=1)
        return total
    last: FloatArray = np.cumsum(terms, axis=1)[:, -1, :]
    return last
