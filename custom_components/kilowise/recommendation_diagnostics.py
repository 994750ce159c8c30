"""The recommendations' part of an entry's diagnostics.

What the recommendations rest on (price source, its format and slots, the
learned cycles) and what they show now (plans, peaks, costs, pending events),
with times in UTC. Appliances are named by their subentry id only: the names
people give them are their own, and may name a person.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.util import dt as dt_util

from .engine.prices import PriceSeries
from .recommendation_appliance import Appliance
from .recommendation_results import DayCost, Recommendation, RecommendationError
from .recommendations import KilowiseRecommendations


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _seconds_iso(seconds: float | None) -> str | None:
    return None if seconds is None else dt_util.utc_from_timestamp(seconds).isoformat()


def _prices(prices: PriceSeries | None) -> dict[str, Any] | None:
    if prices is None:
        return None
    return {
        "format": prices.source_format,
        "unit": prices.unit,
        "currency": prices.currency,
        "slots": len(prices.starts),
        "resolution_seconds": prices.resolution_seconds(),
        "first_start": None if prices.empty else _seconds_iso(prices.starts[0]),
        "last_end": _seconds_iso(prices.last_end),
        "notes": list(prices.notes),
    }


def _day_cost(day: DayCost | None) -> dict[str, Any] | None:
    if day is None:
        return None
    return {"cost": day.cost, "energy_kwh": day.energy_kwh, "missing": day.missing}


def _appliance(
    recommendations: KilowiseRecommendations, appliance: Appliance
) -> dict[str, Any]:
    plan = recommendations.snapshot.plans.get(appliance.subentry_id)
    response = plan.as_dict() if isinstance(plan, Recommendation) else None
    if response is not None:
        response.pop("appliance")  # it names the appliance
    cycle = appliance.cycle
    return {
        "profile_source": appliance.profile_source,
        "energy_kwh": round(appliance.profile.total_kwh, 3),
        "duration_minutes": round(appliance.profile.duration_seconds / 60, 1),
        "earliest_start": None
        if appliance.earliest is None
        else str(appliance.earliest),
        "latest_end": None
        if appliance.latest_end is None
        else str(appliance.latest_end),
        "switch_entity": appliance.switch_entity,
        "energy_entity": appliance.energy_entity,
        "cycles_learned": None if cycle is None else cycle.cycles,
        "learning_note": recommendations.cycle_notes.get(appliance.subentry_id),
        "problem": plan.key if isinstance(plan, RecommendationError) else None,
        "plan": response,
    }


def recommendation_diagnostics(
    recommendations: KilowiseRecommendations,
) -> dict[str, Any]:
    """The recommendations of an entry, as its diagnostics show them."""
    snapshot = recommendations.snapshot
    return {
        "price_entity": recommendations.price_entity,
        "tariff_lines": len(recommendations.tariff_lines),
        "peak_warning_minutes": round(recommendations.peak_lead.total_seconds() / 60),
        "prices": _prices(snapshot.prices),
        "price_problem": None
        if snapshot.price_error is None
        else snapshot.price_error.key,
        "as_of": snapshot.as_of.isoformat(),
        "peak_now": snapshot.peak_now,
        "peak_hour": _iso(snapshot.peak_hour),
        "peaks": [
            {
                "start": peak.start.isoformat(),
                "end": peak.end.isoformat(),
                "kwh": round(peak.kwh, 3),
                "p90": round(peak.p90_kwh, 3),
            }
            for peak in snapshot.peaks
        ],
        "today": _day_cost(snapshot.today),
        "tomorrow": _day_cost(snapshot.tomorrow),
        "appliances": {
            appliance.subentry_id: _appliance(recommendations, appliance)
            for appliance in recommendations.appliances()
        },
        "events": recommendations.events.diagnostics(),
    }
