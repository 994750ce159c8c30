"""Daily local-time windows and times of day (appliances' and deferrable loads')."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.kilowise.engine.daily import daily_windows, time_of_day

PARIS = ZoneInfo("Europe/Paris")


def test_time_of_day() -> None:
    """Forms give texts, storage texts or times; nothing is None."""
    assert time_of_day("07:30:00") == time(7, 30)
    assert time_of_day("22:00") == time(22, 0)
    assert time_of_day(time(6, 15)) == time(6, 15)
    assert time_of_day(None) is None
    assert time_of_day("") is None
    with pytest.raises(ValueError, match="Invalid isoformat"):
        time_of_day("half past seven")


def test_windows_of_four_days_in_utc() -> None:
    """Yesterday's to the day after tomorrow's, in UTC, for a Paris home."""
    now = datetime(2027, 2, 10, 11, 0, tzinfo=UTC)  # 12:00 in Paris
    windows = daily_windows(now, PARIS, time(10, 0), time(18, 0))
    assert windows == [
        (
            datetime(2027, 2, day, 9, 0, tzinfo=UTC),
            datetime(2027, 2, day, 17, 0, tzinfo=UTC),
        )
        for day in (9, 10, 11, 12)
    ]


def test_window_across_midnight_and_a_clock_change() -> None:
    """22:00 to 07:00 ends the next morning; the night the clocks go forward
    it lasts eight hours, not nine."""
    now = datetime(2027, 3, 27, 12, 0, tzinfo=UTC)
    windows = daily_windows(now, PARIS, time(22, 0), time(7, 0))
    lengths = [end - start for start, end in windows]
    assert lengths == [
        timedelta(hours=9),
        timedelta(hours=8),  # 27 to 28 March 2027: summer time begins
        timedelta(hours=9),
        timedelta(hours=9),
    ]
    start, end = windows[1]
    assert start.astimezone(PARIS) == datetime(2027, 3, 27, 22, 0, tzinfo=PARIS)
    assert end.astimezone(PARIS) == datetime(2027, 3, 28, 7, 0, tzinfo=PARIS)


def test_same_start_and_end_is_a_whole_day() -> None:
    """An appliance with only one of its times: the 24 hours from it."""
    now = datetime(2027, 2, 10, 11, 0, tzinfo=UTC)
    start, end = daily_windows(now, PARIS, time(20, 0), time(20, 0))[1]
    assert end - start == timedelta(hours=24)
