"""Fixtures of the Kilowise integration tests.

The source sensor's history is five weeks of a real house (see
``fixtures/household_5_weeks.csv``), imported as hourly long-term statistics
into a real (in-memory) recorder and moved to a fixed week in 2027, so that
every forecast in these tests is made by the bundled model from real data.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
import csv
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import json
import pathlib
import sys
import threading
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant import config_entries
from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import async_import_statistics
from homeassistant.components.repairs.issue_handler import RepairsFlowManager
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_FRIENDLY_NAME,
    ATTR_UNIT_OF_MEASUREMENT,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowManager, FlowResultType, section
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util.unit_conversion import EnergyConverter, PowerConverter
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from sqlalchemy.orm import Session
from syrupy.matchers import path_type

from custom_components.kilowise.const import (
    BUNDLED_MODEL,
    CONF_DURATION_MINUTES,
    CONF_EARLIEST_START,
    CONF_ENERGY_ENTITY,
    CONF_ENERGY_KWH,
    CONF_LATEST_END,
    CONF_NAME,
    CONF_PEAK_WARNING_MINUTES,
    CONF_POWER_PROFILE,
    CONF_PRICE_ENTITY,
    CONF_SOURCE_ENTITY,
    CONF_SWITCH_ENTITY,
    DOMAIN,
    SUBENTRY_APPLIANCE,
)
from model_builder.datasets import default_data_dir

from . import translation_files

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
        # Where the forecast's peaks fall (and so the peak warnings pending).
        r"recommendations\.(peaks|peak_hour|peak_now)": (list, str, bool),
        r"recommendations\.events\.pending": (int,),
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
) -> AsyncIterator[None]:
    """A recorder (set up before hass), the custom integration, Paris, 2027.

    At the end, the work a test left running (a reload an options change or a new
    subentry scheduled) finishes first: the harness shuts the recorder down
    before it stops Home Assistant, and a read still running on its closed
    in-memory database can crash the process.
    """
    freezer.move_to(NOW)
    await hass.config.async_set_time_zone(TIME_ZONE)
    yield
    await hass.async_block_till_done(wait_background_tasks=True)


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


@pytest.fixture(autouse=True)
def no_deprecated_calls(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail any test during which Home Assistant reported Kilowise calling an
    API it deprecates (its frame helper logs each such call)."""
    yield
    reports = [
        record.getMessage()
        for when in ("setup", "call")
        for record in caplog.get_records(when)
        if record.name == "homeassistant.helpers.frame"
        and "custom integration 'kilowise'" in record.getMessage()
    ]
    assert not reports, "deprecated calls:\n" + "\n".join(reports)


@pytest.fixture
def household() -> np.ndarray:
    """The real house's hourly use, five weeks."""
    return load_household()


@pytest.fixture
def mock_config_entry() -> MockConfigEntry:
    """A Kilowise entry forecasting from ``sensor.home_energy``."""
    return make_entry({}, [])


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


@dataclass
class TranslationUses:
    """Translation keys that flows, issues and exceptions used during a test."""

    problems: list[str]

    def require(self, key: str, given: Mapping[str, Any] | None, what: str) -> None:
        """``key`` must exist in every file, its placeholders given."""
        for name, flat in translation_files.all_flat().items():
            if key not in flat:
                self.problems.append(f"{what}: {name} has no {key}")
                continue
            needed = translation_files.placeholders(flat[key]) - set(given or {})
            if needed:
                self.problems.append(
                    f"{what}: {name} {key} needs placeholders {sorted(needed)}"
                )

    def optional(self, key: str, given: Mapping[str, Any] | None, what: str) -> None:
        """``key`` may be absent; where present, its placeholders are given."""
        if key in translation_files.source():
            self.require(key, given, what)


def _flow_prefix(manager: Any, flow: Any) -> str | None:
    """Where a Kilowise flow's strings are, or None for another integration's."""
    hass = flow.hass
    if isinstance(manager, config_entries.ConfigEntriesFlowManager):
        return "config" if flow.handler == DOMAIN else None
    if isinstance(manager, config_entries.OptionsFlowManager):
        entry = hass.config_entries.async_get_entry(flow.handler)
        return "options" if entry is not None and entry.domain == DOMAIN else None
    subentries = getattr(config_entries, "ConfigSubentryFlowManager", None)
    if subentries is not None and isinstance(manager, subentries):
        entry_id, subentry_type = flow.handler
        entry = hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN:
            return None
        return f"config_subentries.{subentry_type}"
    if isinstance(manager, RepairsFlowManager) and flow.handler == DOMAIN:
        issue = ir.async_get(hass).async_get_issue(DOMAIN, flow.issue_id)
        return None if issue is None else f"issues.{issue.translation_key}.fix_flow"
    return None


def _check_flow_result(uses: TranslationUses, prefix: str, result: Any) -> None:
    given = result.get("description_placeholders")
    what = f"flow {prefix}"
    if result["type"] == FlowResultType.FORM:
        step = f"{prefix}.step.{result['step_id']}"
        uses.optional(f"{step}.title", given, what)
        uses.optional(f"{step}.description", given, what)
        schema = result.get("data_schema")
        for field, value in (schema.schema if schema is not None else {}).items():
            if isinstance(value, section):
                # A section is named, and its fields are labelled and
                # explained under it (where Home Assistant's frontend reads
                # them); its description is optional.
                at = f"{step}.sections.{field}"
                uses.require(f"{at}.name", given, what)
                uses.optional(f"{at}.description", given, what)
                for inner in value.schema.schema:
                    uses.require(f"{at}.data.{inner}", given, what)
                    uses.require(f"{at}.data_description.{inner}", given, what)
                continue
            # Every field is labelled and explained (the quality scale's
            # config-flow rule: data_description for every field).
            uses.require(f"{step}.data.{field}", given, what)
            uses.require(f"{step}.data_description.{field}", given, what)
        for error in (result.get("errors") or {}).values():
            uses.require(f"{prefix}.error.{error}", given, what)
    elif result["type"] == FlowResultType.ABORT:
        uses.require(f"{prefix}.abort.{result['reason']}", given, what)
    elif result["type"] == FlowResultType.MENU:
        step = f"{prefix}.step.{result['step_id']}"
        for option in result.get("menu_options") or ():
            uses.require(f"{step}.menu_options.{option}", given, what)


@pytest.fixture(autouse=True)
def translations_used_exist() -> Iterator[TranslationUses]:
    """Fail a test in which Kilowise used a string that some language lacks.

    Every flow step shown (config, options, subentry and repair flows: the
    step's texts, each field's label and description, errors, abort
    reasons), every repair issue raised and every exception with a Kilowise
    translation key is checked, when it happens, against ``strings.json``
    and every file under ``translations/``, placeholders included.
    """
    uses = TranslationUses([])
    # Read (and cache) the files now: read first inside a check, with
    # Kilowise's frames on the stack, they would count as its blocking calls.
    translation_files.all_flat()
    handle_step = FlowManager._async_handle_step
    get_or_create = ir.IssueRegistry.async_get_or_create
    error_init = HomeAssistantError.__init__

    async def checked_step(
        self: FlowManager, flow: Any, step_id: str, user_input: Any
    ) -> Any:
        result = await handle_step(self, flow, step_id, user_input)
        if (prefix := _flow_prefix(self, flow)) is not None:
            _check_flow_result(uses, prefix, result)
        return result

    def checked_issue(
        self: ir.IssueRegistry, domain: str, issue_id: str, **kwargs: Any
    ) -> Any:
        if domain == DOMAIN:
            key = kwargs["translation_key"]
            given = kwargs.get("translation_placeholders")
            uses.require(f"issues.{key}.title", given, f"issue {issue_id}")
            if kwargs["is_fixable"]:
                uses.optional(f"issues.{key}.description", given, f"issue {issue_id}")
            else:
                uses.require(f"issues.{key}.description", given, f"issue {issue_id}")
        return get_or_create(self, domain, issue_id, **kwargs)

    def checked_error(self: HomeAssistantError, *args: Any, **kwargs: Any) -> None:
        error_init(self, *args, **kwargs)
        if kwargs.get("translation_domain") == DOMAIN:
            key = kwargs.get("translation_key")
            uses.require(
                f"exceptions.{key}.message",
                kwargs.get("translation_placeholders"),
                f"{type(self).__name__}",
            )

    with (
        patch.object(FlowManager, "_async_handle_step", checked_step),
        patch.object(ir.IssueRegistry, "async_get_or_create", checked_issue),
        patch.object(HomeAssistantError, "__init__", checked_error),
    ):
        yield uses
    assert not uses.problems, "strings missing:\n" + "\n".join(
        dict.fromkeys(uses.problems)
    )


# --- Recommendations: a price sensor and appliances --------------------------
# Prices are illustrative day-ahead-shaped numbers in each integration's
# attribute shape (tests/fixtures/prices); the dishwasher's sub-meter is the
# real Konstanz dishwasher counter, moved to end where the household data ends.

PRICES = pathlib.Path(__file__).parents[2] / "fixtures" / "prices"
PRICE_SENSOR = "sensor.electricity_price"
DISHWASHER_METER = "sensor.dishwasher_energy"

KONSTANZ = (
    pathlib.Path("opsd_household_residential4")
    / "household_data_60min_singleindex_residential4.csv"
)
METER_HOURS = 24 * 90


DISHWASHER: dict[str, Any] = {
    CONF_NAME: "Dishwasher",
    CONF_DURATION_MINUTES: 150.0,
    CONF_ENERGY_KWH: 1.1,
    CONF_POWER_PROFILE: [],
    CONF_SWITCH_ENTITY: "switch.dishwasher",
    CONF_ENERGY_ENTITY: DISHWASHER_METER,
    CONF_EARLIEST_START: "20:00:00",
    CONF_LATEST_END: "07:00:00",
}
WASHER: dict[str, Any] = {
    CONF_NAME: "Washing machine",
    CONF_DURATION_MINUTES: 90.0,
    CONF_ENERGY_KWH: 0.0,
    CONF_POWER_PROFILE: [2.0, 0.2, 0.2, 0.6],
    CONF_SWITCH_ENTITY: None,
    CONF_ENERGY_ENTITY: None,
    CONF_EARLIEST_START: None,
    CONF_LATEST_END: None,
}


def price_fixture(name: str) -> dict[str, Any]:
    """A price sensor's state and attributes in one integration's shape."""
    return dict(json.loads((PRICES / f"{name}.json").read_text()))


def set_price_sensor(hass: HomeAssistant, name: str, **overrides: Any) -> None:
    """``sensor.electricity_price`` publishing a price fixture."""
    data = price_fixture(name)
    hass.states.async_set(PRICE_SENSOR, data["state"], data["attributes"] | overrides)


def konstanz_dishwasher() -> np.ndarray:
    """kWh per hour of the real Konstanz dishwasher, 90 days before it stops."""
    with (default_data_dir() / KONSTANZ).open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    counter = np.array(
        [
            float(row["DE_KN_residential4_dishwasher"])
            if row["DE_KN_residential4_dishwasher"]
            else np.nan
            for row in rows
        ]
    )
    last = int(np.flatnonzero(~np.isnan(counter))[-1])
    return np.diff(counter[last - METER_HOURS : last + 1])


def make_entry(
    options: dict[str, Any], appliances: list[dict[str, Any]]
) -> MockConfigEntry:
    """A Kilowise entry with these options and appliance subentries."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=ENTRY_TITLE,
        data={CONF_SOURCE_ENTITY: SOURCE},
        unique_id=SOURCE,
        version=1,
        minor_version=1,
        options=options,
        subentries_data=[
            ConfigSubentryData(
                data=appliance,
                subentry_type=SUBENTRY_APPLIANCE,
                title=appliance[CONF_NAME],
                unique_id=None,
            )
            for appliance in appliances
        ],
    )


@pytest.fixture
async def dishwasher_meter(hass: HomeAssistant) -> np.ndarray:
    """The dishwasher's sub-meter statistics (real Konstanz counter)."""
    use = konstanz_dishwasher()
    await async_import(
        hass,
        DISHWASHER_METER,
        "kWh",
        meter_statistics(use, start=DATA_END - timedelta(hours=len(use))),
    )
    hass.states.async_set(
        DISHWASHER_METER,
        "321.0",
        {
            "device_class": "energy",
            "unit_of_measurement": "kWh",
            "state_class": "total_increasing",
        },
    )
    return use


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """Add and set up an entry, and wait for what it starts in the background."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    return entry


@pytest.fixture
async def priced_entry(
    hass: HomeAssistant,
    source_statistics: None,
    dishwasher_meter: np.ndarray,
) -> MockConfigEntry:
    """Kilowise with a Nord Pool price sensor, a dishwasher and a washing machine."""
    set_price_sensor(hass, "nordpool_hourly")
    entry = make_entry(
        {CONF_PRICE_ENTITY: PRICE_SENSOR, CONF_PEAK_WARNING_MINUTES: 30},
        [DISHWASHER, WASHER],
    )
    return await setup_entry(hass, entry)


def subentry_id(entry: MockConfigEntry, name: str) -> str:
    """The id of the entry's subentry titled ``name``."""
    return next(s.subentry_id for s in entry.subentries.values() if s.title == name)
