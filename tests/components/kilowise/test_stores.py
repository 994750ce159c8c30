"""An entry's stores: an unreadable one starts afresh, never fails set-up."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.storage import Store
import pytest

from custom_components.kilowise.stores import (
    async_read_store,
    async_remove_store,
    open_store,
)


async def test_store_read_written_and_removed(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """What was written is read back; a removed store reads as nothing."""
    store = open_store(hass, 1, "kilowise.test.control")
    assert await async_read_store(store, "the test state") is None
    await store.async_save({"enabled": False})
    assert await async_read_store(store, "the test state") == {"enabled": False}
    await async_remove_store(hass, 1, "kilowise.test.control")
    assert "kilowise.test.control" not in hass_storage
    again = open_store(hass, 1, "kilowise.test.control")
    assert await async_read_store(again, "the test state") is None


async def test_unreadable_store_starts_afresh(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A store Home Assistant cannot read, or one that is not an object, is
    nothing stored; the first says so."""
    store = open_store(hass, 1, "kilowise.test.learning")
    with patch.object(Store, "async_load", side_effect=HomeAssistantError("corrupt")):
        assert await async_read_store(store, "what Kilowise learned") is None
    assert "Could not read what Kilowise learned: corrupt; starting afresh" in (
        caplog.text
    )
    hass_storage["kilowise.test.learning"] = {
        "version": 1,
        "minor_version": 1,
        "key": "kilowise.test.learning",
        "data": ["not", "an", "object"],
    }
    again = open_store(hass, 1, "kilowise.test.learning")
    assert await async_read_store(again, "what Kilowise learned") is None
