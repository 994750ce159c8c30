"""The numpy tree walker on a hand-made ensemble."""

from __future__ import annotations

import numpy as np

from custom_components.kilowise.engine.predictor import TreeEnsemble


def _ensemble() -> TreeEnsemble:
    """Two quantiles, one tree each; the second tree is deeper on one side.

    Tree A (nodes 0-2): x0 <= 0.5 -> 1.0 else 2.0; missing goes right.
    Tree B (nodes 3-7): x1 <= 0 -> 10.0 else (x0 <= 3 -> 20.0 else 30.0);
    missing x1 goes left, missing x0 goes right.
    """
    return TreeEnsemble(
        feature=np.array([0, 0, 0, 1, 0, 0, 0, 0], dtype=np.int32),
        threshold=np.array([0.5, 0, 0, 0.0, 0, 3.0, 0, 0], dtype=np.float64),
        missing_left=np.array([0, 0, 0, 1, 0, 0, 0, 0], dtype=bool),
        left=np.array([1, 1, 2, 4, 4, 6, 6, 7], dtype=np.int32),
        right=np.array([2, 1, 2, 5, 4, 7, 6, 7], dtype=np.int32),
        value=np.array([0, 1.0, 2.0, 0, 10.0, 0, 20.0, 30.0], dtype=np.float64),
        roots=np.array([[0], [3]], dtype=np.int32),
        baseline=np.array([0.25, -1.0], dtype=np.float64),
        depth=2,
    )


def test_walks_both_trees() -> None:
    """Each row ends in the right leaf of each tree, plus the baseline."""
    x = np.array(
        [
            [0.5, -1.0],  # A left (<= is left), B left
            [0.6, 1.0],  # A right, B right then left
            [4.0, 1.0],  # A right, B right then right
            [np.nan, np.nan],  # A missing -> right, B missing -> left
            [np.nan, 2.0],  # B right, then x0 missing -> right
        ]
    )
    expected = np.array(
        [[1.25, 9.0], [2.25, 19.0], [2.25, 29.0], [2.25, 9.0], [2.25, 29.0]]
    )
    np.testing.assert_array_equal(_ensemble().predict(x), expected)


def test_infinite_threshold_splits_off_missing_values_only() -> None:
    """A +inf threshold (a split on missing alone) keeps every number left."""
    tree = _ensemble()
    threshold = tree.threshold.copy()
    threshold[0] = np.inf
    patched = TreeEnsemble(
        **{
            **{f: getattr(tree, f) for f in tree.__dataclass_fields__},
            "threshold": threshold,
        }
    )
    out = patched.predict(np.array([[1e300, 0.0], [np.nan, 0.0]]))
    assert out[:, 0].tolist() == [1.25, 2.25]
