"""The hourly coordinator on real statistics: refresh, gaps, resets, units, issues."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from sqlalchemy.exc import OperationalError

from custom_components.kilowise import coordinator as coordinator_module
from custom_components.kilowise.const import (
    CONF_SOURCE_ENTITY,
    DOMAIN,
    ISSUE_SOURCE_MISSING,
    ISSUE_SOURCE_UNAVAILABLE,
    REFRESH_SPREAD,
)
from custom_components.kilowise.coordinator import (
    RECENT_HOURS,
    KilowiseCoordinator,
    full_read_hour,
    next_refresh,
    refresh_offset,
)
from custom_components.kilowise.engine import HISTORY_HOURS
from custom_components.kilowise.history import (
    HourlyHistory,
    SourceKind,
    async_read_history,
)

from .conftest import (
    DATA_END,
    DATA_HOURS,
    DATA_START,
    ENERGY_ATTRIBUTES,
    POWER_ATTRIBUTES,
    POWER_SOURCE,
    SOURCE,
    async_import,
    meter_statistics,
    power_statistics,
)

FORECAST = "sensor.kilowise_home_energy_next_48_hours"
NEXT_HOUR = "sensor.kilowise_home_energy_next_hour"
MODEL = "sensor.kilowise_home_energy_model_version"
HOUR = timedelta(hours=1)
OFFSET = DATA_HOURS - HISTORY_HOURS
"""Index in the fixture of the first hour the coordinator reads."""


def _coordinator(entry: MockConfigEntry) -> KilowiseCoordinator:
    return entry.runtime_data.coordinator


async def _move_to(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: datetime
) -> None:
    freezer.move_to(when)
    async_fire_time_changed(hass, when)
    await hass.async_block_till_done(wait_background_tasks=True)


async def _set_up(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def _meter_history(household: np.ndarray) -> np.ndarray:
    """What the meter's statistics tell: an hour after a gap is unknown too."""
    expected = household.copy()
    gaps = np.flatnonzero(np.isnan(household))
    expected[gaps[gaps + 1 < len(household)] + 1] = np.nan
    return expected[-HISTORY_HOURS:]


async def test_reads_real_meter_history(
    hass: HomeAssistant, init_integration: MockConfigEntry, household: np.ndarray
) -> None:
    """Hourly use is the change of the meter's sum; gaps stay gaps."""
    data = _coordinator(init_integration).data
    history = data.history
    assert history.kind is SourceKind.ENERGY
    assert history.end == DATA_END
    assert len(history.kwh) == HISTORY_HOURS
    np.testing.assert_allclose(history.kwh, _meter_history(household), atol=1e-9)
    # Three hours were unmeasured: they and the hour after each are missing,
    # never filled in.
    assert np.count_nonzero(np.isnan(history.kwh)) == 6
    assert history.dropped_hours == 0
    assert data.forecast.start == DATA_END
    assert data.forecast.history_hours == 672 - 6
    assert data.forecast.notes == ("partial_history",)
    state = hass.states.get(FORECAST)
    assert state.attributes["history_hours"] == 666
    assert state.attributes["history_hours_wanted"] == 672
    assert state.attributes["notes"] == ["partial_history"]


@pytest.mark.refresh_spread
async def test_refreshes_every_hour_after_statistics(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    household: np.ndarray,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A new forecast at five past every hour, once the hour is compiled."""
    coordinator = _coordinator(init_integration)
    first = coordinator.data
    first_state = hass.states.get(FORECAST)

    # Nothing happens between refreshes.
    await _move_to(hass, freezer, DATA_END + timedelta(minutes=30))
    # Each entry has its own slot a few minutes after five past.
    slot = DATA_END + timedelta(minutes=65) + coordinator.refresh_offset
    await _move_to(hass, freezer, slot - timedelta(seconds=1))
    assert coordinator.data is first

    # The recorder compiles the hour that just ended (12:00-13:00 in Paris);
    # the house used what it used at that hour a week before.
    rows = meter_statistics(household)
    new_sum = rows[-1]["sum"] + household[-168]
    await async_import(
        hass,
        SOURCE,
        "kWh",
        [{"start": DATA_END, "state": new_sum, "sum": new_sum}],
    )
    await _move_to(hass, freezer, slot)

    data = coordinator.data
    assert data is not first
    assert data.forecast.start == DATA_END + HOUR
    assert data.history.end == DATA_END + HOUR
    assert data.history.kwh[-1] == pytest.approx(household[-168])
    assert data.history.hours_since_last_value == 0
    state = hass.states.get(FORECAST)
    assert state.attributes["forecast"][0]["start"] == "2027-02-08T13:00:00+01:00"
    assert state.attributes["forecast"] != first_state.attributes["forecast"]


@pytest.mark.refresh_spread
async def test_late_statistics_are_read_again(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    household: np.ndarray,
    freezer: FrozenDateTimeFactory,
) -> None:
    """If the hour is not compiled by five past, it is read again ten minutes on."""
    coordinator = _coordinator(init_integration)
    slot = DATA_END + timedelta(minutes=65) + coordinator.refresh_offset
    await _move_to(hass, freezer, slot)
    assert coordinator.data.history.hours_since_last_value == 1

    rows = meter_statistics(household)
    new_sum = rows[-1]["sum"] + 0.9
    await async_import(
        hass, SOURCE, "kWh", [{"start": DATA_END, "state": new_sum, "sum": new_sum}]
    )
    await _move_to(hass, freezer, slot + timedelta(minutes=10))
    assert coordinator.data.history.hours_since_last_value == 0
    assert coordinator.data.history.kwh[-1] == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("unit", "scale"), [("kWh", 1.0), ("Wh", 1000.0), ("MWh", 0.001)]
)
async def test_meter_units(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    household: np.ndarray,
    unit: str,
    scale: float,
) -> None:
    """A meter in Wh or MWh gives the same kWh per hour as one in kWh."""
    rows = meter_statistics(household * scale, first_sum=1000.0 * scale)
    await async_import(hass, SOURCE, unit, rows)
    hass.states.async_set(
        SOURCE, "1", {**ENERGY_ATTRIBUTES, "unit_of_measurement": unit}
    )
    await _set_up(hass, mock_config_entry)
    history = _coordinator(mock_config_entry).data.history
    assert history.unit == unit
    np.testing.assert_allclose(history.kwh, _meter_history(household), atol=1e-6)


@pytest.mark.parametrize(("unit", "scale"), [("W", 1000.0), ("kW", 1.0)])
async def test_power_sensor(
    hass: HomeAssistant,
    household: np.ndarray,
    unit: str,
    scale: float,
) -> None:
    """A power sensor's hourly mean (W or kW) times one hour is the hour's kWh."""
    await async_import(
        hass, POWER_SOURCE, unit, power_statistics(household, scale=scale)
    )
    hass.states.async_set(
        POWER_SOURCE, "850", {**POWER_ATTRIBUTES, "unit_of_measurement": unit}
    )
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Kilowise Home power",
        data={CONF_SOURCE_ENTITY: POWER_SOURCE},
        unique_id=POWER_SOURCE,
    )
    await _set_up(hass, entry)
    data = _coordinator(entry).data
    assert data.history.kind is SourceKind.POWER
    # Only the unmeasured hours themselves are missing: a mean needs no
    # previous hour.
    np.testing.assert_allclose(data.history.kwh, household[-HISTORY_HOURS:], atol=1e-9)
    assert data.forecast.history_hours == 672 - 3
    state = hass.states.get("sensor.kilowise_home_power_next_48_hours")
    assert state is not None
    assert float(state.state) > 0


async def test_meter_reset_is_a_gap(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, household: np.ndarray
) -> None:
    """A meter that goes backwards (reset, replaced) leaves that hour out."""
    rows = meter_statistics(household)
    reset_at = DATA_START + timedelta(hours=DATA_HOURS - 30)
    for row in rows:
        if row["start"] >= reset_at:
            row["sum"] -= 9000.0
            row["state"] -= 9000.0
    await async_import(hass, SOURCE, "kWh", rows)
    hass.states.async_set(SOURCE, "5", ENERGY_ATTRIBUTES)
    await _set_up(hass, mock_config_entry)

    history = _coordinator(mock_config_entry).data.history
    expected = _meter_history(household)
    expected[-30] = np.nan
    np.testing.assert_allclose(history.kwh, expected, atol=1e-9)
    assert history.dropped_hours == 1
    assert np.nanmin(history.kwh) >= 0.0
    state = hass.states.get(FORECAST)
    assert state.attributes["dropped_hours"] == 1
    assert state.state != STATE_UNAVAILABLE


async def test_gap_in_the_last_week(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, household: np.ndarray
) -> None:
    """An hour missing in the last week is noted, and forecast around."""
    household = household.copy()
    household[-10] = np.nan
    await async_import(hass, SOURCE, "kWh", meter_statistics(household))
    hass.states.async_set(SOURCE, "5", ENERGY_ATTRIBUTES)
    await _set_up(hass, mock_config_entry)
    data = _coordinator(mock_config_entry).data
    assert np.isnan(data.history.kwh[-10])
    assert np.isnan(data.history.kwh[-9])
    assert data.forecast.notes == ("partial_history", "gaps_last_week")
    assert hass.states.get(FORECAST).attributes["notes"] == [
        "partial_history",
        "gaps_last_week",
    ]


async def test_short_history(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, household: np.ndarray
) -> None:
    """Five days of history: a forecast anyway, saying how little it rests on."""
    recent = household[-5 * 24 :]
    await async_import(
        hass,
        SOURCE,
        "kWh",
        meter_statistics(recent, start=DATA_END - timedelta(hours=len(recent))),
    )
    hass.states.async_set(SOURCE, "5", ENERGY_ATTRIBUTES)
    await _set_up(hass, mock_config_entry)
    coordinator = _coordinator(mock_config_entry)
    assert coordinator.last_update_success
    # The first imported hour has no hour before it to take a change from.
    assert coordinator.data.forecast.history_hours == 5 * 24 - 1
    state = hass.states.get(FORECAST)
    assert state.attributes["history_hours"] == 119
    assert "partial_history" in state.attributes["notes"]
    assert float(state.state) > 0


async def test_not_enough_history_then_enough(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    household: np.ndarray,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Under a day of history: unavailable with a reason, until more arrives."""
    recent = household[-12:]
    await async_import(
        hass,
        SOURCE,
        "kWh",
        meter_statistics(recent, start=DATA_END - timedelta(hours=12)),
    )
    hass.states.async_set(SOURCE, "5", ENERGY_ATTRIBUTES)
    await _set_up(hass, mock_config_entry)
    coordinator = _coordinator(mock_config_entry)
    assert not coordinator.last_update_success
    assert coordinator.last_exception is not None
    assert coordinator.last_exception.translation_key == "not_enough_history"
    assert coordinator.last_exception.translation_placeholders == {
        "entity_id": SOURCE,
        "hours": "11",
        "needed": "24",
    }
    assert hass.states.get(FORECAST).state == STATE_UNAVAILABLE
    assert hass.states.get(NEXT_HOUR).state == STATE_UNAVAILABLE
    # The model sensor does not depend on history.
    assert hass.states.get(MODEL).state != STATE_UNAVAILABLE

    # The rest of the real history turns up (say, imported by the user).
    await async_import(hass, SOURCE, "kWh", meter_statistics(household))
    await _move_to(hass, freezer, DATA_END + timedelta(minutes=65))
    assert coordinator.last_update_success
    assert hass.states.get(FORECAST).state != STATE_UNAVAILABLE


async def test_no_statistics(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """A source without long-term statistics: set up, but unavailable."""
    hass.states.async_set(SOURCE, "5", ENERGY_ATTRIBUTES)
    await _set_up(hass, mock_config_entry)
    coordinator = _coordinator(mock_config_entry)
    assert not coordinator.last_update_success
    assert coordinator.last_exception is not None
    assert coordinator.last_exception.translation_key == "no_statistics"
    assert hass.states.get(FORECAST).state == STATE_UNAVAILABLE


async def test_no_recent_history(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, household: np.ndarray
) -> None:
    """Statistics that all lie more than 30 days back give no forecast."""
    await async_import(
        hass,
        SOURCE,
        "kWh",
        meter_statistics(household, start=DATA_START - timedelta(days=60)),
    )
    hass.states.async_set(SOURCE, "5", ENERGY_ATTRIBUTES)
    await _set_up(hass, mock_config_entry)
    coordinator = _coordinator(mock_config_entry)
    assert coordinator.last_exception is not None
    assert coordinator.last_exception.translation_key == "no_history"
    assert hass.states.get(FORECAST).state == STATE_UNAVAILABLE


async def test_statistics_read_error(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A database error makes the sensors unavailable until the next hour."""

    def fail(*args: object, **kwargs: object) -> None:
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(
        "custom_components.kilowise.history.statistics_during_period", fail
    )
    await _move_to(hass, freezer, DATA_END + timedelta(minutes=65))
    coordinator = _coordinator(init_integration)
    assert not coordinator.last_update_success
    assert coordinator.last_exception is not None
    assert coordinator.last_exception.translation_key == "statistics_unavailable"
    assert hass.states.get(FORECAST).state == STATE_UNAVAILABLE

    monkeypatch.undo()
    await _move_to(hass, freezer, DATA_END + timedelta(minutes=125))
    assert coordinator.last_update_success
    assert hass.states.get(FORECAST).state != STATE_UNAVAILABLE


async def test_unavailable_source_issue(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    household: np.ndarray,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A source that stops reporting for hours gets a repair issue; it clears."""
    issues = ir.async_get(hass)
    issue_id = f"{ISSUE_SOURCE_UNAVAILABLE}_{init_integration.entry_id}"
    hass.states.async_set(SOURCE, STATE_UNAVAILABLE, ENERGY_ATTRIBUTES)

    # An hour or two without data is an ordinary gap.
    await _move_to(hass, freezer, DATA_END + timedelta(minutes=65))
    await _move_to(hass, freezer, DATA_END + timedelta(minutes=125))
    assert issues.async_get_issue(DOMAIN, issue_id) is None

    await _move_to(hass, freezer, DATA_END + timedelta(minutes=185))
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_key == ISSUE_SOURCE_UNAVAILABLE
    assert issue.translation_placeholders == {
        "entity_id": SOURCE,
        "title": init_integration.title,
    }
    # The forecast goes on from the history there is.
    assert hass.states.get(FORECAST).state != STATE_UNAVAILABLE

    # The meter is back and its hours are compiled again.
    total = meter_statistics(household)[-1]["sum"]
    rows = []
    for hour in range(3):
        total += float(household[-168 + hour])
        rows.append({"start": DATA_END + hour * HOUR, "state": total, "sum": total})
    await async_import(hass, SOURCE, "kWh", rows)
    hass.states.async_set(SOURCE, str(total), ENERGY_ATTRIBUTES)
    await _move_to(hass, freezer, DATA_END + timedelta(minutes=245))
    assert issues.async_get_issue(DOMAIN, issue_id) is None


async def test_removed_source_issue(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A source that no longer exists gets a repair issue at once."""
    issues = ir.async_get(hass)
    issue_id = f"{ISSUE_SOURCE_MISSING}_{init_integration.entry_id}"
    hass.states.async_remove(SOURCE)
    await _move_to(hass, freezer, DATA_END + timedelta(minutes=65))
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_key == ISSUE_SOURCE_MISSING
    assert hass.states.get(FORECAST).state != STATE_UNAVAILABLE

    hass.states.async_set(SOURCE, "5", ENERGY_ATTRIBUTES)
    await _move_to(hass, freezer, DATA_END + timedelta(minutes=125))
    assert issues.async_get_issue(DOMAIN, issue_id) is None

    # Unloading the entry takes its issues along.
    hass.states.async_remove(SOURCE)
    await _move_to(hass, freezer, DATA_END + timedelta(minutes=185))
    assert issues.async_get_issue(DOMAIN, issue_id) is not None
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert issues.async_get_issue(DOMAIN, issue_id) is None


async def test_unloaded_entry_stops_refreshing(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After unload, the hourly schedule is gone."""
    reads: list[object] = []

    async def count(*args: object) -> None:
        reads.append(args)

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    monkeypatch.setattr(
        "custom_components.kilowise.coordinator.async_read_history", count
    )
    await _move_to(hass, freezer, DATA_END + timedelta(minutes=65))
    await _move_to(hass, freezer, DATA_END + timedelta(minutes=75))
    assert reads == []


def test_refreshes_of_many_entries_are_spread() -> None:
    """A hundred entries refresh over four minutes, each in its own stable slot."""
    offsets = [refresh_offset(f"entry{i:03d}") for i in range(100)]
    assert all(timedelta(0) <= o < REFRESH_SPREAD for o in offsets)
    assert offsets == [refresh_offset(f"entry{i:03d}") for i in range(100)]
    seconds = sorted(o.total_seconds() for o in offsets)
    assert len(set(seconds)) >= 70
    # Spread out: no minute of the span holds more than a third of them.
    per_minute = np.bincount([int(s // 60) for s in seconds], minlength=4)
    assert per_minute.max() <= 34
    now = datetime(2026, 3, 29, 0, 59, tzinfo=UTC)
    assert next_refresh(now, timedelta(seconds=90)) == datetime(
        2026, 3, 29, 1, 6, 30, tzinfo=UTC
    )


def test_full_reads_of_many_entries_are_spread_over_the_day() -> None:
    """A hundred entries read their whole history each at its own hour."""
    hours = [full_read_hour(f"entry{i:03d}") for i in range(100)]
    assert hours == [full_read_hour(f"entry{i:03d}") for i in range(100)]
    per_hour = np.bincount(hours, minlength=24)
    assert len(per_hour) == 24
    assert per_hour.max() <= 12


def _history(
    kwh: np.ndarray, end: datetime, unit: str = "kWh", dropped: int | None = None
) -> HourlyHistory:
    mask = np.zeros(len(kwh), dtype=bool)
    if dropped is not None:
        mask[dropped] = True
    return HourlyHistory(SOURCE, end, kwh, SourceKind.ENERGY, unit, mask)


def test_history_joins_a_recent_read() -> None:
    """Older hours kept, newest replaced; what does not join is refused."""
    previous = _history(np.arange(10.0), DATA_END, dropped=8)
    recent = _history(np.array([80.0, 90.0, 100.0, 110.0]), DATA_END + 2 * HOUR)
    joined = previous.updated(recent)
    assert joined is not None
    assert joined.end == DATA_END + 2 * HOUR
    np.testing.assert_array_equal(
        joined.kwh, [2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 80.0, 90.0, 100.0, 110.0]
    )
    # Hour 8 was a reset in the previous read; the recent read replaced it.
    assert joined.dropped_hours == 0
    assert previous.updated(_history(recent.kwh, recent.end, unit="Wh")) is None
    # Four new hours cannot be covered by a read of four hours (no overlap).
    assert previous.updated(_history(recent.kwh, DATA_END + 4 * HOUR)) is None
    assert previous.updated(_history(recent.kwh, DATA_END - HOUR)) is None


async def _reads(hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record how many hours each statistics read of the coordinator asks for."""
    asked: list[int] = []

    async def counting(
        hass: HomeAssistant,
        statistic_id: str,
        end: datetime,
        hours: int = HISTORY_HOURS,
    ) -> HourlyHistory:
        asked.append(hours)
        return await async_read_history(hass, statistic_id, end, hours)

    monkeypatch.setattr(coordinator_module, "async_read_history", counting)
    return asked


async def _next_hour(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    coordinator: KilowiseCoordinator,
    household: np.ndarray,
    hour: int,
) -> None:
    """The recorder compiles hour ``hour`` after the data; the refresh reads it."""
    total = meter_statistics(household)[-1]["sum"] + float(
        np.nansum(household[-168 : -168 + hour + 1])
    )
    start = DATA_END + hour * HOUR
    await async_import(
        hass, SOURCE, "kWh", [{"start": start, "state": total, "sum": total}]
    )
    await _move_to(
        hass, freezer, start + timedelta(minutes=65) + coordinator.refresh_offset
    )
    assert coordinator.data.history.end == start + HOUR


@pytest.mark.refresh_spread
async def test_reads_recent_hours_between_full_reads(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    household: np.ndarray,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Between full reads only the newest hours are read, with the same result."""
    coordinator = _coordinator(init_integration)
    monkeypatch.setattr(coordinator, "_full_read_hour", (DATA_END.hour + 12) % 24)
    asked = await _reads(hass, monkeypatch)
    for hour in range(3):
        await _next_hour(hass, freezer, coordinator, household, hour)
    assert asked == [RECENT_HOURS + 1] * 3
    history = coordinator.data.history
    full = await async_read_history(hass, SOURCE, history.end)
    np.testing.assert_array_equal(history.kwh, full.kwh)
    np.testing.assert_array_equal(history.dropped, full.dropped)


@pytest.mark.refresh_spread
async def test_full_read_once_a_day_sees_old_corrections(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    household: np.ndarray,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A correction older than the recent hours shows at the entry's full read."""
    coordinator = _coordinator(init_integration)
    # The full read falls on the second refresh.
    monkeypatch.setattr(coordinator, "_full_read_hour", (DATA_END.hour + 2) % 24)
    asked = await _reads(hass, monkeypatch)
    # A week ago the meter was reset: its sum fell to zero for good.
    old = DATA_HOURS - 168
    rows = [
        {**row, "sum": row["sum"] - 2000.0, "state": row["sum"] - 2000.0}
        for row in meter_statistics(household)[old:]
    ]
    await async_import(hass, SOURCE, "kWh", rows)
    await _next_hour(hass, freezer, coordinator, household, 0)
    assert asked == [RECENT_HOURS + 1]
    assert coordinator.data.history.dropped_hours == 0
    await _next_hour(hass, freezer, coordinator, household, 1)
    assert asked == [RECENT_HOURS + 1, HISTORY_HOURS]
    assert coordinator.data.history.dropped_hours == 1
