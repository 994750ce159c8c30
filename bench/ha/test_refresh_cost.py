"""What Kilowise costs in one hour of a Home Assistant with 0, 1 and 100 entries.

Run: ``scripts/bench ha`` (pytest prints the table). Each entry forecasts from its own
meter, whose statistics are the real house's five weeks scaled differently, with the
hours measured already in the database (as the recorder compiles them at every hour's
end). The recorder is set up as Home Assistant runs it (a database file, committed
every five seconds), and what set-up leaves to do (registry and store writes) is done
before the hour measured. The clock then moves through one whole hour in ten-second
steps, so everything Kilowise does in an hour is counted: the hourly refresh in each
entry's slot (about one entry in 24 reads its whole history then, the others only the
newest hours), the recommendations' quarter-hour checks, the sensors' new states and
their recording.

Home Assistant's CPU is the CPU of every callback the event loop ran plus that of
every other thread (the recorder, the executors); Kilowise's share is that figure
minus the same hour's with no entry (Home Assistant's own timers). What is left out
is the test harness stepping the clock: at every step it scans every pending timer
(work that grows with the entries' timers, which Home Assistant's loop never does),
and freezegun walks the stack on every clock read (switched off for the hour). The
whole process's CPU, harness included, is printed too. The event loop runs without
asyncio's debug mode, as in Home Assistant (the test harness turns it on, and its
stack capture of every callback would be most of the cost measured).

Whether Kilowise blocks the event loop is measured as the longest single callback the
loop ran, in real time and in CPU time of the loop's thread (on a busy machine the
first also counts time the thread waited for a core; blocking I/O fails the run through
the tests' blocking-call guard), without the garbage collections that ran inside it:
a full collection of this process's heap (the test harness's included) takes a few
hundred milliseconds whichever callback happens to trigger it; the longest is printed
on its own. Real time is read from the machine's monotonic clock
(the frozen clock moves the loop's own time and ``time.perf_counter``).

``KILOWISE_BENCH_JSON=path`` also writes the figures there (``bench/fleet.py`` reads
them into its table).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
import gc
import json
import os
from pathlib import Path
import time

import freezegun.api
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import DEFAULT_COMMIT_INTERVAL
from homeassistant.core import HomeAssistant
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.kilowise.const import CONF_SOURCE_ENTITY, DOMAIN
from tests.components.kilowise.conftest import DATA_END, async_import, meter_statistics

ENTRIES = (0, 1, 100)
HOUR = timedelta(hours=1)
STEP = timedelta(seconds=10)
HOURS_AHEAD = 2 * len(ENTRIES) + 2
"""Hours of statistics past the fixture's end, one measured hour apart per count."""

pytestmark = pytest.mark.refresh_spread  # each entry keeps its own slot


async def _setup_entries(
    hass: HomeAssistant, household: np.ndarray, count: int, prefix: str
) -> list[MockConfigEntry]:
    # The hours to come are in the database already: each refresh finds the
    # hour that just ended, as on a healthy system.
    series = np.concatenate([household, household[-HOURS_AHEAD - 168 : -168]])
    entries = []
    for i in range(count):
        source = f"sensor.{prefix}_{i:03d}"
        await async_import(
            hass, source, "kWh", meter_statistics(series * (0.5 + i / count))
        )
        hass.states.async_set(
            source,
            "0",
            {
                "unit_of_measurement": "kWh",
                "device_class": "energy",
                "state_class": "total_increasing",
            },
        )
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=source,
            data={CONF_SOURCE_ENTITY: source},
            unique_id=source,
        )
        entry.add_to_hass(hass)
        entries.append(entry)
    for entry in entries:
        assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entries


def _real_seconds() -> float:
    """The machine's monotonic clock, which the frozen clock does not move."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


@dataclass
class LoopAccount:
    """What the event loop ran, apart from the benchmark's own task."""

    cpu: float = 0.0
    """CPU of the loop's thread inside those callbacks (s)."""
    longest: float = 0.0
    """Longest single callback, real time (s), garbage collection left out."""
    longest_cpu: float = 0.0
    """Longest single callback, CPU of the loop's thread (s), the same way."""
    gc_cpu: float = 0.0
    """CPU of the garbage collections that ran inside callbacks (s)."""
    longest_gc: float = 0.0
    """Longest single garbage collection (s): the whole process's heap, which
    any callback that allocates may trigger; not the callback's own work."""


@contextmanager
def _loop_account() -> Iterator[LoopAccount]:
    """Time every callback the event loop runs.

    The benchmark's own task is left out: it is the test harness stepping
    the clock (its scan of every pending timer at each step is work Home
    Assistant's loop does not do), and the harness runs the due timers from
    inside it, each of which is timed on its own.
    """
    account = LoopAccount()
    run = asyncio.events.Handle._run
    bench = asyncio.current_task()
    depth = [0]
    collecting = [0.0, 0.0]  # start of the running collection, total so far

    def on_gc(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            collecting[0] = time.thread_time()
            return
        pause = time.thread_time() - collecting[0]
        collecting[1] += pause
        account.longest_gc = max(account.longest_gc, pause)

    def timed(handle: asyncio.events.Handle) -> None:
        if getattr(handle._callback, "__self__", None) is bench or depth[0]:
            run(handle)
            return
        depth[0] += 1
        started, cpu, collected = _real_seconds(), time.thread_time(), collecting[1]
        try:
            run(handle)
        finally:
            depth[0] -= 1
            gc_cpu = collecting[1] - collected
            used = time.thread_time() - cpu
            account.cpu += used
            account.gc_cpu += gc_cpu
            account.longest = max(account.longest, _real_seconds() - started - gc_cpu)
            account.longest_cpu = max(account.longest_cpu, used - gc_cpu)

    gc.callbacks.append(on_gc)
    asyncio.events.Handle._run = timed  # type: ignore[method-assign]
    try:
        yield account
    finally:
        asyncio.events.Handle._run = run  # type: ignore[method-assign]
        gc.callbacks.remove(on_gc)


@dataclass
class Hour:
    """The figures of one hour."""

    process_cpu: float
    """CPU of the whole process (s), the harness's clock stepping included."""
    ha_cpu: float
    """CPU of Home Assistant's work (s): the loop's callbacks and every other
    thread (recorder, executors), without the harness's clock stepping."""
    wall: float
    loop: LoopAccount


async def _one_hour(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, start: datetime
) -> Hour:
    """Move the clock through one hour from ``start``; what it cost."""
    debug = hass.loop.get_debug()
    hass.loop.set_debug(False)
    # freezegun walks the caller's stack on every clock read to let a few
    # modules see real time; Home Assistant reads no frozen clock, and that
    # walk grows with the work measured, so the baseline cannot remove it.
    inspection = freezegun.api.call_stack_inspection_limit
    freezegun.api.call_stack_inspection_limit = 0
    try:
        with _loop_account() as loop:
            cpu, wall = time.process_time(), _real_seconds()
            loop_thread = time.thread_time()
            when = start
            while when <= start + HOUR:
                freezer.move_to(when)
                async_fire_time_changed(hass, when)
                await hass.async_block_till_done()
                when += STEP
            cpu, wall = time.process_time() - cpu, _real_seconds() - wall
            other_threads = cpu - (time.thread_time() - loop_thread)
    finally:
        hass.loop.set_debug(debug)
        freezegun.api.call_stack_inspection_limit = inspection
    return Hour(cpu, loop.cpu + other_threads, wall, loop)


@pytest.mark.parametrize(
    # The recorder as Home Assistant runs it: a database file, committed every
    # few seconds (the tests' default is in memory, committed after every event).
    ("persistent_database", "recorder_config"),
    [(True, {"commit_interval": DEFAULT_COMMIT_INTERVAL})],
)
async def test_refresh_cost(
    hass: HomeAssistant, household: np.ndarray, freezer: FrozenDateTimeFactory
) -> None:
    rows: list[tuple[int, Hour, list[float]]] = []
    for index, count in enumerate(ENTRIES):
        entries = await _setup_entries(hass, household, count, f"flat{count}")
        before = [entry.runtime_data.coordinator.data for entry in entries]
        # From one minute past an hour to one minute past the next: one
        # refresh slot (five past, plus each entry's offset) and four quarters.
        start = DATA_END + (2 * index + 1) * HOUR + timedelta(minutes=1)
        # What set-up left to do (registry and store writes) happens before the
        # hour measured, so that only the hour's own work is counted.
        settle = start - timedelta(minutes=3)
        freezer.move_to(settle)
        async_fire_time_changed(hass, settle)
        await hass.async_block_till_done(wait_background_tasks=True)
        hour = await _one_hour(hass, freezer, start)
        refreshed = sum(
            e.runtime_data.coordinator.data is not old
            for e, old in zip(entries, before, strict=True)
        )
        assert refreshed == count
        assert all(e.runtime_data.coordinator.last_update_success for e in entries)
        # Each refresh found the hour that just ended: no late read.
        assert all(
            e.runtime_data.coordinator.data.history.hours_since_last_value == 0
            for e in entries
        )
        offsets = sorted(
            e.runtime_data.coordinator.refresh_offset.total_seconds() for e in entries
        )
        rows.append((count, hour, offsets))
        for entry in entries:
            assert await hass.config_entries.async_unload(entry.entry_id)
    baseline = rows[0][1]
    print()
    print(
        "entries  process CPU (s)  Home Assistant's CPU (s)  Kilowise's share (s)  "
        "per entry (ms)  wall (s)  longest loop callback (ms, real/CPU)  "
        "longest GC (ms)  slots (s after :05)"
    )
    for count, hour, offsets in rows:
        share = hour.ha_cpu - baseline.ha_cpu
        per_entry = f"{1000 * share / count:14.1f}" if count else f"{'-':>14}"
        slots = f"{offsets[0]:.0f}-{offsets[-1]:.0f}" if offsets else "-"
        longest = f"{1000 * hour.loop.longest:.1f} / {1000 * hour.loop.longest_cpu:.1f}"
        print(
            f"{count:7d}  {hour.process_cpu:15.3f}  {hour.ha_cpu:24.3f}  "
            f"{share:20.3f}  {per_entry}  {hour.wall:8.2f}  {longest:>36}  "
            f"{1000 * hour.loop.longest_gc:15.1f}  {slots}"
        )
    print(
        "target: 100 entries <= 2 s of CPU per hour in total (Kilowise's share); "
        "no refresh blocks the loop"
    )
    if target := os.environ.get("KILOWISE_BENCH_JSON"):
        figures = [
            {
                "entries": count,
                "cpu_s": hour.ha_cpu - baseline.ha_cpu,
                "ha_cpu_s": hour.ha_cpu,
                "idle_cpu_s": baseline.ha_cpu,
                "process_cpu_s": hour.process_cpu,
                "wall_s": hour.wall,
                "longest_callback_s": hour.loop.longest,
                "longest_callback_cpu_s": hour.loop.longest_cpu,
                "longest_gc_s": hour.loop.longest_gc,
                "first_slot_s": offsets[0],
                "last_slot_s": offsets[-1],
            }
            for count, hour, offsets in rows
            if count
        ]
        await hass.async_add_executor_job(Path(target).write_text, json.dumps(figures))
