"""Build the demo's energy history from the real Sceaux household data.

Standard library only, so that it runs under any Python >= 3.9.

The UCI "Individual household electric power consumption" hourly roll-up is
one real house in Sceaux (France), December 2006 to November 2010, in local
wall-clock time. This module picks a real slice of it, moves it forward by a
whole number of weeks so that it ends at the current hour (weekday and hour
of day are kept, and the season roughly too), and turns it into:

* hourly long-term statistics for an energy meter (``state`` = meter
  reading, ``sum`` = cumulative energy), ready for the recorder's
  ``recorder/import_statistics`` websocket command;
* the real hours that followed the slice, as a cumulative profile that a
  template sensor replays live, so the meter keeps counting like a real
  one while the demo runs.

Hours with fewer than 60 valid minutes are left out of the statistics
(never imputed). The ``sum`` of the last imported hour is 0.0 and earlier
sums are negative: Home Assistant's recorder starts the live sensor's own
sum at 0 when it first compiles it, so this keeps the series continuous.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
import datetime as dt
import json
import math
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

CSV_RELATIVE = Path("uci_household_power") / "household_power_hourly.csv"
TIME_ZONE = "Europe/Paris"
HOUR = dt.timedelta(hours=1)
WEEK = dt.timedelta(weeks=1)
# A plausible meter reading for the first imported hour (kWh).
METER_START_KWH = 24000.0


@dataclass
class HourRow:
    """One hour of the source file."""

    start: dt.datetime  # naive local wall-clock time
    kwh: float | None  # None when the hour is not fully measured


@dataclass
class DemoHistory:
    """The slice chosen, shifted onto the present."""

    source_start: dt.datetime
    source_end: dt.datetime
    shift_weeks: int
    end_utc: dt.datetime  # current hour boundary, end of the imported history
    stats: list[dict[str, Any]] = field(default_factory=list)
    missing_hours: int = 0
    meter_end_kwh: float = 0.0
    replay_cumulative: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Short description for logs and the printed output."""
        return {
            "source_start": self.source_start.isoformat(sep=" "),
            "source_end": self.source_end.isoformat(sep=" "),
            "shift_weeks": self.shift_weeks,
            "first_hour_utc": self.stats[0]["start"] if self.stats else None,
            "last_hour_utc": self.stats[-1]["start"] if self.stats else None,
            "hours_imported": len(self.stats),
            "hours_missing": self.missing_hours,
            "energy_kwh": round(self.meter_end_kwh - METER_START_KWH, 3),
            "meter_end_kwh": round(self.meter_end_kwh, 4),
            "replay_hours": max(len(self.replay_cumulative) - 1, 0),
        }


def load_hours(csv_path: Path) -> list[HourRow]:
    """Read the hourly roll-up; hours with fewer than 60 valid minutes are None."""
    rows: list[HourRow] = []
    with open(csv_path, newline="", encoding="utf-8") as handle:
        for record in csv.DictReader(handle):
            start = dt.datetime.fromisoformat(record["timestamp"])
            value = record.get("energy_kwh_measured", "")
            valid = int(float(record.get("n_valid_minutes") or 0))
            kwh: float | None = None
            if valid >= 60 and value not in ("", "nan", "NaN"):
                kwh = float(value)
                if math.isnan(kwh) or kwh < 0:
                    kwh = None
            rows.append(HourRow(start, kwh))
    rows.sort(key=lambda row: row.start)
    return rows


def _index(rows: list[HourRow]) -> dict[dt.datetime, HourRow]:
    return {row.start: row for row in rows}


def choose_source_end(
    rows: list[HourRow],
    target_end_local: dt.datetime,
    weeks: int,
    replay_days: int,
    max_offset_weeks: int = 4,
) -> tuple[dt.datetime, int]:
    """Pick the end of the source slice.

    Candidates end at the same weekday and hour as ``target_end_local``, near
    the same date in an earlier year (at most ``max_offset_weeks`` away), and
    need ``weeks`` of history plus ``replay_days`` of what followed inside the
    file. Well-covered slices win, then the closest date, then the latest
    year. Returns the end and the shift in weeks.
    """
    by_start = _index(rows)
    first, last = rows[0].start, rows[-1].start
    history = dt.timedelta(weeks=weeks)
    replay = dt.timedelta(days=replay_days)
    best: tuple[tuple[int, int, int, int], dt.datetime] | None = None
    for year in range(last.year, first.year - 1, -1):
        try:
            same_day = target_end_local.replace(year=year)
        except ValueError:  # 29 February
            same_day = target_end_local.replace(year=year, day=28)
        diff_days = (target_end_local - same_day).days
        base = same_day + dt.timedelta(days=diff_days % 7)  # same weekday, same hour
        for offset in range(-max_offset_weeks - 1, max_offset_weeks + 1):
            end = base + offset * WEEK
            if abs((end - same_day).days) > max_offset_weeks * 7 + 3:
                continue
            start = end - history
            if start < first or end + replay > last + HOUR:
                continue
            missing = 0
            hour = start
            while hour < end:
                row = by_start.get(hour)
                if row is None or row.kwh is None:
                    missing += 1
                hour += HOUR
            # Well covered first (at most 2 % unmeasured), then the closest
            # date, the latest year, the fewest unmeasured hours.
            key = (
                int(missing > 0.02 * weeks * 7 * 24),
                abs((end - same_day).days),
                -year,
                missing,
            )
            if best is None or key < best[0]:
                best = (key, end)
    if best is None:
        raise ValueError("the data file does not cover the requested span")
    end = best[1]
    shift = target_end_local - end
    if shift.total_seconds() % WEEK.total_seconds():
        raise AssertionError("shift is not a whole number of weeks")
    return end, int(shift / WEEK)


def _to_utc(local_naive: dt.datetime, zone: ZoneInfo) -> dt.datetime | None:
    """Local wall-clock hour -> UTC; None when the hour does not exist (DST gap)."""
    aware = local_naive.replace(tzinfo=zone)
    utc = aware.astimezone(dt.UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != local_naive:
        return None
    return utc


def build_history(
    csv_path: Path,
    now: dt.datetime | None = None,
    weeks: int = 10,
    replay_days: int = 7,
    time_zone: str = TIME_ZONE,
) -> DemoHistory:
    """Choose, shift and convert a real slice so that it ends at the current hour."""
    zone = ZoneInfo(time_zone)
    now = (now or dt.datetime.now(dt.UTC)).astimezone(zone)
    # End of the history: the start of the current (incomplete) hour, local time.
    end_local = now.replace(minute=0, second=0, microsecond=0, tzinfo=None)
    rows = load_hours(csv_path)
    by_start = _index(rows)
    source_end, shift_weeks = choose_source_end(rows, end_local, weeks, replay_days)
    shift = shift_weeks * WEEK
    source_start = source_end - dt.timedelta(weeks=weeks)

    history = DemoHistory(
        source_start=source_start,
        source_end=source_end,
        shift_weeks=shift_weeks,
        end_utc=_end_utc(end_local, zone),
    )
    kwh_by_start = {row.start: row.kwh for row in rows}
    history.stats, history.missing_hours, total = shifted_statistics(
        kwh_by_start,
        source_start,
        source_end,
        shift=shift,
        zone=zone,
        meter_start_kwh=METER_START_KWH,
    )
    history.meter_end_kwh = round(METER_START_KWH + total, 4)

    # What really followed the slice, replayed live by the template sensor.
    replay = [0.0]
    hour = source_end
    for _ in range(replay_days * 24):
        row = by_start.get(hour)
        step = row.kwh if row is not None and row.kwh is not None else 0.0
        replay.append(round(replay[-1] + step, 4))
        hour += HOUR
    history.replay_cumulative = replay
    return history


def shifted_statistics(
    kwh_by_start: dict[dt.datetime, float | None],
    source_start: dt.datetime,
    source_end: dt.datetime,
    *,
    shift: dt.timedelta,
    zone: ZoneInfo,
    meter_start_kwh: float,
) -> tuple[list[dict[str, Any]], int, float]:
    """Hourly meter statistics of a slice moved by ``shift``.

    Returns the rows (``state`` = meter reading, ``sum`` ending at 0.0), the
    number of hours left out (unmeasured, or not existing after the move
    because of a daylight-saving change) and the energy of the slice (kWh).
    """
    points: list[tuple[dt.datetime, float]] = []
    seen: set[dt.datetime] = set()
    missing = 0
    hour = source_start
    while hour < source_end:
        kwh = kwh_by_start.get(hour)
        start_utc = _to_utc(hour + shift, zone)
        if kwh is None or start_utc is None or start_utc in seen:
            missing += 1
        else:
            seen.add(start_utc)
            points.append((start_utc, kwh))
        hour += HOUR
    total = sum(kwh for _, kwh in points)
    stats: list[dict[str, Any]] = []
    cumulative = 0.0
    for start_utc, kwh in points:
        cumulative += kwh
        stats.append(
            {
                "start": start_utc.isoformat(),
                "state": round(meter_start_kwh + cumulative, 4),
                "sum": round(cumulative - total, 4),
            }
        )
    return stats, missing, total


SUBMETER_COLUMN = "sub_metering_1_wh"
"""The Sceaux kitchen sub-meter (dishwasher, oven, microwave), Wh per hour."""
SUBMETER_START_KWH = 800.0


def submeter_statistics(
    csv_path: Path,
    history: DemoHistory,
    column: str = SUBMETER_COLUMN,
    time_zone: str = TIME_ZONE,
) -> tuple[list[dict[str, Any]], float]:
    """A sub-meter of the same house over the same slice, as meter statistics.

    Only fully measured hours count (as for the whole-house meter). Returns
    the rows and the last meter reading (kWh).
    """
    kwh_by_start: dict[dt.datetime, float | None] = {}
    with open(csv_path, newline="", encoding="utf-8") as handle:
        for record in csv.DictReader(handle):
            value = record.get(column, "")
            valid = int(float(record.get("n_valid_minutes") or 0))
            kwh: float | None = None
            if valid >= 60 and value not in ("", "nan", "NaN"):
                kwh = float(value) / 1000.0
                if math.isnan(kwh) or kwh < 0:
                    kwh = None
            kwh_by_start[dt.datetime.fromisoformat(record["timestamp"])] = kwh
    stats, _missing, total = shifted_statistics(
        kwh_by_start,
        history.source_start,
        history.source_end,
        shift=history.shift_weeks * WEEK,
        zone=ZoneInfo(time_zone),
        meter_start_kwh=SUBMETER_START_KWH,
    )
    return stats, round(SUBMETER_START_KWH + total, 4)


def _end_utc(end_local: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    utc = _to_utc(end_local, zone)
    if utc is None:  # cannot happen for "now", kept for safety
        utc = end_local.replace(tzinfo=zone).astimezone(dt.UTC)
    return utc


def template_state(history: DemoHistory) -> str:
    """Jinja template of the live meter: last imported reading + real replay."""
    end_ts = int(history.end_utc.timestamp())
    profile = json.dumps(history.replay_cumulative)
    return (
        "{% set cum = " + profile + " %}"
        "{% set t = (as_timestamp(now()) - " + str(end_ts) + ") / 3600 %}"
        "{% set t = [[t, 0] | max, cum | length - 1] | min %}"
        "{% set h = t | int %}"
        "{% set nxt = cum[[h + 1, cum | length - 1] | min] %}"
        "{{ (" + repr(history.meter_end_kwh) + " + cum[h] + (nxt - cum[h]) * (t - h))"
        " | round(4) }}"
    )


if __name__ == "__main__":  # manual check: python3 demo_data.py CSV
    import sys

    result = build_history(Path(sys.argv[1]))
    print(json.dumps(result.summary(), indent=2))
