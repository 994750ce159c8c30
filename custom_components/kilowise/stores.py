"""An entry's own stores (what it learned, its control state): one way to use them.

A store is opened with atomic writes, read in the background at set-up (an
unreadable or damaged one starts afresh, with a warning, never a failed
set-up), written a little later as changes gather, flushed when the entry
unloads and deleted with the entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.storage import Store

from .const import LOGGER

type EntryStore = Store[dict[str, Any]]


def open_store(hass: HomeAssistant, version: int, key: str) -> EntryStore:
    """The store ``key`` (not read yet); a write replaces the file whole."""
    return Store(hass, version, key, atomic_writes=True)


async def async_read_store(store: EntryStore, what: str) -> Mapping[str, Any] | None:
    """What ``store`` holds, or None: nothing stored, or unreadable (logged).

    ``what`` names the contents in the warning ("what Kilowise learned").
    """
    try:
        stored = await store.async_load()
    except HomeAssistantError as err:
        LOGGER.warning("Could not read %s: %s; starting afresh", what, err)
        return None
    return stored if isinstance(stored, Mapping) else None


async def async_remove_store(hass: HomeAssistant, version: int, key: str) -> None:
    """Delete the store ``key`` (its entry is being removed)."""
    await open_store(hass, version, key).async_remove()
