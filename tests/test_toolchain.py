"""The test toolchain itself: the right Home Assistant, Python and libraries.

These run in every environment that scripts/test builds, and fail loudly when an
environment drifts from the pins in requirements/.
"""

from __future__ import annotations

from importlib.metadata import version
import io
from pathlib import Path
import re
import sys

from homeassistant.components.recorder import get_instance
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration
import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression
from syrupy.assertion import SnapshotAssertion
from tqdm import tqdm

import custom_components

REPO_ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = REPO_ROOT / "requirements"

# Supported Home Assistant release -> (Python major.minor, numpy pinned by
# Home Assistant, the requirement file of its test environment).
SUPPORTED = {
    "2025.4.4": ((3, 13), "2.2.2", "test-ha2025.4.txt"),
    "2026.10.4": ((3, 14), "2.3.2", "test-ha2026.10.txt"),
}

_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)")


def _exact_pins(*files: str) -> dict[str, str]:
    """Return {distribution: version} for every `name==version` line of the files."""
    pins: dict[str, str] = {}
    for name in files:
        for line in (REQUIREMENTS / name).read_text(encoding="utf-8").splitlines():
            if match := _PIN.match(line):
                pins[match.group(1)] = match.group(2)
    return pins


def test_home_assistant_and_python_are_a_supported_pair() -> None:
    """Each Home Assistant release runs on the Python it was paired with."""
    assert HA_VERSION in SUPPORTED, f"unsupported Home Assistant {HA_VERSION}"
    python, _, _ = SUPPORTED[HA_VERSION]
    assert sys.version_info[:2] == python


def test_numpy_is_home_assistants_pin_and_computes() -> None:
    """numpy is the version Home Assistant pins, not one model_builder pulled in."""
    _, numpy_pin, _ = SUPPORTED[HA_VERSION]
    assert np.__version__ == numpy_pin
    solution = np.linalg.solve(np.array([[2.0, 1.0], [1.0, 3.0]]), np.array([3.0, 5.0]))
    np.testing.assert_allclose(solution, [0.8, 1.4])


def test_environment_matches_every_exact_pin() -> None:
    """Every `==` pin of the environment's requirement files is what is installed."""
    _, _, test_requirements = SUPPORTED[HA_VERSION]
    pins = _exact_pins(test_requirements, "model_builder.txt", "dev.txt")
    assert "homeassistant" in pins
    assert "scikit-learn" in pins
    installed = {name: version(name) for name in pins}
    assert installed == pins


def test_model_builder_stack_fits_a_model() -> None:
    """scikit-learn, pandas, joblib and tqdm import and work together."""
    frame = pd.DataFrame({"hour": np.arange(24, dtype=np.float64)})
    frame["kwh"] = 0.25 * frame["hour"] + 1.0
    model = LinearRegression().fit(frame[["hour"]], frame["kwh"])
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    restored = joblib.load(buffer)  # our own object, just written: safe to load
    assert restored.coef_[0] == pytest.approx(0.25)
    assert restored.intercept_ == pytest.approx(1.0)
    assert sum(tqdm(range(5), disable=True)) == 10


def test_custom_components_is_the_repositorys() -> None:
    """tests/conftest.py made our custom_components package win over the harness's."""
    assert Path(custom_components.__file__).resolve().parent == (
        REPO_ROOT / "custom_components"
    )


async def test_home_assistant_finds_kilowise(
    hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    """A running hass (harness fixture) resolves the kilowise integration to this repo."""
    integration = await async_get_integration(hass, "kilowise")
    assert integration.domain == "kilowise"
    assert not integration.is_built_in
    assert integration.pkg_path == "custom_components.kilowise"
    assert integration.file_path == Path(custom_components.__path__[0]) / "kilowise"


async def test_recorder_fixture_runs(
    recorder_mock: object, hass: HomeAssistant
) -> None:
    """The harness's real recorder (SQLite in memory) starts in this environment."""
    instance = get_instance(hass)
    assert instance is recorder_mock
    assert instance.engine is not None
    assert instance.engine.dialect.name == "sqlite"


def test_snapshot_extension(snapshot: SnapshotAssertion) -> None:
    """syrupy snapshots read the same in every supported Home Assistant."""
    response = {
        "forecast": [{"hour": "2026-01-01T00:00:00+00:00", "kwh": 0.5}],
        "unit": "kWh",
    }
    assert response == snapshot
