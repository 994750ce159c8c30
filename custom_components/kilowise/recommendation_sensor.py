"""Sensors of Kilowise's recommendations.

Per appliance: the recommended start (a timestamp). For the home: today's
predicted peak hour, and today's and tomorrow's expected cost where prices
exist (monetary, in the currency the price source states).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.util import dt as dt_util

from .data import KilowiseConfigEntry
from .recommendation_appliance import is_appliance
from .recommendation_entity import KilowiseRecommendationEntity
from .recommendation_results import (
    DayCost,
    Recommendation,
    RecommendationError,
    Snapshot,
)
from .recommendations import KilowiseRecommendations

ATTR_ALTERNATIVES = "alternatives"


@dataclass(frozen=True, kw_only=True)
class KilowiseHomeSensorEntityDescription(SensorEntityDescription):
    """A sensor about the home, from the latest recommendations."""

    value_fn: Callable[[Snapshot], datetime | float | None]
    attributes_fn: Callable[[Snapshot], dict[str, Any]]
    cost_day: int | None = None


def _cost(day: DayCost | None) -> float | None:
    return None if day is None or day.cost is None else round(day.cost, 2)


def _cost_attributes(day: DayCost | None, snapshot: Snapshot) -> dict[str, Any]:
    prices = snapshot.prices
    return {
        "expected_kwh": None
        if day is None or day.energy_kwh is None
        else round(day.energy_kwh, 2),
        "missing": "no_prices"
        if prices is None
        else (None if day is None else day.missing),
        "price_format": None if prices is None else prices.source_format,
        "price_problem": None
        if snapshot.price_error is None
        else snapshot.price_error.key,
    }


def _peak_hour_attributes(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "expected_kwh": snapshot.peak_hour_kwh,
        "measured": snapshot.peak_hour_measured,
    }


PEAK_HOUR = KilowiseHomeSensorEntityDescription(
    key="peak_hour_today",
    translation_key="peak_hour_today",
    device_class=SensorDeviceClass.TIMESTAMP,
    value_fn=lambda snapshot: snapshot.peak_hour,
    attributes_fn=_peak_hour_attributes,
)

COST_SENSORS = (
    KilowiseHomeSensorEntityDescription(
        key="expected_cost_today",
        translation_key="expected_cost_today",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        value_fn=lambda snapshot: _cost(snapshot.today),
        attributes_fn=lambda snapshot: _cost_attributes(snapshot.today, snapshot),
        cost_day=0,
    ),
    KilowiseHomeSensorEntityDescription(
        key="expected_cost_tomorrow",
        translation_key="expected_cost_tomorrow",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        value_fn=lambda snapshot: _cost(snapshot.tomorrow),
        attributes_fn=lambda snapshot: _cost_attributes(snapshot.tomorrow, snapshot),
        cost_day=1,
    ),
)

RECOMMENDED_START = SensorEntityDescription(
    key="recommended_start",
    translation_key="recommended_start",
    device_class=SensorDeviceClass.TIMESTAMP,
)


def recommendation_sensors(
    entry: KilowiseConfigEntry,
) -> list[tuple[list[SensorEntity], str | None]]:
    """The recommendation sensors of an entry, grouped by subentry (None: home)."""
    recommendations = entry.runtime_data.recommendations
    assert recommendations is not None
    home: list[SensorEntity] = [KilowiseHomeSensor(recommendations, PEAK_HOUR)]
    if recommendations.price_entity or recommendations.tariff_lines:
        home += [
            KilowiseHomeSensor(recommendations, description)
            for description in COST_SENSORS
        ]
    groups: list[tuple[list[SensorEntity], str | None]] = [(home, None)]
    for subentry in entry.subentries.values():
        if is_appliance(subentry):
            groups.append(
                (
                    [
                        KilowiseRecommendedStartSensor(
                            recommendations, RECOMMENDED_START, subentry
                        )
                    ],
                    subentry.subentry_id,
                )
            )
    return groups


class KilowiseHomeSensor(KilowiseRecommendationEntity, SensorEntity):
    """The home's peak hour or a day's expected cost."""

    entity_description: KilowiseHomeSensorEntityDescription

    @property
    def native_value(self) -> datetime | float | None:
        """The value from the latest recomputation."""
        return self.entity_description.value_fn(self.recommendations.snapshot)

    @property
    def native_unit_of_measurement(self) -> str | None:
        """For costs, the currency the price source states (else the home's)."""
        if self.entity_description.cost_day is None:
            return None
        prices = self.recommendations.snapshot.prices
        return prices.currency if prices else self.hass.config.currency

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """What the value rests on."""
        return self.entity_description.attributes_fn(self.recommendations.snapshot)


class KilowiseRecommendedStartSensor(KilowiseRecommendationEntity, SensorEntity):
    """When to start the appliance: the best start in its next window."""

    _unrecorded_attributes = frozenset({ATTR_ALTERNATIVES})

    @property
    def native_value(self) -> datetime | None:
        """The recommended start; unknown when there is no recommendation."""
        plan = self.plan
        return plan.best.start if isinstance(plan, Recommendation) else None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The run, its cost or load, the saving, the alternatives and the reason."""
        plan = self.plan
        if isinstance(plan, RecommendationError):
            return {"problem": plan.key}
        if not isinstance(plan, Recommendation):
            return {}
        response = plan.as_dict()
        appliance = plan.appliance
        cycle = appliance.cycle if appliance else None
        recommendations: KilowiseRecommendations = self.recommendations
        return {
            "end": response["best"]["end"],
            "basis": plan.basis,
            "expected_cost": response["best"].get("cost"),
            "currency": response["currency"],
            "expected_load_kw": response["best"].get("expected_load_kw"),
            "saving": response.get("saving", response.get("saving_kw")),
            "window_start": response["window"]["start"],
            "window_end": response["window"]["end"],
            "energy_kwh": response["energy_kwh"],
            "duration_minutes": response["duration_minutes"],
            "profile_source": appliance.profile_source if appliance else None,
            "cycles_learned": None if cycle is None else cycle.cycles,
            "learning_note": None
            if appliance is None
            else recommendations.cycle_notes.get(appliance.subentry_id),
            "fallback": response["reason"]["fallback"],
            "avoids_predicted_peak": response["reason"]["avoids_predicted_peak"],
            "updated": dt_util.as_local(plan.as_of).isoformat(),
            ATTR_ALTERNATIVES: response["alternatives"],
        }
