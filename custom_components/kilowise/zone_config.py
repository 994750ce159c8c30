"""A zone's settings: the subentry's data read into the engine's settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any, Final

from .const import (
    CONF_AWAY,
    CONF_AWAY_PRESET,
    CONF_CLIMATES,
    CONF_COMFORT,
    CONF_COMFORT_PRESET,
    CONF_DRY_RUN,
    CONF_ECO,
    CONF_ECO_PRESET,
    CONF_FROST,
    CONF_HOLD_MINUTES,
    CONF_LIGHTS,
    CONF_LIGHTS_OFF_MINUTES,
    CONF_LIGHTS_ON_ARRIVAL,
    CONF_MAX_ACTIONS,
    CONF_MIN_OFF_MINUTES,
    CONF_MIN_ON_MINUTES,
    CONF_OVERRIDE_MINUTES,
    CONF_PREHEAT_HOURS,
    CONF_PREHEAT_PROBABILITY,
    CONF_PRIOR,
    CONF_RUN_END,
    CONF_RUN_MINUTES,
    CONF_RUN_START,
    CONF_SOURCES,
    CONF_STUCK_HOURS,
    CONF_SWITCHES,
)
from .engine.control import ClimateSettings, LightSettings, Limits, RunSettings
from .engine.daily import time_of_day
from .engine.occupancy import Prior

DEFAULTS: Final[Mapping[str, Any]] = {
    CONF_DRY_RUN: True,
    CONF_SOURCES: [],
    CONF_HOLD_MINUTES: 10,
    CONF_STUCK_HOURS: 24,
    CONF_PRIOR: Prior.HOME.value,
    CONF_CLIMATES: [],
    CONF_COMFORT: 20.0,
    CONF_ECO: 17.0,
    CONF_AWAY: 15.0,
    CONF_FROST: 7.0,
    CONF_COMFORT_PRESET: "",
    CONF_ECO_PRESET: "",
    CONF_AWAY_PRESET: "",
    CONF_PREHEAT_HOURS: 3.0,
    CONF_PREHEAT_PROBABILITY: 50,
    CONF_LIGHTS: [],
    CONF_LIGHTS_OFF_MINUTES: 15,
    CONF_LIGHTS_ON_ARRIVAL: False,
    CONF_SWITCHES: [],
    CONF_RUN_START: "10:00:00",
    CONF_RUN_END: "18:00:00",
    CONF_RUN_MINUTES: 120,
    CONF_OVERRIDE_MINUTES: 120,
    CONF_MIN_ON_MINUTES: 5,
    CONF_MIN_OFF_MINUTES: 5,
    CONF_MAX_ACTIONS: 6,
}
"""Every setting of a zone and its default. A new zone starts in dry run."""


def renamed(data: Mapping[str, Any], old: str, new: str) -> dict[str, Any]:
    """A zone's settings with the entity ``old`` called ``new`` everywhere."""
    result = dict(data)
    for key in (CONF_SOURCES, CONF_CLIMATES, CONF_LIGHTS, CONF_SWITCHES):
        if key in result:
            result[key] = [new if e == old else e for e in _entities(result[key])]
    return result


def _time(value: Any) -> time:
    """A time of day the zone needs (its run window): ``ValueError`` if none."""
    if (result := time_of_day(value)) is None:
        raise ValueError("a time of day is needed")
    return result


def _entities(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) if value else ()
    return tuple(str(v) for v in value or ())


def _preset(value: Any) -> str | None:
    text = str(value or "").strip()
    return text or None


@dataclass(frozen=True, slots=True)
class ZoneConfig:
    """Everything a zone's controller needs from its subentry."""

    name: str
    dry_run: bool
    sources: tuple[str, ...]
    hold: timedelta
    stale_after: timedelta
    prior: Prior
    climates: tuple[str, ...]
    climate: ClimateSettings
    lights: tuple[str, ...]
    light: LightSettings
    switches: tuple[str, ...]
    run: RunSettings
    limits: Limits

    @classmethod
    def from_data(cls, name: str, data: Mapping[str, Any]) -> ZoneConfig:
        """Read a zone's stored settings; a missing one takes its default.

        Raises ``ValueError`` (or ``TypeError``) on a value that cannot be read.
        """
        value = {**DEFAULTS, **data}
        return cls(
            name=name,
            dry_run=bool(value[CONF_DRY_RUN]),
            sources=_entities(value[CONF_SOURCES]),
            hold=timedelta(minutes=float(value[CONF_HOLD_MINUTES])),
            stale_after=timedelta(hours=float(value[CONF_STUCK_HOURS])),
            prior=Prior(value[CONF_PRIOR]),
            climates=_entities(value[CONF_CLIMATES]),
            climate=ClimateSettings(
                comfort=float(value[CONF_COMFORT]),
                eco=float(value[CONF_ECO]),
                away=float(value[CONF_AWAY]),
                frost_floor=float(value[CONF_FROST]),
                comfort_preset=_preset(value[CONF_COMFORT_PRESET]),
                eco_preset=_preset(value[CONF_ECO_PRESET]),
                away_preset=_preset(value[CONF_AWAY_PRESET]),
                preheat_threshold=float(value[CONF_PREHEAT_PROBABILITY]) / 100,
                max_preheat=timedelta(hours=float(value[CONF_PREHEAT_HOURS])),
            ),
            lights=_entities(value[CONF_LIGHTS]),
            light=LightSettings(
                off_after=timedelta(minutes=float(value[CONF_LIGHTS_OFF_MINUTES])),
                on_at_arrival=bool(value[CONF_LIGHTS_ON_ARRIVAL]),
            ),
            switches=_entities(value[CONF_SWITCHES]),
            run=RunSettings(
                window_start=_time(value[CONF_RUN_START]),
                window_end=_time(value[CONF_RUN_END]),
                duration=timedelta(minutes=float(value[CONF_RUN_MINUTES])),
            ),
            limits=Limits(
                min_on=timedelta(minutes=float(value[CONF_MIN_ON_MINUTES])),
                min_off=timedelta(minutes=float(value[CONF_MIN_OFF_MINUTES])),
                max_actions_per_hour=int(value[CONF_MAX_ACTIONS]),
                override=timedelta(minutes=float(value[CONF_OVERRIDE_MINUTES])),
            ),
        )

    @property
    def driven(self) -> tuple[str, ...]:
        """Every entity the zone drives."""
        return self.climates + self.lights + self.switches

    @property
    def entities(self) -> tuple[str, ...]:
        """Every entity the zone uses: its sources, then what it drives."""
        return tuple(dict.fromkeys(self.sources + self.driven))

    def aliases(self) -> dict[str, str]:
        """A stand-in for each entity id, for diagnostics: ``person.source_2``.

        Entity ids often name people and rooms; the domain and the entity's
        role in the zone are what a diagnosis needs.
        """
        result: dict[str, str] = {}
        for role, entity_ids in (("source", self.sources), ("driven", self.driven)):
            for number, entity_id in enumerate(entity_ids, start=1):
                domain = entity_id.partition(".")[0]
                result.setdefault(entity_id, f"{domain}.{role}_{number}")
        return result

    def run_window(self) -> timedelta:
        """Length of the daily window of the deferrable loads."""
        start = self.run.window_start
        end = self.run.window_end
        minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
        if minutes <= 0:
            minutes += 24 * 60
        return timedelta(minutes=minutes)
