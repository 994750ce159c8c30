"""Reads of the recorder's database that Home Assistant's stop waits for.

The recorder closes its database connection when Home Assistant writes its
last data (the stop's final stage) without waiting for the jobs still running
in its executor. A read still running then uses a closed connection, which can
crash the process inside SQLite. Every Kilowise read goes through
``async_recorder_job``: none starts once Home Assistant stops, and the stop's
first stage waits for those still running.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.recorder import get_instance
from homeassistant.util.hass_dict import HassKey
from sqlalchemy.exc import ResourceClosedError

from .const import DOMAIN

_RUNNING: HassKey[set[asyncio.Future[Any]]] = HassKey(f"{DOMAIN}_recorder_jobs")


async def async_recorder_job[T](
    hass: HomeAssistant, target: Callable[..., T], *args: Any
) -> T:
    """Run ``target(*args)`` in the recorder's executor and return its result.

    Raises ``ResourceClosedError`` (an ``SQLAlchemyError``, as a database that
    cannot be read raises) once Home Assistant stops. A caller cancelled while
    the job runs stops waiting; the job itself runs to its end, and the stop
    waits for it.
    """
    if hass.is_stopping:
        raise ResourceClosedError("the recorder is closing: Home Assistant stops")
    running = _running_jobs(hass)
    job = get_instance(hass).async_add_executor_job(target, *args)
    running.add(job)
    job.add_done_callback(running.discard)
    return await asyncio.shield(job)


@callback
def _running_jobs(hass: HomeAssistant) -> set[asyncio.Future[Any]]:
    if (running := hass.data.get(_RUNNING)) is None:
        running = hass.data[_RUNNING] = set()

        async def _async_wait(_event: Event) -> None:
            if running:
                await asyncio.wait(set(running))

        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _async_wait)
    return running
