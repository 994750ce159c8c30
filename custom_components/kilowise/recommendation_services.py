"""Actions ``kilowise.recommend`` and ``kilowise.get_forecast`` (response data).

Both name their entry with a config-entry selector and answer with JSON-safe
data, times as local ISO strings. Bad input is a translated
``ServiceValidationError``; a price source that cannot be used is a fallback
to the household's expected load, stated in the response.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import DOMAIN, SERVICE_GET_FORECAST, SERVICE_RECOMMEND
from .engine import MAX_HORIZON
from .engine.schedule import Profile
from .recommendation_planner import DEFAULT_ALTERNATIVES
from .recommendation_results import RecommendationError
from .recommendations import KilowiseRecommendations

if TYPE_CHECKING:
    from .data import KilowiseConfigEntry

ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_APPLIANCE = "appliance"
ATTR_DURATION = "duration"
ATTR_ENERGY_KWH = "energy_kwh"
ATTR_POWER_PROFILE = "power_profile"
ATTR_WINDOW_START = "window_start"
ATTR_WINDOW_END = "window_end"
ATTR_ALTERNATIVES = "alternatives"
ATTR_HOURS = "hours"
MAX_ALTERNATIVES = 10

RECOMMEND_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_APPLIANCE): cv.string,
        vol.Optional(ATTR_DURATION): vol.All(cv.time_period, cv.positive_timedelta),
        vol.Optional(ATTR_ENERGY_KWH): vol.All(vol.Coerce(float), vol.Range(min=0)),
        vol.Optional(ATTR_POWER_PROFILE): vol.All(
            cv.ensure_list,
            [vol.All(vol.Coerce(float), vol.Range(min=0))],
            vol.Length(min=1),
        ),
        vol.Optional(ATTR_WINDOW_START): cv.datetime,
        vol.Optional(ATTR_WINDOW_END): cv.datetime,
        vol.Optional(ATTR_ALTERNATIVES, default=DEFAULT_ALTERNATIVES): vol.All(
            vol.Coerce(int), vol.Range(min=0, max=MAX_ALTERNATIVES)
        ),
    }
)
GET_FORECAST_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_HOURS): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=MAX_HORIZON)
        ),
    }
)


def _recommendations(
    call: ServiceCall,
) -> tuple[KilowiseConfigEntry, KilowiseRecommendations]:
    # Imported here: services.py imports this module at its top.
    from .services import _loaded_entry  # noqa: PLC0415

    entry = _loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    recommendations = entry.runtime_data.recommendations
    assert recommendations is not None
    return entry, recommendations


def _as_utc(value: datetime | None) -> datetime | None:
    """A datetime from the call; without a zone it is the home's local time."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt_util.get_default_time_zone())
    return dt_util.as_utc(value)


def _validation_error(err: RecommendationError) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=err.key,
        translation_placeholders=err.placeholders or None,
    )


async def _async_recommend(call: ServiceCall) -> ServiceResponse:
    """The best start of an appliance's or an ad-hoc run, with alternatives."""
    _entry, recommendations = _recommendations(call)
    data = call.data
    start = _as_utc(data.get(ATTR_WINDOW_START))
    end = _as_utc(data.get(ATTR_WINDOW_END))
    if start is not None and end is not None and end <= start:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="window_order"
        )
    alternatives = int(data[ATTR_ALTERNATIVES])
    try:
        if ATTR_APPLIANCE in data:
            if any(
                key in data
                for key in (ATTR_DURATION, ATTR_ENERGY_KWH, ATTR_POWER_PROFILE)
            ):
                raise RecommendationError("appliance_or_run_needed")
            plan = recommendations.recommend_appliance(
                recommendations.appliance(data[ATTR_APPLIANCE]),
                window_start=start,
                window_end=end,
                alternatives=alternatives,
            )
        else:
            plan = recommendations.recommend(
                _ad_hoc_profile(data), start, end, alternatives=alternatives
            )
    except RecommendationError as err:
        raise _validation_error(err) from None
    return plan.as_dict()


def _ad_hoc_profile(data: dict[str, Any]) -> Profile:
    """A run given by duration and energy, or by duration and a power profile."""
    duration: timedelta | None = data.get(ATTR_DURATION)
    energy: float | None = data.get(ATTR_ENERGY_KWH)
    powers: list[float] | None = data.get(ATTR_POWER_PROFILE)
    if duration is None or (energy is None) == (powers is None):
        raise RecommendationError("appliance_or_run_needed")
    seconds = duration.total_seconds()
    if powers is not None:
        return Profile.from_power(powers, seconds)
    assert energy is not None
    return Profile.flat(energy, seconds)


async def _async_get_forecast(call: ServiceCall) -> ServiceResponse:
    """The hourly forecast with p10/p50/p90 for the next hours."""
    entry, _ = _recommendations(call)
    coordinator = entry.runtime_data.coordinator
    data = coordinator.data
    if data is None:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="forecast_unavailable",
            translation_placeholders={"title": entry.title},
        )
    fc = data.forecast
    hours = int(call.data.get(ATTR_HOURS, coordinator.forecast_hours))
    hours = min(hours, fc.hours)
    return {
        "as_of": dt_util.as_local(data.as_of).isoformat(),
        "start": dt_util.as_local(fc.start).isoformat(),
        "unit": "kWh",
        "adapted": data.adapted,
        "up_to_date": coordinator.last_update_success,
        "notes": list(fc.notes),
        "forecast": [
            {
                "start": dt_util.as_local(fc.hour_start(i)).isoformat(),
                "end": dt_util.as_local(fc.hour_start(i + 1)).isoformat(),
                "p10": round(float(fc.p10[i]), 4),
                "p50": round(float(fc.p50[i]), 4),
                "p90": round(float(fc.p90[i]), 4),
            }
            for i in range(hours)
        ],
    }


@callback
def async_setup_recommendation_services(hass: HomeAssistant) -> None:
    """Register ``kilowise.recommend`` and ``kilowise.get_forecast``."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_RECOMMEND,
        _async_recommend,
        schema=RECOMMEND_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_FORECAST,
        _async_get_forecast,
        schema=GET_FORECAST_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
