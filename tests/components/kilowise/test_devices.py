"""Devices of an entry: appliances come and go at run time; stale ones removed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.kilowise.const import (
    CONF_DURATION_MINUTES,
    CONF_ENERGY_KWH,
    CONF_NAME,
    CONF_SOURCES,
    DOMAIN,
    SUBENTRY_APPLIANCE,
    control_storage_key,
    zone_issue_id,
)

from .conftest import subentry_id
from .control_helpers import ZONE_DATA, async_add_zone, async_setup_home

GHOST = "binary_sensor.ghost"


def _device(
    hass: HomeAssistant, entry: MockConfigEntry, identifier: str
) -> dr.DeviceEntry | None:
    """The entry's device with this identifier (looked up as every version allows)."""
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    found = [d for d in devices if (DOMAIN, identifier) in d.identifiers]
    assert len(found) <= 1
    return found[0] if found else None


def _service_device(hass: HomeAssistant, entry: MockConfigEntry) -> dr.DeviceEntry:
    """The entry's service device."""
    device = _device(hass, entry, entry.entry_id)
    assert device is not None
    return device


async def _setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_stale_devices_removed_at_setup(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    source_statistics: None,
    bundled_model: Path,
) -> None:
    """A device no entity uses any more goes; the service device stays."""
    entry = mock_config_entry
    entry.add_to_hass(hass)
    devices = dr.async_get(hass)
    # Left by an earlier set-up: an appliance whose entities are gone.
    stale = devices.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, f"{entry.entry_id}_old_appliance")},
        name="Old washing machine",
    )
    # A device of the entry that still has an entity of it is kept.
    kept = devices.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, f"{entry.entry_id}_appliance")},
        name="Dishwasher",
    )
    er.async_get(hass).async_get_or_create(
        "sensor",
        DOMAIN,
        f"{entry.entry_id}_dishwasher",
        config_entry=entry,
        device_id=kept.id,
    )

    await _setup(hass, entry)

    assert devices.async_get(stale.id) is None
    assert devices.async_get(kept.id) is not None
    service = _service_device(hass, entry)
    assert service.entry_type is dr.DeviceEntryType.SERVICE
    # Every sensor Kilowise made is on the service device.
    entities = [
        entity
        for entity in er.async_entries_for_config_entry(
            er.async_get(hass), entry.entry_id
        )
        if entity.device_id != kept.id
    ]
    assert entities
    assert {entity.device_id for entity in entities} == {service.id}


async def test_user_removes_only_stale_devices(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    init_integration: MockConfigEntry,
) -> None:
    """Deleting from the device page works for a stale device, never the service."""
    assert await async_setup_component(hass, "config", {})
    entry = init_integration
    devices = dr.async_get(hass)
    service = _service_device(hass, entry)
    stale = devices.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, f"{entry.entry_id}_gone")},
        name="Gone",
    )
    client = await hass_ws_client(hass)

    async def remove(device_id: str) -> dict[str, object]:
        await client.send_json_auto_id(
            {
                "type": "config/device_registry/remove_config_entry",
                "config_entry_id": entry.entry_id,
                "device_id": device_id,
            }
        )
        response: dict[str, object] = await client.receive_json()
        return response

    response = await remove(service.id)
    assert not response["success"]
    assert devices.async_get(service.id) is not None

    response = await remove(stale.id)
    assert response["success"]
    assert devices.async_get(stale.id) is None


def _entities(hass: HomeAssistant, entry: MockConfigEntry) -> list[er.RegistryEntry]:
    return er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)


async def _delete_subentry(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    entry: MockConfigEntry,
    subentry_id: str,
) -> None:
    """Delete a subentry as the frontend does, and wait for the reload."""
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "config_entries/subentries/delete",
            "entry_id": entry.entry_id,
            "subentry_id": subentry_id,
        }
    )
    assert (await client.receive_json())["success"]
    await hass.async_block_till_done(wait_background_tasks=True)


def _subentry_entities(
    hass: HomeAssistant, entry: MockConfigEntry, subentry_id: str
) -> list[er.RegistryEntry]:
    return [e for e in _entities(hass, entry) if e.config_subentry_id == subentry_id]


async def test_appliance_added_at_run_time_gets_its_device(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """An appliance added through its flow brings its device and entities at once."""
    entry = init_integration
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_APPLIANCE), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {CONF_NAME: "Dryer", CONF_DURATION_MINUTES: 60, CONF_ENERGY_KWH: 2.5},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)

    assert entry.state is ConfigEntryState.LOADED
    dryer = subentry_id(entry, "Dryer")
    device = _device(hass, entry, dryer)
    assert device is not None
    assert device.name == "Dryer"
    assert device.via_device_id == _service_device(hass, entry).id
    entities = _subentry_entities(hass, entry, dryer)
    assert {entity.entity_id for entity in entities} == {
        "sensor.dryer_recommended_start",
        "binary_sensor.dryer_good_time_to_run",
    }
    for entity in entities:
        assert entity.device_id == device.id
        state = hass.states.get(entity.entity_id)
        assert state is not None
        assert state.state != "unavailable"


async def test_removed_appliance_takes_its_device_and_entities(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    priced_entry: MockConfigEntry,
) -> None:
    """Deleting an appliance removes its device, entities, plan and events."""
    assert await async_setup_component(hass, "config", {})
    entry = priced_entry
    washer = subentry_id(entry, "Washing machine")
    dishwasher = subentry_id(entry, "Dishwasher")
    devices = dr.async_get(hass)
    device = _device(hass, entry, washer)
    assert device is not None
    entity_ids = [e.entity_id for e in _subentry_entities(hass, entry, washer)]
    assert len(entity_ids) == 2
    recommendations = entry.runtime_data.recommendations
    assert washer in recommendations.snapshot.plans

    await _delete_subentry(hass, hass_ws_client, entry, washer)

    assert entry.state is ConfigEntryState.LOADED
    assert devices.async_get(device.id) is None
    assert _subentry_entities(hass, entry, washer) == []
    for entity_id in entity_ids:
        assert er.async_get(hass).async_get(entity_id) is None
        assert hass.states.get(entity_id) is None
    # The entry reloaded: the other appliance goes on, the removed one is gone.
    recommendations = entry.runtime_data.recommendations
    assert set(recommendations.snapshot.plans) == {dishwasher}
    assert _device(hass, entry, dishwasher) is not None
    assert hass.states.get("sensor.dishwasher_recommended_start") is not None
    # No device of the entry is left without an entity.
    used = {entity.device_id for entity in _entities(hass, entry)}
    for left in dr.async_entries_for_config_entry(devices, entry.entry_id):
        assert left.id in used


async def test_removed_zone_takes_its_device_entities_state_and_issues(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    hass_storage: dict[str, Any],
    init_integration: MockConfigEntry,
) -> None:
    """A zone added at run time brings its device and entities; deleting it
    removes them, what it learned from the entry's store, and its issues."""
    assert await async_setup_component(hass, "config", {})
    await async_setup_home(hass)
    entry = init_integration
    zone = await async_add_zone(
        hass, entry, {CONF_SOURCES: [*ZONE_DATA[CONF_SOURCES], GHOST]}
    )
    device = _device(hass, entry, zone)
    assert device is not None
    assert device.name == "Kilowise Living room"
    assert device.via_device_id == _service_device(hass, entry).id
    entity_ids = {e.entity_id for e in _subentry_entities(hass, entry, zone)}
    assert entity_ids == {
        "sensor.kilowise_living_room_occupancy",
        "sensor.kilowise_living_room_occupancy_forecast",
        "switch.kilowise_living_room_control",
    }
    for entity_id in entity_ids:
        assert hass.states.get(entity_id).state != "unavailable"
    # The ghost source raised its issue; the zone's state is stored.
    issue = ir.async_get(hass).async_get_issue(DOMAIN, zone_issue_id(zone, GHOST))
    assert issue is not None
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    key = control_storage_key(entry.entry_id)
    assert zone in hass_storage[key]["data"]["zones"]

    await _delete_subentry(hass, hass_ws_client, entry, zone)

    assert entry.state is ConfigEntryState.LOADED
    assert _device(hass, entry, zone) is None
    for entity_id in entity_ids:
        assert er.async_get(hass).async_get(entity_id) is None
        assert hass.states.get(entity_id) is None
    assert hass_storage[key]["data"]["zones"] == {}
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, zone_issue_id(zone, GHOST)) is None
    )
    control = entry.runtime_data.control
    assert control is not None
    assert control.zones == {}
