"""Forecast sensors of Kilowise.

The energy sensors are forecasts, not meters: they have the energy device
class and kWh, but no state class, so Home Assistant never compiles them into
long-term statistics or counts them in the energy dashboard.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfEnergy
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .const import ACCURACY_WINDOWS
from .coordinator import KilowiseCoordinator, KilowiseForecast
from .data import KilowiseConfigEntry
from .engine import FULL_HISTORY_HOURS
from .engine.accuracy import Accuracy
from .entity import KilowiseEntity
from .learning import STATUSES, KilowiseLearning
from .recommendation_sensor import recommendation_sensors
from .zone_sensor import async_setup_zone_sensors

PARALLEL_UPDATES = 0

HOUR = timedelta(hours=1)
ATTR_FORECAST = "forecast"
ATTR_TRAINING = "training"
ATTR_METRICS = "metrics"


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _next_hour(data: KilowiseForecast) -> float | None:
    return _rounded(data.energy_between(data.as_of, data.as_of + HOUR))


def _rest_of_today(data: KilowiseForecast) -> float | None:
    return _rounded(data.energy_between(data.as_of, data.next_local_midnight(1)))


def _tomorrow(data: KilowiseForecast) -> float | None:
    return _rounded(
        data.energy_between(data.next_local_midnight(1), data.next_local_midnight(2))
    )


def _forecast_attributes(data: KilowiseForecast) -> dict[str, Any]:
    fc = data.forecast
    return {
        ATTR_FORECAST: data.hourly(),
        "start": dt_util.as_local(fc.start).isoformat(),
        "history_hours": fc.history_hours,
        "history_hours_wanted": FULL_HISTORY_HOURS,
        "dropped_hours": data.history.dropped_hours,
        "notes": list(fc.notes),
    }


@dataclass(frozen=True, kw_only=True)
class KilowiseSensorEntityDescription(SensorEntityDescription):
    """A forecast sensor: how to get its state and attributes from a forecast."""

    value_fn: Callable[[KilowiseForecast], float | None]
    attributes_fn: Callable[[KilowiseForecast], dict[str, Any]] | None = None


SENSORS: tuple[KilowiseSensorEntityDescription, ...] = (
    KilowiseSensorEntityDescription(
        key="next_hour",
        translation_key="next_hour",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=_next_hour,
    ),
    KilowiseSensorEntityDescription(
        key="rest_of_today",
        translation_key="rest_of_today",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=1,
        value_fn=_rest_of_today,
    ),
    KilowiseSensorEntityDescription(
        key="tomorrow",
        translation_key="tomorrow",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=1,
        value_fn=_tomorrow,
    ),
    KilowiseSensorEntityDescription(
        key="forecast",
        translation_key="forecast",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=1,
        value_fn=lambda data: _rounded(data.total()),
        attributes_fn=_forecast_attributes,
    ),
)

MODEL_SENSOR = SensorEntityDescription(
    key="model",
    translation_key="model",
    entity_category=EntityCategory.DIAGNOSTIC,
)


ADAPTATION_SENSOR = SensorEntityDescription(
    key="adaptation",
    translation_key="adaptation",
    device_class=SensorDeviceClass.ENUM,
    options=list(STATUSES),
    entity_category=EntityCategory.DIAGNOSTIC,
)
"""Which model forecasts (bundled or adapted to the home) and why."""


@dataclass(frozen=True, kw_only=True)
class KilowiseAccuracySensorEntityDescription(SensorEntityDescription):
    """A live accuracy score of the issued forecasts over some days."""

    days: int
    value_fn: Callable[[Accuracy], float | None]


def _accuracy_sensors() -> tuple[KilowiseAccuracySensorEntityDescription, ...]:
    descriptions = []
    for days in ACCURACY_WINDOWS:
        # The 30-day scores are steady; the 7-day ones swing with one odd
        # day, so they start disabled.
        enabled = days == max(ACCURACY_WINDOWS)
        common: dict[str, Any] = {
            "days": days,
            "entity_category": EntityCategory.DIAGNOSTIC,
            "state_class": SensorStateClass.MEASUREMENT,
            "entity_registry_enabled_default": enabled,
        }
        descriptions += [
            KilowiseAccuracySensorEntityDescription(
                key=f"mae_{days}d",
                translation_key="accuracy_mae",
                native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
                suggested_display_precision=3,
                value_fn=lambda score: round(score.mae_kwh, 4),
                **common,
            ),
            KilowiseAccuracySensorEntityDescription(
                key=f"mase_{days}d",
                translation_key="accuracy_mase",
                suggested_display_precision=2,
                value_fn=lambda score: (
                    None if score.mase_weekly is None else round(score.mase_weekly, 4)
                ),
                **common,
            ),
            KilowiseAccuracySensorEntityDescription(
                key=f"coverage_{days}d",
                translation_key="accuracy_coverage",
                native_unit_of_measurement=PERCENTAGE,
                suggested_display_precision=0,
                value_fn=lambda score: round(100 * score.coverage_p10_p90, 2),
                **common,
            ),
        ]
    return tuple(descriptions)


ACCURACY_SENSORS = _accuracy_sensors()


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KilowiseConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the forecast sensors and the model sensor of an entry."""
    coordinator = entry.runtime_data.coordinator
    entities: list[SensorEntity] = [
        KilowiseForecastSensor(coordinator, description) for description in SENSORS
    ]
    entities.append(KilowiseModelSensor(coordinator, MODEL_SENSOR))
    learning = entry.runtime_data.learning
    entities.append(KilowiseAdaptationSensor(coordinator, ADAPTATION_SENSOR, learning))
    entities.extend(
        KilowiseAccuracySensor(coordinator, description, learning)
        for description in ACCURACY_SENSORS
    )
    async_add_entities(entities)
    for group, subentry_id in recommendation_sensors(entry):
        if subentry_id is None:
            async_add_entities(group)
        else:
            async_add_entities(group, config_subentry_id=subentry_id)
    async_setup_zone_sensors(entry, async_add_entities)


class KilowiseForecastSensor(KilowiseEntity, SensorEntity):
    """Energy expected over some span, from the latest forecast."""

    entity_description: KilowiseSensorEntityDescription
    _unrecorded_attributes = frozenset({ATTR_FORECAST})

    def __init__(
        self,
        coordinator: KilowiseCoordinator,
        description: KilowiseSensorEntityDescription,
    ) -> None:
        """Name the forecast sensor after the hours it covers."""
        super().__init__(coordinator, description)
        self._attr_translation_placeholders = {"hours": str(coordinator.forecast_hours)}

    @property
    def native_value(self) -> StateType:
        """Expected kWh."""
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Hourly forecast and how much history it rests on."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.coordinator.data)


class KilowiseModelSensor(KilowiseEntity, SensorEntity):
    """The model in use: its id, where it came from, its training and metrics."""

    _unrecorded_attributes = frozenset({ATTR_TRAINING, ATTR_METRICS})

    @property
    def available(self) -> bool:
        """The model is loaded whenever the entry is: always available."""
        return True

    @property
    def native_value(self) -> StateType:
        """Model identifier written by the builder."""
        return self.coordinator.artifact.model_id

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Where the model came from, who signed it, how it was trained and scored."""
        manifest = self.coordinator.artifact.manifest
        in_use = self.coordinator.config_entry.runtime_data.models.current.record
        return {
            "created": manifest.get("created"),
            "format_version": manifest.get("format_version"),
            "quantiles": manifest.get("quantiles"),
            "sha256": self.coordinator.artifact.sha256,
            "source": in_use.source,
            "source_type": in_use.source_type,
            "signer": in_use.info()["signer"],
            "signer_key_id": in_use.signer_key_id,
            "loaded_at": in_use.loaded_at,
            ATTR_TRAINING: manifest.get("training"),
            ATTR_METRICS: manifest.get("metrics"),
        }


class KilowiseAdaptationSensor(KilowiseEntity, SensorEntity):
    """Which model is in use for this home and why, with the check week's scores."""

    _unrecorded_attributes = frozenset({"hour_factors", "before", "after"})

    def __init__(
        self,
        coordinator: KilowiseCoordinator,
        description: SensorEntityDescription,
        learning: KilowiseLearning,
    ) -> None:
        """Attach the sensor to what the entry learned."""
        super().__init__(coordinator, description)
        self._learning = learning

    @property
    def available(self) -> bool:
        """Available once the stored state is loaded."""
        return self._learning.loaded

    @property
    def native_value(self) -> StateType:
        """``adapted`` or why the bundled model is in use."""
        return self._learning.status

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """When it was checked, on which week, and the scores there."""
        response = self._learning.response()
        state = self._learning.adaptation
        candidate = state.candidate
        return {
            "checked_at": response["checked_at"],
            "next_check": response["next_check"],
            "check_week_start": response["check_week"]["start"],
            "check_week_end": response["check_week"]["end"],
            "fit_hours": state.fit_hours,
            "before": response["before"],
            "after": response["after"],
            "hour_factors": None
            if candidate is None
            else [round(float(v), 4) for v in candidate.hour_factor],
            "band_scales": None
            if candidate is None
            else [round(candidate.lower_scale, 4), round(candidate.upper_scale, 4)],
        }


class KilowiseAccuracySensor(KilowiseEntity, SensorEntity):
    """How accurate the issued forecasts were over the last days."""

    entity_description: KilowiseAccuracySensorEntityDescription

    def __init__(
        self,
        coordinator: KilowiseCoordinator,
        description: KilowiseAccuracySensorEntityDescription,
        learning: KilowiseLearning,
    ) -> None:
        """Attach the sensor to the entry's forecast log."""
        super().__init__(coordinator, description)
        self._learning = learning
        self._attr_translation_placeholders = {"days": str(description.days)}

    @property
    def _score(self) -> Accuracy | None:
        return self._learning.accuracy.get(self.entity_description.days)

    @property
    def available(self) -> bool:
        """Scores outlive a failed refresh: available once the log is loaded."""
        return self._learning.loaded

    @property
    def native_value(self) -> StateType:
        """The score; unknown until an issued forecast hour has been scored."""
        score = self._score
        return None if score is None else self.entity_description.value_fn(score)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """How many hours the score rests on."""
        score = self._score
        if score is None:
            return {"hours_scored": 0, "hours_with_week_ago": 0}
        return {
            "hours_scored": score.hours,
            "hours_with_week_ago": score.naive_hours,
        }
