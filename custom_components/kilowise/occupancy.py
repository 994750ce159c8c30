"""What a zone learns from the recorder: its occupancy forecast and its rooms' rates.

The recorder purges states after ten days by default, so what the forecast
needs is folded, hour by hour, into the zone's own model (kept in the entry's
control store, see ``control.py``): each hour, the hours that ended since
the last read are read from the recorder in its executor, reduced at once to
plain values, turned into the zone's statuses by the engine's rules, and
folded in. The thermostats' history (current temperature, target, action) is
read the same way for their heating and cooling rates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.components.recorder import history
from homeassistant.const import UnitOfTemperature
from homeassistant.core import HomeAssistant, State
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import TemperatureConverter

from .const import THERMAL_REREAD
from .engine.occupancy import (
    HOUR,
    OccupancyModel,
    SourceHistory,
    hourly_shares,
    status_timeline,
)
from .engine.thermal import ThermalModel, ThermalSample
from .recorder_jobs import async_recorder_job
from .zone_config import ZoneConfig

FIRST_READ: Final = timedelta(days=14)
"""How far back a new zone reads: all the recorder keeps by default, and more."""

CLIMATE_FIRST_READ: Final = timedelta(days=14)


def _read_states(
    hass: HomeAssistant,
    entity_ids: list[str],
    start: datetime,
    end: datetime,
    attributes: bool,
) -> dict[str, list[State]]:
    """Every recorded state of the entities in [start, end], with the one at start.

    Runs in the recorder's executor.
    """
    states = history.get_significant_states(
        hass,
        start,
        end,
        entity_ids,
        None,
        True,  # include the state at the start
        False,  # every change, not only significant ones
        False,
        not attributes,
    )
    return {
        entity_id: [s for s in rows if isinstance(s, State)]
        for entity_id, rows in states.items()
    }


def _changes(rows: Iterable[State]) -> list[tuple[datetime, str | None]]:
    return [(row.last_changed, row.state) for row in rows]


def to_celsius(value: Any, unit: str) -> float | None:
    """A temperature attribute in °C; None when it is not a number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if unit == UnitOfTemperature.CELSIUS:
        return number
    return TemperatureConverter.convert(number, unit, UnitOfTemperature.CELSIUS)


def _samples(rows: Iterable[State], unit: str) -> list[ThermalSample]:
    samples = []
    for row in rows:
        attributes: Mapping[str, Any] = row.attributes
        samples.append(
            ThermalSample(
                time=row.last_updated,
                temperature=to_celsius(attributes.get("current_temperature"), unit),
                target=to_celsius(attributes.get("temperature"), unit),
                action=attributes.get("hvac_action")
                if row.state not in {"unavailable", "unknown"}
                else None,
            )
        )
    return samples


async def async_learn_occupancy(
    hass: HomeAssistant, zone: ZoneConfig, model: OccupancyModel, now: datetime
) -> int:
    """Fold the whole hours that ended since the model's last one; the hours folded.

    Raises what the recorder raises when its database cannot be read.
    """
    end = now.replace(minute=0, second=0, microsecond=0)
    start = model.learned_until or (end - FIRST_READ)
    if start >= end:
        return 0
    # A little earlier than the first hour, so that a motion sensor's hold
    # carries over from the hour before.
    margin = max(zone.hold, HOUR)
    rows = await async_recorder_job(
        hass, _read_states, hass, list(zone.sources), start - margin, end, False
    )
    histories = [
        SourceHistory(entity_id, _changes(rows.get(entity_id, [])))
        for entity_id in zone.sources
    ]
    timeline = status_timeline(histories, start, end, zone.hold, zone.stale_after)
    folded = model.fold(
        hourly_shares(timeline, start, end), dt_util.get_default_time_zone()
    )
    model.advance(end)
    return folded


async def async_learn_thermal(
    hass: HomeAssistant, entity_id: str, model: ThermalModel, now: datetime
) -> int:
    """Add the heating and cooling segments the thermostat's history shows since
    the model's last read; the segments added."""
    since = model.learned_until or (now - CLIMATE_FIRST_READ)
    rows = await async_recorder_job(
        hass, _read_states, hass, [entity_id], since - THERMAL_REREAD, now, True
    )
    unit = hass.config.units.temperature_unit
    return model.learn(_samples(rows.get(entity_id, []), unit), now)
