"""Binary sensors of Kilowise: a good time to run an appliance, a peak now."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import KilowiseConfigEntry
from .local_time import local_iso
from .recommendation_appliance import is_appliance
from .recommendation_entity import KilowiseRecommendationEntity
from .recommendation_results import Recommendation, Snapshot

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class KilowiseHomeBinarySensorEntityDescription(BinarySensorEntityDescription):
    """A yes/no about the home, from the latest recommendations."""

    is_on_fn: Callable[[Snapshot], bool | None]
    attributes_fn: Callable[[Snapshot], dict[str, Any]]


def _peak_attributes(snapshot: Snapshot) -> dict[str, Any]:
    upcoming = snapshot.peaks[0] if snapshot.peaks else None
    return {
        "peak_hour_today": local_iso(snapshot.peak_hour),
        "next_peak_start": None if upcoming is None else local_iso(upcoming.start),
        "next_peak_end": None if upcoming is None else local_iso(upcoming.end),
    }


PEAK_NOW = KilowiseHomeBinarySensorEntityDescription(
    key="peak_expected_now",
    translation_key="peak_expected_now",
    is_on_fn=lambda snapshot: snapshot.peak_now,
    attributes_fn=_peak_attributes,
)

GOOD_TIME = BinarySensorEntityDescription(
    key="good_time_to_run",
    translation_key="good_time_to_run",
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KilowiseConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the home's peak sensor and each appliance's good-time sensor."""
    recommendations = entry.runtime_data.recommendations
    assert recommendations is not None
    async_add_entities([KilowiseHomeBinarySensor(recommendations, PEAK_NOW)])
    for subentry in entry.subentries.values():
        if not is_appliance(subentry):
            continue
        async_add_entities(
            [KilowiseGoodTimeBinarySensor(recommendations, GOOD_TIME, subentry)],
            config_subentry_id=subentry.subentry_id,
        )


class KilowiseHomeBinarySensor(KilowiseRecommendationEntity, BinarySensorEntity):
    """Whether the hour in progress is one of today's predicted peak hours."""

    entity_description: KilowiseHomeBinarySensorEntityDescription

    @property
    def available(self) -> bool:
        """Unavailable until there is a forecast."""
        return self.recommendations.snapshot.peak_now is not None

    @property
    def is_on(self) -> bool | None:
        """On during a predicted peak hour."""
        return self.entity_description.is_on_fn(self.recommendations.snapshot)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Today's peak hour and the next peak period."""
        return self.entity_description.attributes_fn(self.recommendations.snapshot)


class KilowiseGoodTimeBinarySensor(KilowiseRecommendationEntity, BinarySensorEntity):
    """Whether starting the appliance now costs about as little as the best start."""

    @property
    def available(self) -> bool:
        """Available while there is a recommendation."""
        return isinstance(self.plan, Recommendation)

    @property
    def is_on(self) -> bool | None:
        """On when starting now is within a tenth of the spread of the best start."""
        plan = self.plan
        return plan.good_now if isinstance(plan, Recommendation) else None

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The best start and what starting now would cost instead."""
        plan = self.plan
        if not isinstance(plan, Recommendation):
            return None
        response = plan.as_dict()
        return {
            "best_start": response["best"]["start"],
            "start_now": response["start_now"],
            "basis": plan.basis,
        }
