"""Tests of scripts/lib/demo_data.py: the demo's history from the Sceaux data."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
from pathlib import Path
import sys
from zoneinfo import ZoneInfo

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts" / "lib"))

import demo_data  # noqa: E402

PARIS = ZoneInfo("Europe/Paris")
REAL_CSV = (
    Path(os.environ.get("KILOWISE_DATA", REPO.parent / "shared" / "data"))
    / demo_data.CSV_RELATIVE
)
HEADER = (
    "timestamp,global_active_power_kw_mean,global_reactive_power_kw_mean,"
    "voltage_v_mean,global_intensity_a_mean,sub_metering_1_wh,sub_metering_2_wh,"
    "sub_metering_3_wh,n_valid_minutes,n_minutes,energy_kwh_measured\n"
)


def _write_csv(path: Path, start: dt.datetime, hours: int, bad: set[int]) -> Path:
    """Synthetic hourly roll-up: kWh = 0.5 + (hour of day) / 100; `bad` partial."""
    lines = [HEADER]
    for i in range(hours):
        ts = start + dt.timedelta(hours=i)
        valid = 30 if i in bad else 60
        kwh = "" if i in bad and i % 2 else f"{0.5 + ts.hour / 100:.4f}"
        lines.append(f"{ts:%Y-%m-%d %H:%M:%S},0,0,0,0,0,0,0,{valid},60,{kwh}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def synthetic(tmp_path: Path) -> Path:
    # 2008-01-01 .. 2009-12-31, a few unmeasured hours.
    return _write_csv(
        tmp_path / "hourly.csv",
        dt.datetime(2008, 1, 1),
        24 * 730,
        bad={5000, 5001, 9000, 12345},
    )


def _check_history(history: demo_data.DemoHistory, now: dt.datetime) -> None:
    stats = history.stats
    starts = [dt.datetime.fromisoformat(s["start"]) for s in stats]
    # Hour-aligned, strictly increasing, nothing at or after the current hour.
    assert all(s.minute == 0 and s.second == 0 for s in starts)
    assert all(a < b for a, b in itertools.pairwise(starts))
    current_hour = now.astimezone(PARIS).replace(minute=0, second=0, microsecond=0)
    assert history.end_utc == current_hour.astimezone(dt.UTC)
    assert starts[-1] < history.end_utc
    # 10 weeks of local wall-clock time (one hour more across a DST change).
    assert starts[0] >= history.end_utc - dt.timedelta(weeks=10, hours=1)
    # Cumulative: the last sum is 0, sums and states increase, state - sum fixed.
    assert stats[-1]["sum"] == 0.0
    sums = [s["sum"] for s in stats]
    assert all(a <= b for a, b in itertools.pairwise(sums))
    offsets = {round(s["state"] - s["sum"], 3) for s in stats}
    assert offsets == {round(history.meter_end_kwh, 3)}
    # Shifted by whole weeks: local weekday and hour are those of the source.
    shift = dt.timedelta(weeks=history.shift_weeks)
    for start in starts:
        local = start.astimezone(PARIS).replace(tzinfo=None)
        source = local - shift
        assert history.source_start <= source < history.source_end
        assert source.weekday() == local.weekday()
        assert source.hour == local.hour


def test_synthetic_slice(synthetic: Path) -> None:
    now = dt.datetime(2026, 12, 3, 19, 25, tzinfo=dt.UTC)
    history = demo_data.build_history(synthetic, now=now)
    _check_history(history, now)
    # Near the same date in an earlier year: the latest year that has 7 days after.
    assert history.source_end.year == 2009
    assert abs((history.source_end - dt.datetime(2009, 12, 3, 20)).days) <= 31
    # 10 weeks of hours, less unmeasured ones (none in that window here).
    assert len(history.stats) + history.missing_hours == 10 * 7 * 24
    # Each hour's energy is the file's value for that source hour.
    shift = dt.timedelta(weeks=history.shift_weeks)
    previous = None
    for stat in history.stats:
        local = dt.datetime.fromisoformat(stat["start"]).astimezone(PARIS)
        source = local.replace(tzinfo=None) - shift
        if previous is not None:
            assert stat["sum"] - previous == pytest.approx(
                0.5 + source.hour / 100, abs=2e-4
            )
        previous = stat["sum"]
    # The replay continues with what followed the slice.
    assert len(history.replay_cumulative) == 7 * 24 + 1
    assert history.replay_cumulative[1] == pytest.approx(
        0.5 + history.source_end.hour / 100
    )


def test_unmeasured_hours_are_left_out(tmp_path: Path) -> None:
    start = dt.datetime(2009, 9, 1)
    now = dt.datetime(2026, 11, 19, 10, 30, tzinfo=dt.UTC)
    csv = _write_csv(tmp_path / "h.csv", start, 24 * 100, bad=set(range(1500, 1510)))
    history = demo_data.build_history(csv, now=now)
    _check_history(history, now)
    shift = dt.timedelta(weeks=history.shift_weeks)
    sources = {
        dt.datetime.fromisoformat(s["start"]).astimezone(PARIS).replace(tzinfo=None)
        - shift
        for s in history.stats
    }
    bad_hours = {start + dt.timedelta(hours=i) for i in range(1500, 1510)}
    in_window = {h for h in bad_hours if history.source_start <= h < history.source_end}
    assert in_window  # the window covers the gap
    assert not sources & bad_hours
    assert history.missing_hours >= len(in_window)


@pytest.mark.parametrize(
    "now",
    [
        dt.datetime(2026, 3, 29, 12, 30, tzinfo=dt.UTC),  # spring forward today
        dt.datetime(2026, 10, 25, 12, 30, tzinfo=dt.UTC),  # fall back today
        dt.datetime(2026, 11, 5, 0, 5, tzinfo=dt.UTC),  # DST change in the window
    ],
)
def test_daylight_saving_changes(synthetic: Path, now: dt.datetime) -> None:
    history = demo_data.build_history(synthetic, now=now)
    _check_history(history, now)


def test_template_replays_the_meter(synthetic: Path) -> None:
    jinja2 = pytest.importorskip("jinja2")
    now = dt.datetime(2026, 12, 3, 19, 25, tzinfo=dt.UTC)
    history = demo_data.build_history(synthetic, now=now)
    template = jinja2.Environment().from_string(demo_data.template_state(history))
    end = history.end_utc.timestamp()

    def render(at: float) -> float:
        return float(template.render(now=lambda: at, as_timestamp=lambda t: t))

    cum = history.replay_cumulative
    assert render(end) == pytest.approx(history.meter_end_kwh)
    assert render(end - 3600) == pytest.approx(history.meter_end_kwh)  # clamped
    assert render(end + 2 * 3600) == pytest.approx(history.meter_end_kwh + cum[2])
    half = history.meter_end_kwh + (cum[2] + cum[3]) / 2
    assert render(end + 2.5 * 3600) == pytest.approx(half, abs=1e-4)
    assert render(end + 30 * 86400) == pytest.approx(history.meter_end_kwh + cum[-1])


@pytest.mark.skipif(not REAL_CSV.exists(), reason="shared data not present")
def test_real_sceaux_data() -> None:
    now = dt.datetime(2026, 12, 3, 19, 25, tzinfo=dt.UTC)
    history = demo_data.build_history(REAL_CSV, now=now)
    _check_history(history, now)
    summary = history.summary()
    assert summary["hours_imported"] >= 8 * 7 * 24
    assert summary["hours_missing"] <= 0.02 * 10 * 7 * 24
    json.dumps(summary)


@pytest.mark.skipif(not REAL_CSV.exists(), reason="shared data not present")
def test_real_kitchen_submeter() -> None:
    """The kitchen sub-meter over the same slice teaches a real dishwasher cycle."""
    import numpy as np  # noqa: PLC0415

    from custom_components.kilowise.engine.cycles import learn_cycle  # noqa: PLC0415

    now = dt.datetime(2026, 12, 4, 7, 5, tzinfo=dt.UTC)
    history = demo_data.build_history(REAL_CSV, now=now)
    stats, meter_end = demo_data.submeter_statistics(REAL_CSV, history)
    # Same hours as the home's meter (the sub-meter is measured with it).
    assert [s["start"] for s in stats] == [s["start"] for s in history.stats]
    assert stats[-1]["sum"] == 0.0
    assert meter_end == pytest.approx(stats[-1]["state"])
    readings = np.array([s["state"] for s in stats])
    assert np.all(np.diff(readings) >= 0)
    hours = {dt.datetime.fromisoformat(s["start"]): s["state"] for s in stats}
    first = min(hours)
    span = int((max(hours) - first).total_seconds() // 3600) + 1
    counter = np.full(span, np.nan)
    for start, state in hours.items():
        counter[int((start - first).total_seconds() // 3600)] = state
    cycle = learn_cycle(np.diff(counter))
    assert cycle is not None
    assert cycle.cycles >= 20
    assert 0.5 < cycle.energy_kwh < 2.0
