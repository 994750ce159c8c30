"""Kilowise: forecasts of a home's hourly energy use."""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.const import Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.event import async_track_entity_registry_updated_event
from homeassistant.helpers.recorder import get_instance
from homeassistant.helpers.typing import ConfigType

from .const import (
    BUNDLED_MODEL,
    CONF_SOURCE_ENTITY,
    DOMAIN,
    ISSUE_MODEL_UNUSABLE,
    ISSUE_SOURCE_MISSING,
    ISSUE_SOURCE_UNAVAILABLE,
    ISSUE_SOURCE_UNSUITABLE,
    LOGGER,
)
from .control import KilowiseControl
from .coordinator import KilowiseCoordinator
from .data import KilowiseConfigEntry, KilowiseData
from .devices import async_remove_stale_devices, device_is_removable
from .engine import ArtifactError
from .entity import async_register_entry_device
from .learning import KilowiseLearning
from .model_manager import KilowiseModels, async_remove_models
from .recommendations import KilowiseRecommendations
from .services import async_setup_services

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.SENSOR, Platform.SWITCH]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register Kilowise's actions, once for all entries."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: KilowiseConfigEntry) -> bool:
    """Load and verify the entry's model, forecast once and set up the sensors.

    The model is the one the entry used last (a loaded model survives
    restarts) or the bundled one, checked with the entry's trust policy.
    """
    try:
        models = await KilowiseModels.async_setup(hass, entry, BUNDLED_MODEL)
    except ArtifactError as err:
        placeholders = {"file": BUNDLED_MODEL.name, "error": str(err)}
        ir.async_create_issue(
            hass,
            DOMAIN,
            ISSUE_MODEL_UNUSABLE,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_MODEL_UNUSABLE,
            translation_placeholders=placeholders,
        )
        # A damaged file does not mend itself: an error, not a retry loop.
        # Home Assistant logs the message once; the reason is all in it.
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="model_unusable",
            translation_placeholders=placeholders,
        ) from None
    ir.async_delete_issue(hass, DOMAIN, ISSUE_MODEL_UNUSABLE)
    artifact = models.current.artifact

    coordinator = KilowiseCoordinator(hass, entry, artifact)
    # A source without enough history yet is not a set-up failure: the
    # sensors exist, stay unavailable and come alive at a later hourly refresh.
    await coordinator.async_refresh()
    coordinator.async_schedule_hourly()
    learning = KilowiseLearning(hass, entry, coordinator)
    entry.runtime_data = KilowiseData(
        artifact=artifact, coordinator=coordinator, models=models, learning=learning
    )
    # What was learned loads in the background: it never delays start-up.
    learning.async_start()
    recommendations = KilowiseRecommendations(hass, entry, coordinator)
    entry.runtime_data.recommendations = recommendations
    recommendations.async_start()
    entry.async_on_unload(recommendations.async_stop)
    control = KilowiseControl(hass, entry)
    entry.runtime_data.control = control
    # Deferrable switches run in the recommended windows (prices, else the
    # household's expected load) when there is one, else on their schedule.
    control.window_provider = recommendations.deferrable_window
    control.async_start()

    entry.runtime_data.device_id = async_register_entry_device(hass, coordinator)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    async_remove_stale_devices(hass, entry)
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    entry.async_on_unload(
        async_track_entity_registry_updated_event(
            hass,
            entry.data[CONF_SOURCE_ENTITY],
            _source_registry_listener(hass, entry),
        )
    )
    return True


async def async_unload_entry(hass: HomeAssistant, entry: KilowiseConfigEntry) -> bool:
    """Unload the sensors; the coordinator's schedule stops with the entry."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        for issue in (
            ISSUE_SOURCE_MISSING,
            ISSUE_SOURCE_UNAVAILABLE,
            ISSUE_SOURCE_UNSUITABLE,
        ):
            ir.async_delete_issue(hass, DOMAIN, f"{issue}_{entry.entry_id}")
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: KilowiseConfigEntry) -> None:
    """Delete the entry's loaded models and what was learned about the home."""
    await async_remove_models(hass, entry.entry_id)
    await KilowiseLearning.async_remove_store(hass, entry.entry_id)
    await KilowiseControl.async_remove_store(hass, entry.entry_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: KilowiseConfigEntry, device_entry: dr.DeviceEntry
) -> bool:
    """Let the user delete a stale device (never the entry's service device)."""
    return device_is_removable(hass, entry, device_entry)


async def _async_options_updated(
    hass: HomeAssistant, entry: KilowiseConfigEntry
) -> None:
    """Apply new options by reloading the entry."""
    await hass.config_entries.async_reload(entry.entry_id)


def _source_registry_listener(
    hass: HomeAssistant, entry: KilowiseConfigEntry
) -> Callable[[Event[er.EventEntityRegistryUpdatedData]], None]:
    """Follow the source sensor when the user renames its entity id."""

    async def _async_follow(new_entity_id: str) -> None:
        # The recorder moves the statistics to the new id in its own queue;
        # reload once it has, so that the first read finds them.
        await get_instance(hass).async_block_till_done()
        LOGGER.info(
            "Source %s was renamed to %s; following it",
            entry.data[CONF_SOURCE_ENTITY],
            new_entity_id,
        )
        hass.config_entries.async_update_entry(
            entry,
            unique_id=new_entity_id,
            data={**entry.data, CONF_SOURCE_ENTITY: new_entity_id},
        )  # the update listener reloads the entry

    @callback
    def _async_source_updated(event: Event[er.EventEntityRegistryUpdatedData]) -> None:
        data = event.data
        if data["action"] != "update" or "entity_id" not in data["changes"]:
            return
        entry.async_create_task(
            hass, _async_follow(data["entity_id"]), "kilowise follow renamed source"
        )

    return _async_source_updated
