"""Cost of the hourly refresh with 1 and 100 Kilowise entries in one Home Assistant.

Run: ``scripts/bench ha`` (pytest prints the table). Each entry forecasts from its own
meter, whose statistics are the real house's five weeks scaled differently. The
recorder is set up as Home Assistant runs it (a database file, committed every five
seconds), and what set-up leaves to do (registry and store writes) is done before the
hour measured. The time then moves through one refresh span (five past the hour plus
each entry's slot) in ten-second steps, as the clock would; CPU is the process's (event
loop, recorder and executor threads together), so it includes recording the sensors'
new states. Whether a refresh blocks the event loop is measured as
the longest single callback the loop ran, in real time and in CPU time of the loop's
thread (on a busy machine the first also counts time the thread waited for a core;
blocking I/O fails the run through the tests' blocking-call guard). Real time is
read from the machine's monotonic clock (the frozen clock moves the
loop's own time and ``time.perf_counter``, so a heartbeat or asyncio's slow-callback
warnings would measure the clock's jumps, not the work).

``KILOWISE_BENCH_JSON=path`` also writes the figures there (``bench/fleet.py`` reads
them into its table).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
import json
import os
from pathlib import Path
import time

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import DEFAULT_COMMIT_INTERVAL
from homeassistant.core import HomeAssistant
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.kilowise.const import CONF_SOURCE_ENTITY, DOMAIN, REFRESH_SPREAD
from tests.components.kilowise.conftest import DATA_END, async_import, meter_statistics

ENTRIES = (1, 100)

pytestmark = pytest.mark.refresh_spread  # each entry keeps its own slot


async def _setup_entries(
    hass: HomeAssistant, household: np.ndarray, count: int, prefix: str
) -> list[MockConfigEntry]:
    entries = []
    for i in range(count):
        source = f"sensor.{prefix}_{i:03d}"
        await async_import(
            hass, source, "kWh", meter_statistics(household * (0.5 + i / count))
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


@contextmanager
def _longest_callback() -> Iterator[list[float]]:
    """Time every callback the event loop runs; yield [longest real, longest CPU].

    The benchmark's own task is left out: the test harness runs due timers
    from inside it (each of those is timed on its own).
    """
    longest = [0.0, 0.0]
    run = asyncio.events.Handle._run
    bench = asyncio.current_task()

    def timed(handle: asyncio.events.Handle) -> None:
        if getattr(handle._callback, "__self__", None) is bench:
            run(handle)
            return
        started, cpu = _real_seconds(), time.thread_time()
        try:
            run(handle)
        finally:
            longest[0] = max(longest[0], _real_seconds() - started)
            longest[1] = max(longest[1], time.thread_time() - cpu)

    asyncio.events.Handle._run = timed  # type: ignore[method-assign]
    try:
        yield longest
    finally:
        asyncio.events.Handle._run = run  # type: ignore[method-assign]


async def _one_hour(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, start: datetime
) -> tuple[float, float, float, float]:
    """CPU, wall time and the longest loop callback (real, CPU; s) of one refresh span."""
    with _longest_callback() as longest:
        cpu, wall = time.process_time(), _real_seconds()
        when = start
        while when <= start + REFRESH_SPREAD + timedelta(seconds=10):
            freezer.move_to(when)
            async_fire_time_changed(hass, when)
            await hass.async_block_till_done()
            when += timedelta(seconds=10)
        cpu, wall = time.process_time() - cpu, _real_seconds() - wall
    return cpu, wall, longest[0], longest[1]


@pytest.mark.parametrize(
    # The recorder as Home Assistant runs it: a database file, committed every
    # few seconds (the tests' default is in memory, committed after every event).
    ("persistent_database", "recorder_config"),
    [(True, {"commit_interval": DEFAULT_COMMIT_INTERVAL})],
)
async def test_refresh_cost(
    hass: HomeAssistant, household: np.ndarray, freezer: FrozenDateTimeFactory
) -> None:
    rows = []
    for hour, count in enumerate(ENTRIES, start=1):
        entries = await _setup_entries(hass, household, count, f"flat{count}")
        before = [entry.runtime_data.coordinator.data for entry in entries]
        slot = DATA_END + timedelta(hours=hour, minutes=5)
        # What set-up left to do (registry and store writes) happens before the
        # hour measured, so that only the refreshes are counted.
        settle = slot - timedelta(minutes=3)
        freezer.move_to(settle)
        async_fire_time_changed(hass, settle)
        await hass.async_block_till_done(wait_background_tasks=True)
        cpu, wall, lag, lag_cpu = await _one_hour(hass, freezer, slot)
        refreshed = sum(
            e.runtime_data.coordinator.data is not old
            for e, old in zip(entries, before, strict=True)
        )
        assert refreshed == count
        # The same span later in the hour, when no entry refreshes: what the
        # test harness's clock stepping and Home Assistant's own timers cost.
        # (The bench imports no new hour, so each entry reads once more ten
        # minutes after its slot: that is let pass first.)
        quiet = slot + timedelta(minutes=20)
        freezer.move_to(quiet)
        async_fire_time_changed(hass, quiet)
        await hass.async_block_till_done(wait_background_tasks=True)
        idle, *_ = await _one_hour(hass, freezer, quiet + timedelta(minutes=1))
        assert all(e.runtime_data.coordinator.last_update_success for e in entries)
        offsets = sorted(
            e.runtime_data.coordinator.refresh_offset.total_seconds() for e in entries
        )
        rows.append((count, cpu, idle, wall, lag, lag_cpu, offsets[0], offsets[-1]))
        for entry in entries:
            assert await hass.config_entries.async_unload(entry.entry_id)
    print()
    print(
        "entries  CPU of the refresh span (s)  of an idle span (s)  refreshes alone (s)  "
        "per entry (ms)  wall (s)  longest loop callback (ms, real/CPU)  slots (s after :05)"
    )
    for count, cpu, idle, wall, lag, lag_cpu, first, last in rows:
        print(
            f"{count:7d}  {cpu:27.3f}  {idle:19.3f}  {cpu - idle:19.3f}  "
            f"{1000 * (cpu - idle) / count:14.1f}  {wall:8.2f}  "
            f"{f'{1000 * lag:.1f} / {1000 * lag_cpu:.1f}':>36}  {first:.0f}-{last:.0f}"
        )
    print(
        "target: 100 entries <= 2 s of CPU per hour in total; no refresh blocks the loop"
    )
    if target := os.environ.get("KILOWISE_BENCH_JSON"):
        figures = [
            {
                "entries": count,
                "cpu_s": cpu,
                "idle_cpu_s": idle,
                "wall_s": wall,
                "longest_callback_s": lag,
                "longest_callback_cpu_s": lag_cpu,
                "first_slot_s": first,
                "last_slot_s": last,
            }
            for count, cpu, idle, wall, lag, lag_cpu, first, last in rows
        ]
        await hass.async_add_executor_job(Path(target).write_text, json.dumps(figures))
