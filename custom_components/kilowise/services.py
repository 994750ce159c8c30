"""Actions of Kilowise, registered once for all entries.

Each action has its own registration function, called from ``async_setup``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.selector import ConfigEntrySelector
from sqlalchemy.exc import SQLAlchemyError
import voluptuous as vol

from .const import ATTR_CONFIG_ENTRY, DOMAIN, SERVICE_RETRAIN

if TYPE_CHECKING:
    from .data import KilowiseConfigEntry

RETRAIN_SCHEMA = vol.Schema(
    {vol.Required(ATTR_CONFIG_ENTRY): ConfigEntrySelector({"integration": DOMAIN})}
)


def loaded_entry(hass: HomeAssistant, entry_id: str) -> KilowiseConfigEntry:
    """The loaded Kilowise entry ``entry_id``, or a translated validation error."""
    entry = hass.config_entries.async_get_entry(entry_id)
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
    kilowise_entry: KilowiseConfigEntry = entry
    return kilowise_entry


async def _async_retrain(call: ServiceCall) -> ServiceResponse:
    """Fit the home's calibration now; answer with the check week's scores."""
    entry = loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY])
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
def async_setup_retrain_service(hass: HomeAssistant) -> None:
    """Register ``kilowise.retrain``: adapt the model to a home now."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_RETRAIN,
        _async_retrain,
        schema=RETRAIN_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
