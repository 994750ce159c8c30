"""The events of recommendations, each fired at its moment.

``kilowise_recommendation`` fires when an appliance's recommended run should
start, at most once per window of the appliance; ``kilowise_peak_warning``
fires the lead time (an option) before a predicted peak period, once per
peak. Every recomputation reschedules them; what fired is remembered so that
a moving best start does not fire again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_track_point_in_utc_time

from .const import EVENT_PEAK_WARNING, EVENT_RECOMMENDATION, LOGGER
from .local_time import local_iso
from .recommendation_results import Peak, Recommendation, Snapshot

if TYPE_CHECKING:
    from .data import KilowiseConfigEntry

REFIRE_GAP = timedelta(hours=12)
"""An appliance without a window gets at most one recommendation event per run
and this much time after it."""


class RecommendationEvents:
    """Timers of one entry's events, and what they already fired."""

    def __init__(
        self, hass: HomeAssistant, entry: KilowiseConfigEntry, peak_lead: timedelta
    ) -> None:
        """Nothing is scheduled until ``async_schedule``."""
        self.hass = hass
        self.entry = entry
        self.peak_lead = peak_lead
        self._timers: list[Callable[[], None]] = []
        self._fired_recommendations: dict[str, datetime] = {}
        """Per appliance: no new recommendation event before this moment."""
        self._fired_peaks: set[datetime] = set()

    @callback
    def async_cancel(self) -> None:
        """Cancel every pending event."""
        for unsub in self._timers:
            unsub()
        self._timers.clear()

    @callback
    def async_schedule(self, snapshot: Snapshot, now: datetime) -> None:
        """Schedule the events of a recomputation (replacing the previous ones)."""
        self.async_cancel()
        for subentry_id, plan in snapshot.plans.items():
            if not isinstance(plan, Recommendation):
                continue
            blocked_until = self._fired_recommendations.get(subentry_id)
            if blocked_until is not None and plan.best.start < blocked_until:
                continue
            self._at(plan.best.start, now, self._recommendation_fire(subentry_id, plan))
        self._fired_peaks = {
            p for p in self._fired_peaks if p > now - timedelta(days=1)
        }
        for peak in snapshot.peaks:
            if peak.start in self._fired_peaks or peak.start <= now:
                continue
            self._at(peak.start - self.peak_lead, now, self._peak_fire(peak))

    @callback
    def _at(
        self, moment: datetime, now: datetime, action: Callable[[datetime], None]
    ) -> None:
        """Run ``action`` at ``moment``, or at once if that moment has passed."""
        if moment <= now:
            action(now)
            return
        self._timers.append(async_track_point_in_utc_time(self.hass, action, moment))

    def _recommendation_fire(
        self, subentry_id: str, plan: Recommendation
    ) -> Callable[[datetime], None]:
        @callback
        def fire(_moment: datetime) -> None:
            # One event per window: none again until the appliance's window
            # ends; without a window of its own, not within REFIRE_GAP after
            # this run (else a cheap hour would start it again and again).
            appliance = plan.appliance
            has_window = appliance is not None and appliance.has_window
            self._fired_recommendations[subentry_id] = (
                plan.window_end if has_window else plan.best.end + REFIRE_GAP
            )
            LOGGER.debug(
                "Recommended window of %s begins", appliance and appliance.name
            )
            self.hass.bus.async_fire(
                EVENT_RECOMMENDATION, plan.event_data(self.entry.entry_id)
            )

        return fire

    def _peak_fire(self, peak: Peak) -> Callable[[datetime], None]:
        @callback
        def fire(_moment: datetime) -> None:
            self._fired_peaks.add(peak.start)
            self.hass.bus.async_fire(EVENT_PEAK_WARNING, self.peak_event_data(peak))

        return fire

    def peak_event_data(self, peak: Peak) -> dict[str, Any]:
        """Payload of ``kilowise_peak_warning``."""
        return {
            "config_entry_id": self.entry.entry_id,
            "title": self.entry.title,
            "peak_start": local_iso(peak.start),
            "peak_end": local_iso(peak.end),
            "expected_kwh": round(peak.kwh, 3),
            "p90_kwh": round(peak.p90_kwh, 3),
            "lead_time_minutes": round(self.peak_lead.total_seconds() / 60),
        }

    def diagnostics(self) -> dict[str, Any]:
        """What was fired and what is pending (for the entry's diagnostics)."""
        return {
            "pending": len(self._timers),
            "recommendation_blocked_until": {
                subentry_id: until.isoformat()
                for subentry_id, until in self._fired_recommendations.items()
            },
            "peak_warnings_fired": sorted(p.isoformat() for p in self._fired_peaks),
        }
