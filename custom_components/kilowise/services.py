"""Kilowise's actions: share a model (export, load, roll back) and retrain.

Registered once in ``async_setup``; each names its entry with a config-entry
selector and answers with JSON-safe response data. Changing or writing model
files is for administrators only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceValidationError,
    Unauthorized,
    UnknownUser,
)
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.selector import ConfigEntrySelector
from sqlalchemy.exc import SQLAlchemyError
import voluptuous as vol

from .const import DOMAIN, SERVICE_RETRAIN
from .model_manager import ROLLBACK_BUNDLED, ROLLBACK_PREVIOUS
from .recommendation_services import async_setup_recommendation_services

if TYPE_CHECKING:
    from .data import KilowiseConfigEntry

ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_FILENAME = "filename"
ATTR_PATH = "path"
ATTR_URL = "url"
ATTR_TO = "to"

SERVICE_EXPORT_MODEL = "export_model"
SERVICE_LOAD_MODEL = "load_model"
SERVICE_ROLLBACK_MODEL = "rollback_model"

ENTRY_SELECTOR = ConfigEntrySelector({"integration": DOMAIN})

EXPORT_MODEL_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): ENTRY_SELECTOR,
        vol.Optional(ATTR_FILENAME): cv.string,
    }
)
LOAD_MODEL_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): ENTRY_SELECTOR,
        vol.Optional(ATTR_PATH): cv.string,
        vol.Optional(ATTR_URL): cv.string,
    }
)
RETRAIN_SCHEMA = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY_ID): ENTRY_SELECTOR})
ROLLBACK_MODEL_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): ENTRY_SELECTOR,
        vol.Optional(ATTR_TO, default=ROLLBACK_PREVIOUS): vol.In(
            [ROLLBACK_PREVIOUS, ROLLBACK_BUNDLED]
        ),
    }
)


def _loaded_entry(hass: HomeAssistant, entry_id: str) -> KilowiseConfigEntry:
    """The Kilowise entry an action names, which must be loaded."""
    entry: KilowiseConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"title": entry.title},
        )
    return entry


async def _async_require_admin(hass: HomeAssistant, call: ServiceCall) -> None:
    """Refuse a call made by a user who is not an administrator.

    Calls from automations and scripts carry no user and are allowed.
    """
    if call.context.user_id is None:
        return
    user = await hass.auth.async_get_user(call.context.user_id)
    if user is None:
        raise UnknownUser(context=call.context)
    if not user.is_admin:
        raise Unauthorized(context=call.context)


async def _async_export_model(call: ServiceCall) -> ServiceResponse:
    """Write the entry's model in use under ``<config>/kilowise/exports/``."""
    hass = call.hass
    await _async_require_admin(hass, call)
    entry = _loaded_entry(hass, call.data[ATTR_CONFIG_ENTRY_ID])
    result: dict[str, Any] = await entry.runtime_data.models.async_export(
        call.data.get(ATTR_FILENAME)
    )
    return result


async def _async_load_model(call: ServiceCall) -> ServiceResponse:
    """Verify a model from a path or an https URL and put it in use."""
    hass = call.hass
    await _async_require_admin(hass, call)
    entry = _loaded_entry(hass, call.data[ATTR_CONFIG_ENTRY_ID])
    path: str | None = call.data.get(ATTR_PATH)
    url: str | None = call.data.get(ATTR_URL)
    if (path is None) == (url is None):
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="path_or_url"
        )
    models = entry.runtime_data.models
    if path is not None:
        result = await models.async_load_path(path)
    else:
        assert url is not None
        result = await models.async_load_url(url)
    return result


async def _async_rollback_model(call: ServiceCall) -> ServiceResponse:
    """Go back to the previous model, or to the bundled one."""
    hass = call.hass
    await _async_require_admin(hass, call)
    entry = _loaded_entry(hass, call.data[ATTR_CONFIG_ENTRY_ID])
    result: dict[str, Any] = await entry.runtime_data.models.async_rollback(
        call.data[ATTR_TO]
    )
    return result


async def _async_retrain(call: ServiceCall) -> ServiceResponse:
    """Fit the home's calibration now; answer with the check week's scores."""
    entry = _loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    learning = entry.runtime_data.learning
    try:
        await learning.async_adapt()
    except SQLAlchemyError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="statistics_unavailable",
            translation_placeholders={"error": str(err)},
        ) from err
    if not call.return_response:
        return None
    return learning.response()


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register Kilowise's actions."""
    for service, handler, schema in (
        (SERVICE_EXPORT_MODEL, _async_export_model, EXPORT_MODEL_SCHEMA),
        (SERVICE_LOAD_MODEL, _async_load_model, LOAD_MODEL_SCHEMA),
        (SERVICE_ROLLBACK_MODEL, _async_rollback_model, ROLLBACK_MODEL_SCHEMA),
        (SERVICE_RETRAIN, _async_retrain, RETRAIN_SCHEMA),
    ):
        hass.services.async_register(
            DOMAIN,
            service,
            handler,
            schema=schema,
            supports_response=SupportsResponse.OPTIONAL,
        )
    async_setup_recommendation_services(hass)
