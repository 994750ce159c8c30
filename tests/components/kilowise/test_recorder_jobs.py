"""Recorder reads and Home Assistant's stop."""

from __future__ import annotations

import asyncio
import threading
import time

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CoreState, HomeAssistant
import pytest
from sqlalchemy.exc import ResourceClosedError, SQLAlchemyError

from custom_components.kilowise.recorder_jobs import async_recorder_job


async def test_job_result(hass: HomeAssistant) -> None:
    """A job runs in the recorder's executor thread and returns its result."""
    loop_thread = threading.get_ident()

    def job(a: int, b: int) -> tuple[int, bool]:
        return a + b, threading.get_ident() != loop_thread

    assert await async_recorder_job(hass, job, 2, 3) == (5, True)


async def test_no_job_starts_while_home_assistant_stops(hass: HomeAssistant) -> None:
    """Once Home Assistant stops, a read fails as an unreadable database does."""
    ran: list[bool] = []
    hass.set_state(CoreState.stopping)
    try:
        with pytest.raises(ResourceClosedError) as raised:
            await async_recorder_job(hass, ran.append, True)
    finally:
        hass.set_state(CoreState.running)
    assert isinstance(raised.value, SQLAlchemyError)
    assert ran == []


async def test_stop_waits_for_a_running_read(hass: HomeAssistant) -> None:
    """The stop's first stage lasts until a running read has ended, even when
    its caller stopped waiting for it."""
    started = threading.Event()
    release = threading.Event()
    finished: list[bool] = []

    def slow_read() -> None:
        started.set()
        release.wait(10)
        finished.append(True)

    caller = hass.async_create_task(async_recorder_job(hass, slow_read))
    assert await hass.async_add_executor_job(started.wait, 10)
    caller.cancel()
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    stop_stage = asyncio.ensure_future(hass.async_block_till_done())
    # The loop's clock is frozen in these tests: real time passes in a thread.
    await hass.async_add_executor_job(time.sleep, 0.2)
    assert not stop_stage.done()
    assert finished == []

    release.set()
    await stop_stage
    assert finished == [True]
    assert caller.cancelled()
