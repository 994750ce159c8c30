"""Devices of a Kilowise entry: none left behind, stale ones removable.

Each entry has its service device (identified by the entry id); other devices
may come with the entry's own entities (one per appliance, for example).
Whatever device of the entry no entity of the entry uses any more is stale:
it is removed at set-up, and the user may delete it from its device page.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .const import DOMAIN, LOGGER
from .data import KilowiseConfigEntry


def is_entry_device(entry: KilowiseConfigEntry, device: dr.DeviceEntry) -> bool:
    """Whether ``device`` is the entry's own service device."""
    return (DOMAIN, entry.entry_id) in device.identifiers


@callback
def async_remove_stale_devices(hass: HomeAssistant, entry: KilowiseConfigEntry) -> None:
    """Remove every device of the entry that none of its entities uses.

    Run once the platforms are set up, when every entity of the entry is in
    the entity registry. A device shared with another entry (possible before
    Home Assistant 2026.x) is only detached from this one.
    """
    device_registry = dr.async_get(hass)
    used = {
        entity.device_id
        for entity in er.async_entries_for_config_entry(
            er.async_get(hass), entry.entry_id
        )
        if entity.device_id is not None
    }
    for device in dr.async_entries_for_config_entry(device_registry, entry.entry_id):
        if device.id in used or is_entry_device(entry, device):
            continue
        LOGGER.info(
            "Removing the device %s of %s: no entity of it is left",
            device.name_by_user or device.name or device.id,
            entry.title,
        )
        # From Home Assistant 2026.x a device belongs to one entry
        # (config_entry_id); before, it could belong to several: leave the
        # others theirs.
        if hasattr(device, "config_entry_id") or device.config_entries == {
            entry.entry_id
        }:
            device_registry.async_remove_device(device.id)
        else:
            device_registry.async_update_device(
                device.id, remove_config_entry_id=entry.entry_id
            )


def device_is_removable(
    hass: HomeAssistant, entry: KilowiseConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Whether the user may delete ``device`` from the entry.

    Never the entry's service device (it goes with the entry), nor a device
    with an entity of the entry that has a state now.
    """
    if is_entry_device(entry, device):
        return False
    entities = er.async_entries_for_device(er.async_get(hass), device.id)
    return not any(
        entity.config_entry_id == entry.entry_id
        and hass.states.get(entity.entity_id) is not None
        for entity in entities
    )
