"""Set-up and unload of a Kilowise entry."""

from __future__ import annotations

import json
import logging
import pathlib
from unittest.mock import patch

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.kilowise.const import DOMAIN, ISSUE_MODEL_UNUSABLE
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .conftest import SOURCE


async def test_setup_and_unload(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The entry loads with a forecast and unloads cleanly."""
    entry = init_integration
    assert entry.state is ConfigEntryState.LOADED
    coordinator = entry.runtime_data.coordinator
    assert coordinator.last_update_success
    assert hass.states.get("sensor.kilowise_home_energy_next_hour") is not None

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get("sensor.kilowise_home_energy_next_hour").state == "unavailable"
