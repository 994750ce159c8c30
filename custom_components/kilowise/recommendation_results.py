"""What recommendations produce, and their JSON forms.

A :class:`Recommendation` answers for one run (the best start, starting now,
alternatives, why); a :class:`Snapshot` is everything the entities show at one
moment; :class:`RecommendedWindow` is the short answer for other parts of
Kilowise. Times are UTC inside, local ISO strings in every JSON form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .engine.prices import PriceError, PriceSeries
from .local_time import local_iso
from .recommendation_appliance import Appliance

BASIS_PRICES = "prices"
BASIS_LOAD = "load"
GOOD_SHARE = 0.1
"""Starting now is a good time when it costs at most this share of the spread
between the best and the worst start above the best."""


class RecommendationError(Exception):
    """A request that cannot be answered; ``key`` is its translation key."""

    def __init__(self, key: str, **placeholders: str) -> None:
        """Keep the translation key and its placeholders."""
        super().__init__(key)
        self.key = key
        self.placeholders = placeholders


def _mean_load(weighted: float, energy_kwh: float) -> float:
    """Household load (kW) during a run, weighted by the run's energy."""
    return weighted / energy_kwh if energy_kwh > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Option:
    """One start of a run: when, until when, and its cost (or load)."""

    start: datetime
    end: datetime
    value: float

    def as_dict(self, basis: str, energy_kwh: float) -> dict[str, Any]:
        """JSON-safe, local ISO times."""
        result: dict[str, Any] = {
            "start": local_iso(self.start),
            "end": local_iso(self.end),
        }
        if basis == BASIS_PRICES:
            result["cost"] = round(self.value, 4)
        else:
            result["expected_load_kw"] = round(_mean_load(self.value, energy_kwh), 3)
        return result


@dataclass(frozen=True, slots=True)
class Recommendation:
    """The answer for one run: the best start, starting now, alternatives, why."""

    basis: str
    currency: str | None
    energy_kwh: float
    duration: timedelta
    window_start: datetime
    window_end: datetime
    best: Option
    now: Option | None
    alternatives: list[Option]
    worst_value: float
    starts_evaluated: int
    as_of: datetime
    peak_start: datetime | None
    peak_end: datetime | None
    fallback: str | None = None
    notes: list[str] = field(default_factory=list)
    appliance: Appliance | None = None

    @property
    def saving(self) -> float | None:
        """What the best start saves against starting as soon as allowed.

        That is now, or the window's start when the window begins later.
        """
        if self.now is None:
            return None
        return self.now.value - self.best.value

    @property
    def good_now(self) -> bool:
        """Starting now costs little more than the best start (``GOOD_SHARE``)."""
        if self.now is None or self.window_start > self.as_of:
            return False
        spread = self.worst_value - self.best.value
        return self.now.value - self.best.value <= GOOD_SHARE * spread + 1e-12

    @property
    def avoids_peak(self) -> bool | None:
        """True when the best run does not overlap the predicted peak period."""
        if self.peak_start is None or self.peak_end is None:
            return None
        return self.best.end <= self.peak_start or self.best.start >= self.peak_end

    def as_dict(self) -> dict[str, Any]:
        """The action's response: JSON-safe, local ISO times."""
        basis, energy = self.basis, self.energy_kwh
        saving = self.saving
        result: dict[str, Any] = {
            "basis": basis,
            "currency": self.currency if basis == BASIS_PRICES else None,
            "energy_kwh": round(energy, 3),
            "duration_minutes": round(self.duration.total_seconds() / 60, 1),
            "window": {
                "start": local_iso(self.window_start),
                "end": local_iso(self.window_end),
            },
            "best": self.best.as_dict(basis, energy),
            "start_now": None if self.now is None else self.now.as_dict(basis, energy),
            "alternatives": [
                option.as_dict(basis, energy) for option in self.alternatives
            ],
            "starts_evaluated": self.starts_evaluated,
            "reason": {
                "basis": basis,
                "fallback": self.fallback,
                "predicted_peak_start": local_iso(self.peak_start),
                "predicted_peak_end": local_iso(self.peak_end),
                "avoids_predicted_peak": self.avoids_peak,
            },
            "notes": list(self.notes),
        }
        if basis == BASIS_PRICES:
            result["saving"] = None if saving is None else round(saving, 4)
        else:
            result["saving_kw"] = (
                None if saving is None else round(_mean_load(saving, energy), 3)
            )
        if self.appliance is not None:
            result["appliance"] = {
                "subentry_id": self.appliance.subentry_id,
                "name": self.appliance.name,
                "profile_source": self.appliance.profile_source,
                "switch_entity": self.appliance.switch_entity,
            }
        return result

    def event_data(self, entry_id: str) -> dict[str, Any]:
        """Payload of ``kilowise_recommendation``: the run that should start now."""
        appliance = self.appliance
        response = self.as_dict()
        best = response["best"]
        return {
            "config_entry_id": entry_id,
            "subentry_id": appliance.subentry_id if appliance else None,
            "appliance": appliance.name if appliance else None,
            "switch_entity": appliance.switch_entity if appliance else None,
            "start": best["start"],
            "end": best["end"],
            "basis": self.basis,
            "expected_cost": best.get("cost"),
            "currency": response["currency"],
            "expected_load_kw": best.get("expected_load_kw"),
            "saving": response.get("saving"),
        }


@dataclass(frozen=True, slots=True)
class RecommendedWindow:
    """A window to run a deferrable load in (see ``recommended_window``).

    ``value`` is the run's cost in ``currency`` when ``basis`` is
    ``prices``, else the household's expected load (kW) during the run.
    """

    start: datetime
    end: datetime
    basis: str
    value: float
    currency: str | None


@dataclass(frozen=True, slots=True)
class DayCost:
    """Expected cost of a local day, or why there is none."""

    cost: float | None
    energy_kwh: float | None
    missing: str | None


@dataclass(frozen=True, slots=True)
class Peak:
    """A predicted peak period: consecutive peak hours of a local day (UTC)."""

    start: datetime
    end: datetime
    kwh: float
    """p50 of the period's highest hour."""
    p90_kwh: float


@dataclass(slots=True)
class Snapshot:
    """What the entities show, computed at ``as_of``."""

    as_of: datetime
    prices: PriceSeries | None = None
    price_error: PriceError | None = None
    plans: dict[str, Recommendation | RecommendationError] = field(default_factory=dict)
    peak_now: bool | None = None
    peak_hour: datetime | None = None
    peak_hour_kwh: float | None = None
    peak_hour_measured: bool = False
    peaks: list[Peak] = field(default_factory=list)
    """Peak periods that have not ended yet, in time order."""
    today: DayCost | None = None
    tomorrow: DayCost | None = None
