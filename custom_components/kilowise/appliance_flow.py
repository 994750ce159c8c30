"""Config subentry flow of an appliance: what it uses, when it may run.

An appliance is a subentry of the home's Kilowise entry. It is described by a
run duration and its energy, or by a power profile over the run; an optional
sub-meter (an energy sensor with long-term statistics) lets Kilowise learn its
typical cycle instead, and an optional switch lets automations start it.
"""

from __future__ import annotations

import math
from typing import Any

from homeassistant.components.sensor import DOMAIN as SENSOR_DOMAIN, SensorDeviceClass
from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.helpers import selector
import voluptuous as vol

from .config_flow import async_validate_source
from .const import (
    CONF_DURATION_MINUTES,
    CONF_EARLIEST_START,
    CONF_ENERGY_ENTITY,
    CONF_ENERGY_KWH,
    CONF_LATEST_END,
    CONF_NAME,
    CONF_POWER_PROFILE,
    CONF_SWITCH_ENTITY,
)

MAX_DURATION_MINUTES = 24 * 60


def appliance_schema() -> vol.Schema:
    """Fields of an appliance."""
    return vol.Schema(
        {
            vol.Required(CONF_NAME): selector.TextSelector(),
            vol.Required(CONF_DURATION_MINUTES, default=120): selector.NumberSelector(
                selector.NumberSelectorConfig(
                    min=1,
                    max=MAX_DURATION_MINUTES,
                    step=1,
                    unit_of_measurement="min",
                    mode=selector.NumberSelectorMode.BOX,
                )
            ),
            vol.Required(CONF_ENERGY_KWH, default=1.0): selector.NumberSelector(
                selector.NumberSelectorConfig(
                    min=0,
                    max=100,
                    step=0.01,
                    unit_of_measurement="kWh",
                    mode=selector.NumberSelectorMode.BOX,
                )
            ),
            vol.Optional(CONF_POWER_PROFILE): selector.TextSelector(),
            vol.Optional(CONF_SWITCH_ENTITY): selector.EntitySelector(
                selector.EntitySelectorConfig(domain=["switch", "input_boolean"])
            ),
            vol.Optional(CONF_ENERGY_ENTITY): selector.EntitySelector(
                selector.EntitySelectorConfig(
                    domain=SENSOR_DOMAIN,
                    device_class=[SensorDeviceClass.ENERGY, SensorDeviceClass.POWER],
                )
            ),
            vol.Optional(CONF_EARLIEST_START): selector.TimeSelector(),
            vol.Optional(CONF_LATEST_END): selector.TimeSelector(),
        }
    )


def parse_power_profile(text: str) -> list[float] | None:
    """kW values separated by commas or spaces; None if not all are numbers >= 0."""
    parts = text.replace(";", ",").replace(",", " ").split()
    try:
        values = [float(part) for part in parts]
    except ValueError:
        return None
    if any(not math.isfinite(value) or value < 0 for value in values):
        return None
    return values


class ApplianceSubentryFlow(ConfigSubentryFlow):
    """Add or change an appliance of a home."""

    async def _async_check(
        self, user_input: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Cleaned data and errors of a filled-in form."""
        errors: dict[str, str] = {}
        data: dict[str, Any] = {
            CONF_NAME: str(user_input[CONF_NAME]).strip(),
            CONF_DURATION_MINUTES: float(user_input[CONF_DURATION_MINUTES]),
            CONF_ENERGY_KWH: float(user_input[CONF_ENERGY_KWH]),
            CONF_POWER_PROFILE: [],
            CONF_SWITCH_ENTITY: user_input.get(CONF_SWITCH_ENTITY) or None,
            CONF_ENERGY_ENTITY: user_input.get(CONF_ENERGY_ENTITY) or None,
            CONF_EARLIEST_START: user_input.get(CONF_EARLIEST_START) or None,
            CONF_LATEST_END: user_input.get(CONF_LATEST_END) or None,
        }
        if not data[CONF_NAME]:
            errors[CONF_NAME] = "name_empty"
        if user_input.get(CONF_POWER_PROFILE):
            powers = parse_power_profile(user_input[CONF_POWER_PROFILE])
            if not powers:
                errors[CONF_POWER_PROFILE] = "power_profile_invalid"
            else:
                data[CONF_POWER_PROFILE] = powers
        if data[CONF_ENERGY_ENTITY] and (
            error := await async_validate_source(self.hass, data[CONF_ENERGY_ENTITY])
        ):
            errors[CONF_ENERGY_ENTITY] = error
        return data, errors

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """A new appliance."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = await self._async_check(user_input)
            if not errors:
                return self.async_create_entry(title=data[CONF_NAME], data=data)
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                appliance_schema(), user_input
            ),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change an appliance; its entities stay."""
        entry = self._get_entry()
        subentry = self._get_reconfigure_subentry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = await self._async_check(user_input)
            if not errors:
                return self.async_update_and_abort(
                    entry, subentry, title=data[CONF_NAME], data=data
                )
        suggested = dict(subentry.data)
        if suggested.get(CONF_POWER_PROFILE):
            suggested[CONF_POWER_PROFILE] = ", ".join(
                f"{value:g}" for value in suggested[CONF_POWER_PROFILE]
            )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                appliance_schema(), user_input or suggested
            ),
            errors=errors,
        )
