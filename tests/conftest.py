"""Configuration shared by every Kilowise test (engine, model_builder, integration).

Kept minimal and generic on purpose: fixtures for one part of the project belong
in that part's own conftest.py (for example tests/components/kilowise/conftest.py).
"""

from __future__ import annotations

import logging
from pathlib import Path

import tqdm

# Import our `custom_components` package before Home Assistant starts. Home
# Assistant's loader finds custom integrations through
# `custom_components.__path__`, and the test harness puts its own testing_config
# (which has a `custom_components` package too) first on sys.path when the `hass`
# fixture starts; whichever package is imported first wins. The repository root
# is on sys.path through `pythonpath = ["."]` in pyproject.toml.
import custom_components

# The harness fails every test that leaves a thread running (its autouse
# verify_cleanup fixture). tqdm starts a "tqdm_monitor" thread with its first
# progress bar, even a disabled one, unless the monitor is switched off.
tqdm.tqdm.monitor_interval = 0

# The harness sets SQLAlchemy's statement log to INFO. The recorder thread
# writes it between test phases too, where pytest does not capture output,
# which floods the test log with SQL (thousands of lines per test file).
logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
# Its caplog fixture lowers the root logger to DEBUG for every test, and the
# stderr handler of its logging.basicConfig passes everything on: the recorder's
# pool and queue write DEBUG lines between phases the same way. Tests read the
# records through caplog, which keeps every level; stderr gets warnings only.
for _handler in logging.getLogger().handlers:
    if type(_handler) is logging.StreamHandler:
        _handler.setLevel(logging.WARNING)

REPO_ROOT = Path(__file__).resolve().parent.parent

if Path(custom_components.__file__).resolve().parent != REPO_ROOT / "custom_components":
    raise RuntimeError(
        f"custom_components was imported from {custom_components.__file__}, not from "
        f"{REPO_ROOT / 'custom_components'}: Home Assistant would not find Kilowise"
    )
