"""Devices of an entry: stale ones removed at set-up or by the user."""

from __future__ import annotations

from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.kilowise.const import DOMAIN


def _service_device(hass: HomeAssistant, entry: MockConfigEntry) -> dr.DeviceEntry:
    """The entry's service device (looked up the way every version allows)."""
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    found = [d for d in devices if (DOMAIN, entry.entry_id) in d.identifiers]
    assert len(found) == 1
    return found[0]


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
