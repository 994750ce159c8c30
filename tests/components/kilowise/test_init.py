"""Set-up and unload of a Kilowise entry, and a model that cannot be used."""

from __future__ import annotations

import json
import pathlib
import shutil
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.kilowise.const import (
    BUNDLED_MODEL,
    CONF_SOURCE_ENTITY,
    DOMAIN,
    ISSUE_MODEL_UNUSABLE,
)
from custom_components.kilowise.engine import read_artifact

from .conftest import ENERGY_ATTRIBUTES, SOURCE, BlockingCalls

NEXT_HOUR = "sensor.kilowise_home_energy_next_hour"


async def test_setup_and_unload(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The entry loads with a forecast and unloads cleanly."""
    entry = init_integration
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.coordinator.last_update_success
    assert (
        entry.runtime_data.artifact.model_id
        == json.loads(BUNDLED_MODEL.read_text())["model_id"]
    )
    assert hass.states.get(NEXT_HOUR).state != STATE_UNAVAILABLE

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get(NEXT_HOUR).state == STATE_UNAVAILABLE


def _broken_copy(tmp_path: pathlib.Path, how: str) -> pathlib.Path:
    """A copy of the bundled model, damaged in one way."""
    manifest = tmp_path / BUNDLED_MODEL.name
    payload = BUNDLED_MODEL.with_suffix(".npz")
    if how == "missing":
        return manifest
    shutil.copy(BUNDLED_MODEL, manifest)
    shutil.copy(payload, tmp_path / payload.name)
    if how == "not_json":
        manifest.write_text("{ this is not json")
    elif how == "payload_changed":
        data = bytearray((tmp_path / payload.name).read_bytes())
        data[len(data) // 2] ^= 0xFF
        (tmp_path / payload.name).write_bytes(bytes(data))
    elif how == "newer_format":
        content = json.loads(manifest.read_text())
        content["format_version"] = 99
        manifest.write_text(json.dumps(content))
    return manifest


@pytest.mark.parametrize(
    "case",
    [
        ("missing", "cannot read"),
        ("not_json", "not valid JSON"),
        ("payload_changed", "does not match the manifest"),
        ("newer_format", "format version 99 is not supported"),
    ],
    ids=lambda case: case[0],
)
@pytest.mark.usefixtures("source_statistics")
async def test_unusable_model(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    tmp_path: pathlib.Path,
    case: tuple[str, str],
) -> None:
    """A missing or damaged model: a repair issue, a log line, no retry loop."""
    how, reason = case
    issue_registry = ir.async_get(hass)
    broken = _broken_copy(tmp_path, how)
    mock_config_entry.add_to_hass(hass)
    with patch("custom_components.kilowise.BUNDLED_MODEL", broken):
        assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await hass.async_block_till_done()

    # An error, not "retry": a damaged file does not mend itself.
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    issue = issue_registry.async_get_issue(DOMAIN, ISSUE_MODEL_UNUSABLE)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_key == ISSUE_MODEL_UNUSABLE
    assert issue.translation_placeholders is not None
    assert reason in issue.translation_placeholders["error"]
    # One clear log line, without the chain of the engine's exceptions.
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1
    assert "Reinstall Kilowise" in errors[0].getMessage()
    assert reason in errors[0].getMessage()
    assert "ArtifactError" not in caplog.text
    assert hass.states.get(NEXT_HOUR) is None

    # Once the model is whole again, a reload clears the issue.
    assert await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert issue_registry.async_get_issue(DOMAIN, ISSUE_MODEL_UNUSABLE) is None


@pytest.mark.usefixtures("source_statistics", "bundled_model")
async def test_follows_renamed_source(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Renaming the source's entity id moves the entry along with it."""
    hass.states.async_remove(SOURCE)
    entry = entity_registry.async_get_or_create(
        "sensor", "meter", "grid-1", suggested_object_id="home_energy"
    )
    assert entry.entity_id == SOURCE
    hass.states.async_set(SOURCE, "12345.6", ENERGY_ATTRIBUTES)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    entity_registry.async_update_entity(SOURCE, new_entity_id="sensor.grid_energy")
    hass.states.async_set("sensor.grid_energy", "12345.6", ENERGY_ATTRIBUTES)
    await hass.async_block_till_done()

    assert mock_config_entry.data == {CONF_SOURCE_ENTITY: "sensor.grid_energy"}
    assert mock_config_entry.unique_id == "sensor.grid_energy"
    assert mock_config_entry.state is ConfigEntryState.LOADED
    coordinator = mock_config_entry.runtime_data.coordinator
    assert coordinator.source_entity == "sensor.grid_energy"
    assert coordinator.last_update_success
    assert hass.states.get(NEXT_HOUR).state != STATE_UNAVAILABLE


async def test_blocking_guard_works(
    hass: HomeAssistant, blocking_calls: BlockingCalls
) -> None:
    """The guard that every test relies on does see file reads in the loop."""
    read_artifact(BUNDLED_MODEL)  # on purpose, in the event loop
    assert any("read_bytes" in call for call in blocking_calls.calls)
    blocking_calls.clear()
