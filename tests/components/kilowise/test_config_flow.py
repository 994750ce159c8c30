"""Config, reconfigure and options flows of Kilowise."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import ATTR_DEVICE_CLASS, ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.kilowise.const import (
    CONF_ALLOW_UNSIGNED,
    CONF_ALLOWED_DIRS,
    CONF_FORECAST_HOURS,
    CONF_PEAK_WARNING_MINUTES,
    CONF_PRICE_ENTITY,
    CONF_SOURCE_ENTITY,
    CONF_TARIFF,
    CONF_TRUSTED_KEYS,
    DEFAULT_PEAK_WARNING_MINUTES,
    DOMAIN,
)

from .conftest import (
    ENERGY_ATTRIBUTES,
    ENTRY_TITLE,
    POWER_ATTRIBUTES,
    POWER_SOURCE,
    SOURCE,
    async_import,
    power_statistics,
)


@pytest.fixture
async def power_source(hass: HomeAssistant, household: np.ndarray) -> None:
    """A power sensor in W with long-term statistics."""
    await async_import(hass, POWER_SOURCE, "W", power_statistics(household))
    hass.states.async_set(POWER_SOURCE, "850", POWER_ATTRIBUTES)


async def _start(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    return result["flow_id"]


@pytest.mark.usefixtures("source_statistics", "bundled_model")
async def test_user_step_creates_entry(hass: HomeAssistant) -> None:
    """The one field, the source sensor, completes the flow in one step."""
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_SOURCE_ENTITY: SOURCE}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == ENTRY_TITLE
    assert result["data"] == {CONF_SOURCE_ENTITY: SOURCE}
    assert result["options"] == {}
    entry = result["result"]
    assert entry.unique_id == SOURCE
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


@pytest.mark.usefixtures("source_statistics", "power_source", "bundled_model")
async def test_user_step_power_sensor(hass: HomeAssistant) -> None:
    """A power sensor (W, measurement) is a source too."""
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_SOURCE_ENTITY: POWER_SOURCE}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Kilowise Home power"
    assert result["result"].unique_id == POWER_SOURCE


@pytest.mark.usefixtures("source_statistics", "power_source")
async def test_form_offers_only_fitting_sensors(hass: HomeAssistant) -> None:
    """The selector lists energy meters and power sensors that fit, nothing else."""
    hass.states.async_set(
        "sensor.no_state_class", "1", {**ENERGY_ATTRIBUTES, "state_class": None}
    )
    hass.states.async_set("sensor.temperature", "21", {ATTR_UNIT_OF_MEASUREMENT: "°C"})
    hass.states.async_set(
        "sensor.gas", "3", {ATTR_DEVICE_CLASS: "gas", ATTR_UNIT_OF_MEASUREMENT: "m³"}
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    selector = result["data_schema"].schema[CONF_SOURCE_ENTITY]
    assert selector.config["include_entities"] == [SOURCE, POWER_SOURCE]
    assert selector.config["filter"] == [{"domain": ["sensor"]}]


async def test_form_without_fitting_sensors(hass: HomeAssistant) -> None:
    """Without any fitting sensor, the selector filters by device class."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    selector = result["data_schema"].schema[CONF_SOURCE_ENTITY]
    assert "include_entities" not in selector.config
    assert selector.config["filter"] == [
        {"domain": ["sensor"], "device_class": ["energy", "power"]}
    ]


@pytest.mark.parametrize(
    ("entity_id", "attributes", "error"),
    [
        ("sensor.nothing_here", None, "entity_not_found"),
        (
            "sensor.meter_in_w",
            {**ENERGY_ATTRIBUTES, ATTR_UNIT_OF_MEASUREMENT: "W"},
            "wrong_unit",
        ),
        (
            "sensor.power_in_kwh",
            {**POWER_ATTRIBUTES, ATTR_UNIT_OF_MEASUREMENT: "kWh"},
            "wrong_unit",
        ),
        (
            "sensor.temperature",
            {ATTR_UNIT_OF_MEASUREMENT: "°C", "state_class": "measurement"},
            "wrong_unit",
        ),
        (
            "sensor.gas_in_kwh",
            {**ENERGY_ATTRIBUTES, ATTR_DEVICE_CLASS: "gas"},
            "wrong_unit",
        ),
        (
            "sensor.meter_without_state_class",
            {k: v for k, v in ENERGY_ATTRIBUTES.items() if k != "state_class"},
            "wrong_state_class",
        ),
        (
            "sensor.power_total",
            {**POWER_ATTRIBUTES, "state_class": "total"},
            "wrong_state_class",
        ),
        ("sensor.meter_not_recorded", ENERGY_ATTRIBUTES, "no_statistics"),
    ],
)
@pytest.mark.usefixtures("source_statistics", "bundled_model")
async def test_user_step_errors(
    hass: HomeAssistant,
    entity_id: str,
    attributes: dict[str, Any] | None,
    error: str,
) -> None:
    """An unfit sensor is refused with a reason; a fit one then succeeds."""
    if attributes is not None:
        hass.states.async_set(entity_id, "5", attributes)
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_SOURCE_ENTITY: entity_id}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SOURCE_ENTITY: error}

    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_SOURCE_ENTITY: SOURCE}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("bundled_model")
async def test_sensor_with_statistics_still_to_come(hass: HomeAssistant) -> None:
    """A new meter whose first statistics the recorder compiles soon is accepted."""
    assert await async_setup_component(hass, "sensor", {})
    hass.states.async_set("sensor.new_meter", "0.0", ENERGY_ATTRIBUTES)
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_SOURCE_ENTITY: "sensor.new_meter"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    # No history yet: the entry loads and its forecast sensors wait.
    assert result["result"].state is ConfigEntryState.LOADED
    assert (
        hass.states.get("sensor.kilowise_home_energy_next_hour").state == "unavailable"
    )


@pytest.mark.usefixtures("source_statistics")
async def test_user_step_already_configured(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """One entry per source sensor."""
    mock_config_entry.add_to_hass(hass)
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_SOURCE_ENTITY: SOURCE}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def _reconfigure(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    return result["flow_id"]


@pytest.mark.usefixtures("power_source")
async def test_reconfigure_swaps_source(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Reconfigure moves the entry to another sensor and keeps its entities."""
    entry = init_integration
    flow_id = await _reconfigure(hass, entry)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_SOURCE_ENTITY: POWER_SOURCE}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data == {CONF_SOURCE_ENTITY: POWER_SOURCE}
    assert entry.unique_id == POWER_SOURCE
    assert entry.title == "Kilowise Home power"
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.coordinator.source_entity == POWER_SOURCE
    # Same entities (same unique ids), now fed by the power sensor.
    state = hass.states.get("sensor.kilowise_home_energy_next_48_hours")
    assert state is not None
    assert state.state not in ("unavailable", "unknown")


async def test_reconfigure_same_source(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Choosing the same sensor again just reloads."""
    coordinator = init_integration.runtime_data.coordinator
    flow_id = await _reconfigure(hass, init_integration)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_SOURCE_ENTITY: SOURCE}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert init_integration.data == {CONF_SOURCE_ENTITY: SOURCE}
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED
    assert init_integration.runtime_data.coordinator is not coordinator


async def test_reconfigure_errors(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Reconfigure validates the new sensor like the first step."""
    hass.states.async_set("sensor.temperature", "21", {ATTR_UNIT_OF_MEASUREMENT: "°C"})
    flow_id = await _reconfigure(hass, init_integration)
    for entity_id, error in (
        ("sensor.temperature", "wrong_unit"),
        ("sensor.gone", "entity_not_found"),
    ):
        result = await hass.config_entries.flow.async_configure(
            flow_id, {CONF_SOURCE_ENTITY: entity_id}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {CONF_SOURCE_ENTITY: error}
    assert init_integration.data == {CONF_SOURCE_ENTITY: SOURCE}


@pytest.mark.usefixtures("power_source")
async def test_reconfigure_to_source_of_other_entry(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A sensor that another entry forecasts from cannot be taken."""
    MockConfigEntry(
        domain=DOMAIN,
        title="Kilowise Home power",
        data={CONF_SOURCE_ENTITY: POWER_SOURCE},
        unique_id=POWER_SOURCE,
    ).add_to_hass(hass)
    flow_id = await _reconfigure(hass, init_integration)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_SOURCE_ENTITY: POWER_SOURCE}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert init_integration.data == {CONF_SOURCE_ENTITY: SOURCE}


async def test_options_flow(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The forecast sensor's span is an option; changing it reloads the entry."""
    entry = init_integration
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_FORECAST_HOURS: 24.0}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        CONF_FORECAST_HOURS: 24,
        CONF_ALLOW_UNSIGNED: False,
        CONF_TRUSTED_KEYS: [],
        CONF_ALLOWED_DIRS: [],
        CONF_PRICE_ENTITY: None,
        CONF_TARIFF: [],
        CONF_PEAK_WARNING_MINUTES: DEFAULT_PEAK_WARNING_MINUTES,
    }
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    state = hass.states.get("sensor.kilowise_home_energy_next_48_hours")
    assert state is not None
    assert state.attributes["friendly_name"] == "Kilowise Home energy Next 24 hours"
    hours = state.attributes["forecast"]
    assert len(hours) == 24
    assert float(state.state) == pytest.approx(sum(h["kwh"] for h in hours), abs=0.01)


@pytest.mark.usefixtures("source_statistics", "bundled_model")
async def test_rest_api_one_step(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """The contract scripts rely on: one POST of the source completes the flow."""
    assert await async_setup_component(hass, "config", {})
    client = await hass_client()
    response = await client.post(
        "/api/config/config_entries/flow", json={"handler": DOMAIN}
    )
    assert response.status == HTTPStatus.OK
    form = await response.json()
    assert form["type"] == "form"
    assert form["step_id"] == "user"
    (field,) = form["data_schema"]
    assert field["name"] == CONF_SOURCE_ENTITY
    assert field["required"] is True
    assert field["selector"]["entity"]["include_entities"] == [SOURCE]
    assert field["selector"]["entity"]["filter"] == [{"domain": ["sensor"]}]

    response = await client.post(
        f"/api/config/config_entries/flow/{form['flow_id']}",
        json={CONF_SOURCE_ENTITY: SOURCE},
    )
    assert response.status == HTTPStatus.OK
    result = await response.json()
    assert result["type"] == "create_entry"
    assert result["title"] == ENTRY_TITLE
    await hass.async_block_till_done()
    assert hass.config_entries.async_entries(DOMAIN)[0].state is ConfigEntryState.LOADED
