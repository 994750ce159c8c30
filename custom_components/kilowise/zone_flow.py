"""The zone subentry flow: a room or the whole home, its sources and what it drives.

One form in sections (occupancy, heating, lights, deferrable loads, safety),
the same for adding a zone and for changing it. The settings are stored flat
in the subentry's data (see ``zone_config.DEFAULTS``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import section
from homeassistant.helpers import selector
import voluptuous as vol

from .const import (
    CONF_AWAY,
    CONF_AWAY_PRESET,
    CONF_CLIMATES,
    CONF_COMFORT,
    CONF_COMFORT_PRESET,
    CONF_DRY_RUN,
    CONF_ECO,
    CONF_ECO_PRESET,
    CONF_FROST,
    CONF_HOLD_MINUTES,
    CONF_LIGHTS,
    CONF_LIGHTS_OFF_MINUTES,
    CONF_LIGHTS_ON_ARRIVAL,
    CONF_MAX_ACTIONS,
    CONF_MIN_OFF_MINUTES,
    CONF_MIN_ON_MINUTES,
    CONF_OVERRIDE_MINUTES,
    CONF_PREHEAT_HOURS,
    CONF_PREHEAT_PROBABILITY,
    CONF_PRIOR,
    CONF_RUN_END,
    CONF_RUN_MINUTES,
    CONF_RUN_START,
    CONF_SOURCES,
    CONF_STUCK_HOURS,
    CONF_SWITCHES,
    CONF_ZONE_NAME,
    DOMAIN,
    SUBENTRY_ZONE,
)
from .engine.occupancy import SOURCE_DOMAINS, Prior
from .zone_config import DEFAULTS, ZoneConfig

SECTION_OCCUPANCY = "occupancy"
SECTION_CLIMATE = "climate"
SECTION_LIGHTS = "lights_section"
SECTION_SWITCHES = "switches_section"
SECTION_SAFETY = "safety"


def _number(low: float, high: float, step: float, unit: str) -> selector.NumberSelector:
    return selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=low,
            max=high,
            step=step,
            unit_of_measurement=unit,
            mode=selector.NumberSelectorMode.BOX,
        )
    )


def _entities(domains: list[str]) -> selector.EntitySelector:
    return selector.EntitySelector(
        selector.EntitySelectorConfig(domain=domains, multiple=True)
    )


def _temperature() -> selector.NumberSelector:
    return _number(5, 30, 0.5, "°C")


SECTIONS: dict[str, dict[vol.Marker, Any]] = {
    SECTION_OCCUPANCY: {
        vol.Optional(CONF_SOURCES, default=DEFAULTS[CONF_SOURCES]): _entities(
            sorted(SOURCE_DOMAINS)
        ),
        vol.Required(CONF_HOLD_MINUTES, default=DEFAULTS[CONF_HOLD_MINUTES]): _number(
            0, 120, 1, "min"
        ),
        vol.Required(CONF_STUCK_HOURS, default=DEFAULTS[CONF_STUCK_HOURS]): _number(
            1, 168, 1, "h"
        ),
        vol.Required(CONF_PRIOR, default=DEFAULTS[CONF_PRIOR]): selector.SelectSelector(
            selector.SelectSelectorConfig(
                options=[prior.value for prior in Prior], translation_key="prior"
            )
        ),
    },
    SECTION_CLIMATE: {
        vol.Optional(CONF_CLIMATES, default=DEFAULTS[CONF_CLIMATES]): _entities(
            ["climate"]
        ),
        vol.Required(CONF_COMFORT, default=DEFAULTS[CONF_COMFORT]): _temperature(),
        vol.Required(CONF_ECO, default=DEFAULTS[CONF_ECO]): _temperature(),
        vol.Required(CONF_AWAY, default=DEFAULTS[CONF_AWAY]): _temperature(),
        vol.Required(CONF_FROST, default=DEFAULTS[CONF_FROST]): _temperature(),
        vol.Optional(
            CONF_COMFORT_PRESET, default=DEFAULTS[CONF_COMFORT_PRESET]
        ): selector.TextSelector(),
        vol.Optional(
            CONF_ECO_PRESET, default=DEFAULTS[CONF_ECO_PRESET]
        ): selector.TextSelector(),
        vol.Optional(
            CONF_AWAY_PRESET, default=DEFAULTS[CONF_AWAY_PRESET]
        ): selector.TextSelector(),
        vol.Required(CONF_PREHEAT_HOURS, default=DEFAULTS[CONF_PREHEAT_HOURS]): _number(
            0, 12, 0.5, "h"
        ),
        vol.Required(
            CONF_PREHEAT_PROBABILITY, default=DEFAULTS[CONF_PREHEAT_PROBABILITY]
        ): _number(10, 95, 5, "%"),
    },
    SECTION_LIGHTS: {
        vol.Optional(CONF_LIGHTS, default=DEFAULTS[CONF_LIGHTS]): _entities(["light"]),
        vol.Required(
            CONF_LIGHTS_OFF_MINUTES, default=DEFAULTS[CONF_LIGHTS_OFF_MINUTES]
        ): _number(1, 240, 1, "min"),
        vol.Required(
            CONF_LIGHTS_ON_ARRIVAL, default=DEFAULTS[CONF_LIGHTS_ON_ARRIVAL]
        ): selector.BooleanSelector(),
    },
    SECTION_SWITCHES: {
        vol.Optional(CONF_SWITCHES, default=DEFAULTS[CONF_SWITCHES]): _entities(
            ["switch"]
        ),
        vol.Required(
            CONF_RUN_START, default=DEFAULTS[CONF_RUN_START]
        ): selector.TimeSelector(),
        vol.Required(
            CONF_RUN_END, default=DEFAULTS[CONF_RUN_END]
        ): selector.TimeSelector(),
        vol.Required(CONF_RUN_MINUTES, default=DEFAULTS[CONF_RUN_MINUTES]): _number(
            5, 1440, 5, "min"
        ),
    },
    SECTION_SAFETY: {
        vol.Required(
            CONF_OVERRIDE_MINUTES, default=DEFAULTS[CONF_OVERRIDE_MINUTES]
        ): _number(5, 1440, 5, "min"),
        vol.Required(
            CONF_MIN_ON_MINUTES, default=DEFAULTS[CONF_MIN_ON_MINUTES]
        ): _number(0, 120, 1, "min"),
        vol.Required(
            CONF_MIN_OFF_MINUTES, default=DEFAULTS[CONF_MIN_OFF_MINUTES]
        ): _number(0, 120, 1, "min"),
        vol.Required(CONF_MAX_ACTIONS, default=DEFAULTS[CONF_MAX_ACTIONS]): _number(
            1, 60, 1, "/h"
        ),
    },
}
COLLAPSED = {SECTION_SAFETY}
INTEGERS = {
    CONF_HOLD_MINUTES,
    CONF_STUCK_HOURS,
    CONF_PREHEAT_PROBABILITY,
    CONF_LIGHTS_OFF_MINUTES,
    CONF_RUN_MINUTES,
    CONF_OVERRIDE_MINUTES,
    CONF_MIN_ON_MINUTES,
    CONF_MIN_OFF_MINUTES,
    CONF_MAX_ACTIONS,
}


def zone_schema() -> vol.Schema:
    """The zone form: name and dry run, then one section per part."""
    fields: dict[vol.Marker, Any] = {
        vol.Required(CONF_ZONE_NAME): selector.TextSelector(),
        vol.Required(
            CONF_DRY_RUN, default=DEFAULTS[CONF_DRY_RUN]
        ): selector.BooleanSelector(),
    }
    for key, schema in SECTIONS.items():
        # A section left out takes its fields' defaults.
        fields[vol.Required(key, default={})] = section(
            vol.Schema(schema), {"collapsed": key in COLLAPSED}
        )
    return vol.Schema(fields)


def nested(name: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Stored (flat) settings as the form's suggested values, by section."""
    values = {**DEFAULTS, **data}
    result: dict[str, Any] = {CONF_ZONE_NAME: name, CONF_DRY_RUN: values[CONF_DRY_RUN]}
    for key, schema in SECTIONS.items():
        result[key] = {
            str(marker): values[str(marker)]
            for marker in schema
            if str(marker) in values
        }
    return result


def flattened(user_input: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The form's answer as (name, flat settings), numbers as the zone reads them."""
    data: dict[str, Any] = {CONF_DRY_RUN: bool(user_input.get(CONF_DRY_RUN, True))}
    for key, schema in SECTIONS.items():
        part = user_input.get(key) or {}
        for marker in schema:
            field = str(marker)
            value = part.get(field, DEFAULTS[field])
            if field in INTEGERS:
                value = int(value)
            elif isinstance(value, str) and field.endswith("_preset"):
                value = value.strip()
            data[field] = value
    return str(user_input.get(CONF_ZONE_NAME, "")).strip(), data


def validate_zone(
    hass: HomeAssistant,
    name: str,
    data: Mapping[str, Any],
    entry_id: str,
    subentry_id: str | None,
) -> tuple[str, dict[str, str]] | None:
    """(error key, placeholders) when a zone cannot work as set; None when it can."""
    if not name:
        return "name_missing", {}
    try:
        zone = ZoneConfig.from_data(name, data)
    except (TypeError, ValueError):
        return "invalid_value", {}
    if not zone.sources:
        return "no_sources", {}
    climate = zone.climate
    if min(climate.comfort, climate.eco, climate.away) < climate.frost_floor:
        return "below_frost_floor", {}
    if not climate.comfort >= climate.eco >= climate.away:
        return "setpoint_order", {}
    for preset in (climate.comfort_preset, climate.eco_preset, climate.away_preset):
        if preset is None:
            continue
        for entity_id in zone.climates:
            state = hass.states.get(entity_id)
            presets = state.attributes.get("preset_modes") if state else None
            if presets is not None and preset not in presets:
                return "preset_not_supported", {
                    "preset": preset,
                    "entity_id": entity_id,
                }
    if zone.switches and zone.run.duration > zone.run_window():
        return "run_longer_than_window", {}
    for entry in hass.config_entries.async_entries(DOMAIN):
        for other in entry.subentries.values():
            if other.subentry_type != SUBENTRY_ZONE or (
                entry.entry_id == entry_id and other.subentry_id == subentry_id
            ):
                continue
            if entry.entry_id == entry_id and other.title == name:
                return "name_exists", {}
            try:
                taken = set(ZoneConfig.from_data(other.title, other.data).driven)
            except (TypeError, ValueError):
                continue
            if clash := sorted(taken & set(zone.driven)):
                return "entity_in_other_zone", {
                    "entity_id": clash[0],
                    "zone": other.title,
                }
    return None


class ZoneSubentryFlow(ConfigSubentryFlow):
    """Add or change a zone: its occupancy sources and the entities it drives."""

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Add a zone (in dry run by default)."""
        return await self._async_step("user", user_input, None)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a zone; its entities and what it learned stay."""
        return await self._async_step(
            "reconfigure", user_input, self._get_reconfigure_subentry().subentry_id
        )

    async def _async_step(
        self, step_id: str, user_input: dict[str, Any] | None, subentry_id: str | None
    ) -> SubentryFlowResult:
        entry = self._get_entry()
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {
            "entity_id": "",
            "zone": "",
            "preset": "",
        }
        if user_input is not None:
            name, data = flattened(user_input)
            if problem := validate_zone(
                self.hass, name, data, entry.entry_id, subentry_id
            ):
                errors["base"], details = problem
                placeholders.update(details)
            elif subentry_id is None:
                return self.async_create_entry(title=name, data=data)
            else:
                return self.async_update_and_abort(
                    entry, self._get_reconfigure_subentry(), title=name, data=data
                )
            suggested = user_input
        elif subentry_id is not None:
            subentry = self._get_reconfigure_subentry()
            suggested = nested(subentry.title, subentry.data)
        else:
            suggested = nested("", {})
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(zone_schema(), suggested),
            errors=errors,
            description_placeholders=placeholders,
        )
