"""Daily local-time windows: an appliance's (earliest start, latest end) and a
zone's deferrable loads' (window start, window end).

Pure Python. A window is given by two times of day in the home's time zone;
one that ends at or before its start crosses midnight and ends the next day.
The windows come out in UTC, so that a day of 23 or 25 hours (a clock
change) is measured as it is.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any


def time_of_day(value: Any) -> time | None:
    """A time of day as forms and storage give it ("07:30:00", a ``time``).

    None for no time (None or an empty text); ``ValueError`` for a text that
    is not a time.
    """
    if value in (None, ""):
        return None
    if isinstance(value, time):
        return value
    return time.fromisoformat(str(value))


def daily_windows(
    now: datetime, tz: tzinfo, start: time, end: time
) -> list[tuple[datetime, datetime]]:
    """The windows [start, end) of yesterday, today, tomorrow and the day
    after (local days of ``now`` in ``tz``), as UTC (start, end) pairs."""
    local_day = now.astimezone(tz).date()
    windows = []
    for days in range(-1, 3):
        day = local_day + timedelta(days=days)
        begin = datetime.combine(day, start, tzinfo=tz)
        end_day = day if end > start else day + timedelta(days=1)
        finish = datetime.combine(end_day, end, tzinfo=tz)
        windows.append((begin.astimezone(UTC), finish.astimezone(UTC)))
    return windows
