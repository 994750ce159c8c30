"""Config flow of Kilowise: choose the sensor that measures the home's energy."""

from __future__ import annotations

import os
from typing import Any

from homeassistant.components.recorder.statistics import async_list_statistic_ids
from homeassistant.components.sensor import (
    DOMAIN as SENSOR_DOMAIN,
    SensorDeviceClass,
    SensorStateClass,
)
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
)
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.core import HomeAssistant, State, callback
from homeassistant.helpers import config_validation as cv, selector
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import (
    CONF_ALLOW_UNSIGNED,
    CONF_ALLOWED_DIRS,
    CONF_FORECAST_HOURS,
    CONF_PEAK_WARNING_MINUTES,
    CONF_PRICE_ENTITY,
    CONF_SOURCE_ENTITY,
    CONF_TARIFF,
    CONF_TRUSTED_KEYS,
    DEFAULT_FORECAST_HOURS,
    DEFAULT_PEAK_WARNING_MINUTES,
    DOMAIN,
    MIN_FORECAST_HOURS,
    SUBENTRY_APPLIANCE,
    SUBENTRY_ZONE,
)
from .engine import MAX_HORIZON
from .engine.prices import PriceError, parse_price_attributes, parse_tariff
from .engine.signing import SignatureError
from .history import SourceKind
from .model_manager import parse_trusted_key
from .zone_flow import ZoneSubentryFlow

ATTR_STATE_CLASS = "state_class"

SOURCE_UNITS: dict[SourceKind, frozenset[str]] = {
    SourceKind.ENERGY: frozenset(
        {
            UnitOfEnergy.WATT_HOUR,
            UnitOfEnergy.KILO_WATT_HOUR,
            UnitOfEnergy.MEGA_WATT_HOUR,
        }
    ),
    SourceKind.POWER: frozenset({UnitOfPower.WATT, UnitOfPower.KILO_WATT}),
}
SOURCE_STATE_CLASSES: dict[SourceKind, frozenset[str]] = {
    SourceKind.ENERGY: frozenset(
        {SensorStateClass.TOTAL, SensorStateClass.TOTAL_INCREASING}
    ),
    SourceKind.POWER: frozenset({SensorStateClass.MEASUREMENT}),
}
SOURCE_DEVICE_CLASSES: dict[SourceKind, str] = {
    SourceKind.ENERGY: SensorDeviceClass.ENERGY,
    SourceKind.POWER: SensorDeviceClass.POWER,
}


def _state_kind(state: State) -> SourceKind | None:
    """Energy meter or power sensor, by device class, else by unit."""
    device_class = state.attributes.get(ATTR_DEVICE_CLASS)
    unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    for kind, kind_device_class in SOURCE_DEVICE_CLASSES.items():
        if device_class == kind_device_class:
            return kind
    if device_class is None:
        for kind, units in SOURCE_UNITS.items():
            if unit in units:
                return kind
    return None


def source_error(state: State | None) -> str | None:
    """Why a sensor cannot be a source, as an error key; None if it can.

    Only what the state tells is checked here; whether the recorder keeps
    long-term statistics for it is asked separately.
    """
    if state is None:
        return "entity_not_found"
    kind = _state_kind(state)
    if (
        kind is None
        or state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) not in SOURCE_UNITS[kind]
    ):
        return "wrong_unit"
    if state.attributes.get(ATTR_STATE_CLASS) not in SOURCE_STATE_CLASSES[kind]:
        return "wrong_state_class"
    return None


def source_description(state: State) -> dict[str, str]:
    """The unit and state class a sensor reports, for messages ("none" if unset)."""
    return {
        "unit": str(state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) or "none"),
        "state_class": str(state.attributes.get(ATTR_STATE_CLASS) or "none"),
    }


async def async_validate_source(hass: HomeAssistant, entity_id: str) -> str | None:
    """Check a candidate source sensor; return an error key or None."""
    if error := source_error(hass.states.get(entity_id)):
        return error
    # Answered from the recorder's cache, or read in its executor: never a
    # database query in the event loop.
    if not await async_list_statistic_ids(hass, {entity_id}):
        return "no_statistics"
    return None


class SourceEntitySelector(selector.EntitySelector):
    """An entity selector that offers fitting sensors and accepts any entity id.

    The form lists only fitting sensors, but an entity id sent another way
    (the REST API, or a sensor that changed since the form opened) reaches
    the step, which then says in the user's language what is wrong with it,
    instead of a bare schema error.
    """

    def __call__(self, data: Any) -> str:
        """Accept one entity id; fitness is checked by the step."""
        return cv.entity_id(data)


def source_schema(hass: HomeAssistant) -> vol.Schema:
    """The source field, offering the sensors that fit."""
    fitting = sorted(
        state.entity_id
        for state in hass.states.async_all(SENSOR_DOMAIN)
        if source_error(state) is None
    )
    config = selector.EntitySelectorConfig(
        filter=selector.EntityFilterSelectorConfig(domain=SENSOR_DOMAIN)
    )
    if fitting:
        config["include_entities"] = fitting
    else:
        # Nothing fits yet: offer the energy and power sensors, and let the
        # step explain what is missing.
        config["filter"] = selector.EntityFilterSelectorConfig(
            domain=SENSOR_DOMAIN,
            device_class=[SensorDeviceClass.ENERGY, SensorDeviceClass.POWER],
        )
    return vol.Schema({vol.Required(CONF_SOURCE_ENTITY): SourceEntitySelector(config)})


def entry_title(hass: HomeAssistant, entity_id: str) -> str:
    """Title of an entry: Kilowise and the source's name."""
    state = hass.states.get(entity_id)
    return f"Kilowise {state.name if state else entity_id}"


class KilowiseConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up Kilowise for one energy meter or power sensor."""

    VERSION = 1
    MINOR_VERSION = 1

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the source sensor: the only field, one step."""
        errors: dict[str, str] = {}
        if user_input is not None:
            entity_id = user_input[CONF_SOURCE_ENTITY]
            await self.async_set_unique_id(entity_id)
            self._abort_if_unique_id_configured()
            if error := await async_validate_source(self.hass, entity_id):
                errors[CONF_SOURCE_ENTITY] = error
            else:
                return self.async_create_entry(
                    title=entry_title(self.hass, entity_id),
                    data={CONF_SOURCE_ENTITY: entity_id},
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                source_schema(self.hass), user_input
            ),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Swap the source sensor; the entry's entities stay."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            entity_id = user_input[CONF_SOURCE_ENTITY]
            if entity_id != entry.data[CONF_SOURCE_ENTITY]:
                await self.async_set_unique_id(entity_id)
                self._abort_if_unique_id_configured()
            if error := await async_validate_source(self.hass, entity_id):
                errors[CONF_SOURCE_ENTITY] = error
            else:
                # A changed entry is reloaded by its update listener; the same
                # sensor again reloads it too (to read its history afresh).
                if not self.hass.config_entries.async_update_entry(
                    entry,
                    unique_id=entity_id,
                    title=entry_title(self.hass, entity_id),
                    data={**entry.data, CONF_SOURCE_ENTITY: entity_id},
                ):
                    self.hass.config_entries.async_schedule_reload(entry.entry_id)
                return self.async_abort(reason="reconfigure_successful")
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                source_schema(self.hass), user_input or dict(entry.data)
            ),
            errors=errors,
            description_placeholders={"title": entry.title},
        )

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> KilowiseOptionsFlow:
        """Options of an entry."""
        return KilowiseOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Appliances to schedule and zones to control are subentries of the home's entry."""
        # Imported here: the appliance flow module imports this one.
        from .appliance_flow import ApplianceSubentryFlow  # noqa: PLC0415

        return {
            SUBENTRY_APPLIANCE: ApplianceSubentryFlow,
            SUBENTRY_ZONE: ZoneSubentryFlow,
        }


OPTIONS_SCHEMA = vol.Schema(
    {
        vol.Required(
            CONF_FORECAST_HOURS, default=DEFAULT_FORECAST_HOURS
        ): selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=MIN_FORECAST_HOURS,
                max=MAX_HORIZON,
                step=1,
                unit_of_measurement="h",
                mode=selector.NumberSelectorMode.SLIDER,
            )
        ),
        vol.Required(CONF_ALLOW_UNSIGNED, default=False): selector.BooleanSelector(),
        vol.Optional(CONF_TRUSTED_KEYS, default=[]): selector.TextSelector(
            selector.TextSelectorConfig(multiple=True)
        ),
        vol.Optional(CONF_ALLOWED_DIRS, default=[]): selector.TextSelector(
            selector.TextSelectorConfig(multiple=True)
        ),
        vol.Optional(CONF_PRICE_ENTITY): selector.EntitySelector(
            selector.EntitySelectorConfig(domain=SENSOR_DOMAIN)
        ),
        vol.Optional(CONF_TARIFF, default=[]): selector.TextSelector(
            selector.TextSelectorConfig(multiple=True)
        ),
        vol.Required(
            CONF_PEAK_WARNING_MINUTES, default=DEFAULT_PEAK_WARNING_MINUTES
        ): selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=0, max=240, step=5, unit_of_measurement="min"
            )
        ),
    }
)


def check_price_source(
    hass: HomeAssistant, price_entity: str | None, tariff: list[str]
) -> tuple[str, str] | None:
    """(error key, detail) if the price options cannot be used.

    A price sensor that is unavailable now is accepted (recommendations then
    fall back to the household's load until it reports); one whose unit or
    currency cannot be understood, or that publishes no price list, is not.
    """
    if price_entity and tariff:
        return "price_source_both", ""
    if tariff:
        try:
            parse_tariff(tariff)
        except PriceError as err:
            return err.key, err.placeholders.get("line", "")
    if price_entity:
        state = hass.states.get(price_entity)
        if state is None:
            return "price_sensor_unavailable", price_entity
        try:
            parse_price_attributes(
                state.state,
                state.attributes,
                tz=dt_util.get_default_time_zone(),
                now=dt_util.utcnow(),
                home_currency=hass.config.currency,
            )
        except PriceError as err:
            if err.key != "price_sensor_unavailable":
                return err.key, str(
                    state.attributes.get("unit_of_measurement") or price_entity
                )
    return None


def _cleaned(values: Any) -> list[str]:
    """Non-empty, stripped lines of a multiple text field, without repeats."""
    if isinstance(values, str):
        values = [values]
    seen: list[str] = []
    for value in values or []:
        text = str(value).strip()
        if text and text not in seen:
            seen.append(text)
    return seen


def check_trusted_keys(keys: list[str]) -> tuple[str, str] | None:
    """(error key, the key) if a trusted key is not an Ed25519 public key."""
    for text in keys:
        try:
            parse_trusted_key(text)
        except SignatureError:
            return "invalid_public_key", text
    return None


def check_allowed_dirs(
    hass: HomeAssistant, folders: list[str]
) -> tuple[str, str] | None:
    """(error key, the folder) if a folder cannot be a model source. Blocking I/O.

    A folder must be an absolute path to an existing folder, and one that
    Home Assistant lets integrations read: inside the configuration folder or
    under ``allowlist_external_dirs`` in configuration.yaml.
    """
    config_dir = os.path.realpath(hass.config.config_dir)
    for folder in folders:
        if not os.path.isabs(folder):
            return "dir_not_absolute", folder
        if not os.path.isdir(folder):
            return "dir_not_found", folder
        real = os.path.realpath(folder)
        inside_config = os.path.commonpath([real, config_dir]) == config_dir
        if not inside_config and not hass.config.is_allowed_path(folder):
            return "dir_not_allowlisted", folder
    return None


class KilowiseOptionsFlow(OptionsFlow):
    """Forecast hours, and which shared models to trust and where to read them."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The one options step."""
        errors: dict[str, str] = {}
        placeholders = {"value": ""}
        if user_input is not None:
            keys = _cleaned(user_input.get(CONF_TRUSTED_KEYS))
            folders = _cleaned(user_input.get(CONF_ALLOWED_DIRS))
            tariff = _cleaned(user_input.get(CONF_TARIFF))
            price_entity = user_input.get(CONF_PRICE_ENTITY) or None
            if key_error := check_trusted_keys(keys):
                errors[CONF_TRUSTED_KEYS], placeholders["value"] = key_error
            elif price_error := check_price_source(self.hass, price_entity, tariff):
                field = (
                    CONF_TARIFF
                    if price_error[0].startswith("tariff")
                    else CONF_PRICE_ENTITY
                )
                errors[field], placeholders["value"] = price_error
            elif dir_error := await self.hass.async_add_executor_job(
                check_allowed_dirs, self.hass, folders
            ):
                errors[CONF_ALLOWED_DIRS], placeholders["value"] = dir_error
            else:
                return self.async_create_entry(
                    data={
                        CONF_FORECAST_HOURS: int(user_input[CONF_FORECAST_HOURS]),
                        CONF_ALLOW_UNSIGNED: bool(
                            user_input.get(CONF_ALLOW_UNSIGNED, False)
                        ),
                        CONF_TRUSTED_KEYS: keys,
                        CONF_ALLOWED_DIRS: folders,
                        CONF_PRICE_ENTITY: price_entity,
                        CONF_TARIFF: tariff,
                        CONF_PEAK_WARNING_MINUTES: int(
                            user_input.get(
                                CONF_PEAK_WARNING_MINUTES, DEFAULT_PEAK_WARNING_MINUTES
                            )
                        ),
                    }
                )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                OPTIONS_SCHEMA, user_input or self.config_entry.options
            ),
            errors=errors,
            description_placeholders=placeholders,
        )
