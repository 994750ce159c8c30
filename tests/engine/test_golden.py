"""The bundled model reproduces its golden vectors on this Python and numpy."""

from __future__ import annotations

import json
from pathlib import Path
import shutil

import numpy as np
import pytest

from custom_components.kilowise.const import BUNDLED_MODEL
from custom_components.kilowise.engine.artifact import read_artifact
from custom_components.kilowise.engine.golden import (
    GoldenError,
    golden_path,
    replay_golden,
)


def test_bundled_golden_vectors_are_reproduced_bit_for_bit() -> None:
    """The predictions scikit-learn recorded at export, exactly, here.

    The engine does only comparisons and additions in scikit-learn's order,
    both exact in IEEE 754 float64, so no tolerance is needed on any machine.
    """
    artifact = read_artifact(BUNDLED_MODEL)
    result = replay_golden(artifact, golden_path(BUNDLED_MODEL))
    assert result.rows >= 200
    assert result.identical
    assert result.max_abs_diff == 0.0


@pytest.mark.parametrize("batch", [1, 2, 3, 48])
def test_any_number_of_rows_gives_the_same_bits(batch: int) -> None:
    """A row alone or among others: the same sum, added in the same order."""
    artifact = read_artifact(BUNDLED_MODEL)
    document = json.loads(golden_path(BUNDLED_MODEL).read_text())
    rows = np.array(
        [[np.nan if v is None else v for v in row] for row in document["rows"]],
        dtype=np.float64,
    )
    expected = np.array(document["expected"], dtype=np.float64)
    for start in range(0, 96, batch):
        got = artifact.ensemble.predict(rows[start : start + batch])
        assert got.shape == (min(batch, 96 - start), 3)
        assert np.array_equal(got, expected[start : start + batch])


def test_golden_rows_include_missing_features() -> None:
    rows = json.loads(golden_path(BUNDLED_MODEL).read_text())["rows"]
    assert any(value is None for row in rows for value in row)


def test_golden_file_of_another_model_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "kilowise_global.golden.json"
    document = json.loads(golden_path(BUNDLED_MODEL).read_text())
    document["model_id"] = "someone-else"
    other.write_text(json.dumps(document))
    with pytest.raises(GoldenError, match="belongs to someone-else"):
        replay_golden(read_artifact(BUNDLED_MODEL), other)


def test_changed_expectation_is_detected(tmp_path: Path) -> None:
    target = tmp_path / "g.json"
    shutil.copy(golden_path(BUNDLED_MODEL), target)
    document = json.loads(target.read_text())
    document["expected"][3][1] += 1e-12
    target.write_text(json.dumps(document))
    result = replay_golden(read_artifact(BUNDLED_MODEL), target)
    assert not result.identical
    assert 0 < result.max_abs_diff < 1e-11
