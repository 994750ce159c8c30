"""Sensors of a zone: its occupancy now, and the forecast of occupancy.

``Occupancy`` is what the sources say now (occupied, empty or away; unknown
when a source that could change the answer cannot be read), with what
control does about it. ``Occupancy forecast`` is the learned probability
that the zone is occupied in the current hour, with the next 24 hours in its
``forecast`` attribute, which is kept out of the recorder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .control import ZoneController
from .data import KilowiseConfigEntry
from .engine.occupancy import Status
from .local_time import local_iso
from .zone_entity import KilowiseZoneEntity

ATTR_FORECAST = "forecast"
OCCUPANCY_STATES = [Status.OCCUPIED.value, Status.EMPTY.value, Status.AWAY.value]


def _status(zone: ZoneController) -> StateType:
    reading = zone.reading
    if reading is None or reading.status is Status.UNKNOWN:
        return None
    return str(reading.status.value)


def _status_attributes(zone: ZoneController) -> dict[str, Any]:
    summary = zone.summary()
    summary.pop("occupancy")
    return summary


def _probability(zone: ZoneController) -> StateType:
    return round(100 * float(zone.forecast(1)[0]["probability"]), 1)


def _forecast_attributes(zone: ZoneController) -> dict[str, Any]:
    model = zone.occupancy
    return {
        ATTR_FORECAST: zone.forecast(24),
        "prior": model.prior.value,
        "hours_learned": model.hours,
        "learned_until": local_iso(model.learned_until),
    }


@dataclass(frozen=True, kw_only=True)
class ZoneSensorEntityDescription(SensorEntityDescription):
    """A zone sensor: how to get its state and attributes from the zone."""

    value_fn: Callable[[ZoneController], StateType]
    attributes_fn: Callable[[ZoneController], dict[str, Any]]
    unrecorded: frozenset[str] = frozenset()


ZONE_SENSORS: tuple[ZoneSensorEntityDescription, ...] = (
    ZoneSensorEntityDescription(
        key="occupancy",
        translation_key="occupancy",
        device_class=SensorDeviceClass.ENUM,
        options=OCCUPANCY_STATES,
        value_fn=_status,
        attributes_fn=_status_attributes,
        unrecorded=frozenset(
            {
                "preheat",
                "heating_rates",
                "planned_runs",
                "decisions",
                "last_actions",
                "climate_modes",
            }
        ),
    ),
    ZoneSensorEntityDescription(
        key="occupancy_forecast",
        translation_key="occupancy_forecast",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=_probability,
        attributes_fn=_forecast_attributes,
        unrecorded=frozenset({ATTR_FORECAST}),
    ),
)


def async_setup_zone_sensors(
    entry: KilowiseConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add each zone's sensors on the zone's device."""
    control = entry.runtime_data.control
    if control is None:
        return
    for subentry_id, zone in control.zones.items():
        async_add_entities(
            [KilowiseZoneSensor(zone, description) for description in ZONE_SENSORS],
            config_subentry_id=subentry_id,
        )


class KilowiseZoneSensor(KilowiseZoneEntity, SensorEntity):
    """A sensor of a zone."""

    entity_description: ZoneSensorEntityDescription

    def __init__(
        self, zone: ZoneController, description: ZoneSensorEntityDescription
    ) -> None:
        """Keep the large or fast-changing attributes out of the recorder."""
        super().__init__(zone, description)
        self._unrecorded_attributes = description.unrecorded

    @property
    def native_value(self) -> StateType:
        """The zone's status, or the probability of occupancy now (%)."""
        return self.entity_description.value_fn(self.zone)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """What control does, or the forecast of the next 24 hours."""
        return self.entity_description.attributes_fn(self.zone)
