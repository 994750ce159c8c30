"""Cost of the hourly refresh with 1 and 100 Kilowise entries in one Home Assistant.

Run: ``scripts/bench ha`` (pytest prints the table). Each entry forecasts from its own
meter, whose statistics are the real house's five weeks scaled differently. The time
moves through one refresh span (five past the hour plus each entry's slot) in
ten-second steps, as the clock would; CPU is the process's (event loop, recorder and
executor threads together); the loop's lag is measured by a 10 ms heartbeat.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
import time

from freezegun.api import FrozenDateTimeFactory
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


async def _one_hour(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, start
) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    lags: list[float] = []
    running = True

    async def heartbeat() -> None:
        while running:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - before - 0.01)

    beat = hass.async_create_background_task(heartbeat(), "heartbeat")
    cpu, wall = time.process_time(), time.perf_counter()
    when = start
    while when <= start + REFRESH_SPREAD + timedelta(seconds=10):
        freezer.move_to(when)
        async_fire_time_changed(hass, when)
        await hass.async_block_till_done()
        when += timedelta(seconds=10)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    running = False
    await beat
    return cpu, wall, max(lags) if lags else 0.0


async def test_refresh_cost(
    hass: HomeAssistant, household: np.ndarray, freezer: FrozenDateTimeFactory
) -> None:
    rows = []
    for hour, count in enumerate(ENTRIES, start=1):
        entries = await _setup_entries(hass, household, count, f"flat{count}")
        before = [entry.runtime_data.coordinator.data for entry in entries]
        slot = DATA_END + timedelta(hours=hour, minutes=5)
        cpu, wall, lag = await _one_hour(hass, freezer, slot)
        refreshed = sum(
            e.runtime_data.coordinator.data is not old
            for e, old in zip(entries, before, strict=True)
        )
        assert refreshed == count
        offsets = sorted(
            e.runtime_data.coordinator.refresh_offset.total_seconds() for e in entries
        )
        rows.append((count, cpu, wall, lag, offsets[0], offsets[-1]))
        for entry in entries:
            assert await hass.config_entries.async_unload(entry.entry_id)
    print()
    print(
        "entries  CPU per hourly refresh (s)  per entry (ms)  wall (s)  max loop lag (ms)  slots (s after :05)"
    )
    for count, cpu, wall, lag, first, last in rows:
        print(
            f"{count:7d}  {cpu:26.3f}  {1000 * cpu / count:14.1f}  {wall:8.2f}  {1000 * lag:17.1f}  {first:.0f}-{last:.0f}"
        )
    print(
        "target: 100 entries <= 2 s of CPU per hour in total; no refresh blocks the loop"
    )
