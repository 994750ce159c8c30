"""Compile fitted scikit-learn quantile regressors into the engine's trees."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from sklearn.ensemble import HistGradientBoostingRegressor

from .engine import predictor


def compile_ensemble(
    models: Sequence[HistGradientBoostingRegressor],
) -> predictor.TreeEnsemble:
    """Flatten one fitted regressor per quantile into a ``TreeEnsemble``.

    Node indices are rebased into one table; a leaf points to itself so the
    engine can walk every tree a fixed number of steps.
    """
    parts: dict[str, list[npt.NDArray[np.float64]]] = {
        "feature": [],
        "threshold": [],
        "missing_left": [],
        "left": [],
        "right": [],
        "value": [],
    }
    roots: list[list[int]] = []
    offset = 0
    depth = 0
    per_quantile = {len(model._predictors) for model in models}
    if len(per_quantile) != 1:
        raise ValueError("every quantile model must have the same number of trees")
    for model in models:
        if model.n_trees_per_iteration_ != 1:
            raise ValueError("only single-output regressors can be compiled")
        roots.append([])
        for (tree,) in model._predictors:
            nodes = tree.nodes
            if np.any(nodes["is_categorical"]):
                raise ValueError("categorical splits are not supported by the engine")
            n = len(nodes)
            own = np.arange(offset, offset + n, dtype=np.int32)
            leaf = nodes["is_leaf"].astype(bool)
            parts["feature"].append(
                np.where(leaf, 0, nodes["feature_idx"]).astype(np.int32)
            )
            parts["threshold"].append(
                np.where(leaf, 0.0, nodes["num_threshold"]).astype(np.float64)
            )
            parts["missing_left"].append(nodes["missing_go_to_left"].astype(np.bool_))
            parts["left"].append(
                np.where(leaf, own, nodes["left"].astype(np.int64) + offset).astype(
                    np.int32
                )
            )
            parts["right"].append(
                np.where(leaf, own, nodes["right"].astype(np.int64) + offset).astype(
                    np.int32
                )
            )
            parts["value"].append(
                np.where(leaf, nodes["value"], 0.0).astype(np.float64)
            )
            roots[-1].append(offset)
            depth = max(depth, int(nodes["depth"].max()))
            offset += n
    return predictor.TreeEnsemble(
        feature=np.concatenate(parts["feature"]),
        threshold=np.concatenate(parts["threshold"]),
        missing_left=np.concatenate(parts["missing_left"]),
        left=np.concatenate(parts["left"]),
        right=np.concatenate(parts["right"]),
        value=np.concatenate(parts["value"]),
        roots=np.asarray(roots, dtype=np.int32),
        baseline=np.asarray(
            [float(np.ravel(m._baseline_prediction)[0]) for m in models],
            dtype=np.float64,
        ),
        depth=depth,
    )
