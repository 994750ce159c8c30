"""Base entity of Kilowise's recommendations: the home's or an appliance's.

Home entities (peaks, costs) belong to the entry's device; each appliance
(a config subentry) gets a device of its own, linked to the entry's, and its
entities are registered to that subentry.
"""

from __future__ import annotations

from homeassistant.config_entries import ConfigSubentry
from homeassistant.helpers.entity import Entity, EntityDescription

from .entity import entry_device_info, subentry_device_info, subentry_unique_id
from .recommendation_results import Recommendation, RecommendationError
from .recommendations import KilowiseRecommendations


class KilowiseRecommendationEntity(Entity):
    """An entity fed by the entry's recommendations, updated when they change."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self,
        recommendations: KilowiseRecommendations,
        description: EntityDescription,
        subentry: ConfigSubentry | None = None,
    ) -> None:
        """Attach to the entry's device, or to the appliance's own device."""
        self.entity_description = description
        self.recommendations = recommendations
        self.subentry_id = None if subentry is None else subentry.subentry_id
        entry = recommendations.entry
        if subentry is None:
            self._attr_unique_id = f"{entry.entry_id}_{description.key}"
            self._attr_device_info = entry_device_info(recommendations.coordinator)
        else:
            self._attr_unique_id = subentry_unique_id(
                entry.entry_id, subentry.subentry_id, description.key
            )
            self._attr_device_info = subentry_device_info(
                entry,
                subentry.subentry_id,
                subentry.title,
                "Appliance schedule",
            )

    async def async_added_to_hass(self) -> None:
        """Follow every recomputation."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.recommendations.async_add_listener(self.async_write_ha_state)
        )

    @property
    def plan(self) -> Recommendation | RecommendationError | None:
        """The appliance's latest recommendation, or why there is none."""
        if self.subentry_id is None:
            return None
        return self.recommendations.snapshot.plans.get(self.subentry_id)
