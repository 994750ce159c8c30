"""Fixtures of the Kilowise integration tests.

The source sensor's history is five weeks of a real house (see
``fixtures/household_5_weeks.csv``), imported as hourly long-term statistics
into a real (in-memory) recorder and moved to a fixed week in 2027, so that
every forecast in these tests is made by the bundled model from real data.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator
import csv
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import pathlib
import sys
import threading
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import async_import_statistics
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_FRIENDLY_NAME,
    ATTR_UNIT_OF_MEASUREMENT,
)
from homeassistant.core import HomeAssistant
from homeassistant.util.unit_conversion import EnergyConverter, PowerConverter
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from sqlalchemy.orm import Session
from syrupy.matchers import path_type

from custom_components.kilowise.const import BUNDLED_MODEL, CONF_SOURCE_ENTITY, DOMAIN

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
PACKAGE_DIR = str(BUNDLED_MODEL.parent.parent)

TIME_ZONE = "Europe/Paris"
DATA_START_LOCAL = datetime(2007, 1, 1, 12)
SHIFT = timedelta(weeks=1044)
"""Moves the data from 2007 to 2027, weekday for weekday."""
DATA_START = datetime(2027, 1, 4, 11, tzinfo=UTC)
"""UTC start of the first hour of the fixture (12:00 in Paris, winter time)."""
DATA_HOURS = 840
DATA_END = DATA_START + timedelta(hours=DATA_HOURS)
"""End of the last hour of the fixture: 2027-02-08 11:00 UTC, a Monday."""
NOW = DATA_END + timedelta(minutes=5)
"""The tests start at the first hourly refresh after the data ends."""

MODEL_FREE = path_type(
    {
        # Forecast numbers: checked against the engine and for consistency by
        # the tests themselves, so that retraining the model does not churn
        # the snapshots.
        r".*\.(kwh|p10|p90|level_kwh)": (float, int),
        r"sensor\.kilowise_\w+_(next_hour|rest_of_today|tomorrow|next_48_hours)\.state": (
            str,
        ),
        # What the bundled model says of itself.
        r"(.*\.)?(model_id|created|sha256)": (str,),
        r".*model_version\.state": (str,),
        r".*\.(metrics|training|libraries|trees)": (dict,),
    },
    regex=True,
)
"""Snapshot matcher that keeps structure, names and units, not model numbers."""

SOURCE = "sensor.home_energy"
POWER_SOURCE = "sensor.home_power"
ENTRY_TITLE = "Kilowise Home energy"

ENERGY_ATTRIBUTES = {
    ATTR_DEVICE_CLASS: "energy",
    ATTR_UNIT_OF_MEASUREMENT: "kWh",
    "state_class": "total_increasing",
    ATTR_FRIENDLY_NAME: "Home energy",
}
POWER_ATTRIBUTES = {
    ATTR_DEVICE_CLASS: "power",
    ATTR_UNIT_OF_MEASUREMENT: "W",
    "state_class": "measurement",
    ATTR_FRIENDLY_NAME: "Home power",
}


def load_household() -> np.ndarray:
    """Five weeks of kWh per hour of the real house, NaN where unmeasured."""
    with (FIXTURES / "household_5_weeks.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
    assert len(rows) == DATA_HOURS
    assert datetime.fromisoformat(rows[0]["hour_start_local"]) == DATA_START_LOCAL
    return np.array(
        [float(row["energy_kwh"]) if row["energy_kwh"] else np.nan for row in rows]
    )


def statistic_metadata(statistic_id: str, unit: str) -> StatisticMetaData:
    """Metadata of a sensor's statistics as this Home Assistant version wants it."""
    is_energy = unit in EnergyConverter.VALID_UNITS
    metadata: dict[str, Any] = {
        "has_sum": is_energy,
        "mean_type": StatisticMeanType.NONE
        if is_energy
        else StatisticMeanType.ARITHMETIC,
        "name": None,
        "source": "recorder",
        "statistic_id": statistic_id,
        "unit_of_measurement": unit,
    }
    # 2025.4 rejects unit_class; 2026.x requires it.
    if "unit_class" in StatisticMetaData.__annotations__:
        metadata["unit_class"] = (
            EnergyConverter.UNIT_CLASS if is_energy else PowerConverter.UNIT_CLASS
        )
    return metadata  # type: ignore[return-value]


def meter_statistics(
    kwh: np.ndarray, *, start: datetime = DATA_START, first_sum: float = 1000.0
) -> list[StatisticData]:
    """Hourly rows of an energy meter (kWh) that used ``kwh[i]`` in hour ``i``.

    An unmeasured hour (NaN) has no row, as after an outage; the meter still
    turned then, so the next row's sum includes it.
    """
    rows: list[StatisticData] = []
    total = first_sum
    for index, value in enumerate(kwh):
        total += 0.0 if np.isnan(value) else float(value)
        if not np.isnan(value):
            rows.append(
                {"start": start + timedelta(hours=index), "state": total, "sum": total}
            )
    return rows


def power_statistics(
    kwh: np.ndarray, *, start: datetime = DATA_START, scale: float = 1000.0
) -> list[StatisticData]:
    """Hourly mean-power rows (W by default) of the same use."""
    return [
        {
            "start": start + timedelta(hours=index),
            "mean": float(value) * scale,
            "min": float(value) * scale,
            "max": float(value) * scale,
        }
        for index, value in enumerate(kwh)
        if not np.isnan(value)
    ]


async def async_import(
    hass: HomeAssistant, statistic_id: str, unit: str, rows: list[StatisticData]
) -> None:
    """Import hourly statistics and wait until the recorder has written them."""
    async_import_statistics(hass, statistic_metadata(statistic_id, unit), rows)
    await async_wait_recording_done(hass)


@dataclass
class BlockingCalls:
    """Blocking calls made in the event loop with Kilowise code on the stack."""

    calls: list[str]

    def clear(self) -> None:
        """Forget the calls seen so far."""
        self.calls.clear()


def _kilowise_frame() -> str | None:
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(PACKAGE_DIR) and "/tests/" not in filename:
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return None


@pytest.fixture
def blocking_calls(hass: HomeAssistant) -> Iterator[BlockingCalls]:
    """Record file and database access from the event loop by Kilowise code.

    The harness does not enable Home Assistant's own blocking-call guard
    (``block_async_io``), and that guard skips file access in tests, so the
    tests carry their own: every test fails if Kilowise code reads a file or
    queries the database in the event loop thread.
    """
    seen = BlockingCalls([])
    loop_thread = hass.loop_thread_id

    def guard(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() == loop_thread and (where := _kilowise_frame()):
                seen.calls.append(f"{name} from {where}")
            return original(*args, **kwargs)

        return guarded

    targets: list[tuple[Any, str]] = [
        (builtins, "open"),
        (pathlib.Path, "open"),
        (pathlib.Path, "stat"),
        (pathlib.Path, "read_bytes"),
        (pathlib.Path, "read_text"),
        (np, "load"),
        (Session, "execute"),
    ]
    patches = [
        patch.object(
            owner,
            attr,
            guard(f"{getattr(owner, '__name__', owner)}.{attr}", getattr(owner, attr)),
        )
        for owner, attr in targets
    ]
    for active in patches:
        active.start()
    try:
        yield seen
    finally:
        for active in reversed(patches):
            active.stop()


@pytest.fixture(autouse=True)
async def kilowise_test_setup(
    recorder_mock: Any,
    enable_custom_integrations: None,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A recorder (set up before hass), the custom integration, Paris, 2027."""
    freezer.move_to(NOW)
    await hass.config.async_set_time_zone(TIME_ZONE)


@pytest.fixture(autouse=True)
def refresh_at_five_past(request: pytest.FixtureRequest) -> Iterator[None]:
    """Refresh every entry at exactly five past, so tests can name the minute.

    Real entries spread over a few minutes after it (see ``refresh_offset``);
    tests marked ``refresh_spread`` keep that.
    """
    if request.node.get_closest_marker("refresh_spread"):
        yield
        return
    with patch(
        "custom_components.kilowise.coordinator.refresh_offset",
        return_value=timedelta(0),
    ):
        yield


@pytest.fixture(autouse=True)
def no_blocking_calls_in_loop(
    kilowise_test_setup: None, blocking_calls: BlockingCalls
) -> Iterator[None]:
    """Fail any test during which Kilowise blocked the event loop."""
    yield
    assert not blocking_calls.calls, "blocking calls in the event loop:\n" + "\n".join(
        blocking_calls.calls
    )


@pytest.fixture
def household() -> np.ndarray:
    """The real house's hourly use, five weeks."""
    return load_household()


@pytest.fixture
def mock_config_entry() -> MockConfigEntry:
    """A Kilowise entry forecasting from ``sensor.home_energy``."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=ENTRY_TITLE,
        data={CONF_SOURCE_ENTITY: SOURCE},
        unique_id=SOURCE,
        version=1,
        minor_version=1,
    )


@pytest.fixture
async def source_statistics(hass: HomeAssistant, household: np.ndarray) -> None:
    """The energy meter's long-term statistics and its current state."""
    await async_import(hass, SOURCE, "kWh", meter_statistics(household))
    hass.states.async_set(SOURCE, "12345.6", ENERGY_ATTRIBUTES)


@pytest.fixture
def bundled_model() -> pathlib.Path:
    """The model the integration ships with: every forecast here is its own."""
    assert BUNDLED_MODEL.is_file(), f"{BUNDLED_MODEL} is not there"
    return BUNDLED_MODEL


@pytest.fixture
async def init_integration(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    source_statistics: None,
    bundled_model: pathlib.Path,
) -> MockConfigEntry:
    """Kilowise set up on the real house's history (what it learned loaded too)."""
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    return mock_config_entry
