"""How fast a room heats and cools, learned from its thermostat's history.

Pure Python and numpy. A climate entity's recorded states give its current
temperature, its target and its ``hvac_action`` over time. Runs of the same
behaviour become segments:

- **heating**: the thermostat reports ``heating`` while the room is still more
  than ``NEAR_TARGET`` below its target (once it gets close, it starts to hold
  the target and the rise says nothing about the heater any more);
- **cooling**: the thermostat is ``idle`` or ``off`` and the room is above its
  target (or there is none): the room drifts down on its own.

A segment counts from ``MIN_SEGMENT`` on (a heating one once it rose by
``MIN_RISE``: a rate read from a rise of one or two tenths of a degree, the
resolution of most thermostats, is noise); its rate is the change of
temperature over its duration in °C per hour, so a heater's dead time is
part of it. The estimate is the median of the last ``KEEP_SEGMENTS``
segments, from ``MIN_SEGMENTS`` of them on, and a default until then.

``preheat_start`` uses both rates: the room cools towards the setback target
until heating starts, then heats at the learned rate, with a margin.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
import math
from typing import Any, Final

import numpy as np

DEFAULT_HEATING_RATE: Final = 0.5
"""°C per hour assumed until a room's own heating is learned: slow enough for
most radiators to be on time, while preheating stays capped by the zone's
longest preheat."""

DEFAULT_COOLING_RATE: Final = 0.3
"""°C per hour a room is assumed to lose while not heated, until learned."""

HEATING_BOUNDS: Final = (0.1, 10.0)
COOLING_BOUNDS: Final = (0.0, 5.0)
"""Plausible rates (°C per hour); a learned median is clamped to them."""

MIN_SEGMENT: Final = timedelta(minutes=30)
MAX_SEGMENT: Final = timedelta(hours=12)
MIN_RISE: Final = 0.3
"""°C a heating segment must rise to be measured."""
MIN_SEGMENTS: Final = 3
KEEP_SEGMENTS: Final = 30
NEAR_TARGET: Final = 0.3
"""°C: within this of its target a thermostat holds rather than heats."""

PREHEAT_MARGIN: Final = 1.25
"""Heating is planned to take this much longer than the estimate."""

PREHEAT_SLACK: Final = timedelta(minutes=10)
"""And this much more: the heater's own start-up, the thermostat's hysteresis."""

HEATING_ACTIONS: Final = frozenset({"heating", "preheating"})
RESTING_ACTIONS: Final = frozenset({"idle", "off"})


class Kind(StrEnum):
    """What a segment measured."""

    HEATING = "heating"
    COOLING = "cooling"


@dataclass(frozen=True, slots=True)
class ThermalSample:
    """A climate entity's state at ``time``: current temperature, target and action."""

    time: datetime
    temperature: float | None
    target: float | None
    action: str | None


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of heating or cooling from (start, t_start) to (end, t_end), °C."""

    kind: Kind
    start: datetime
    end: datetime
    t_start: float
    t_end: float

    @property
    def hours(self) -> float:
        """Duration in hours."""
        return (self.end - self.start) / timedelta(hours=1)

    @property
    def rate(self) -> float:
        """°C per hour: the rise when heating, the fall when cooling."""
        change = self.t_end - self.t_start
        return (change if self.kind is Kind.HEATING else -change) / self.hours


def _kind(sample: ThermalSample) -> Kind | None:
    if sample.temperature is None or not math.isfinite(sample.temperature):
        return None
    target = sample.target
    if sample.action in HEATING_ACTIONS:
        if target is None or sample.temperature < target - NEAR_TARGET:
            return Kind.HEATING
        return None
    if sample.action in RESTING_ACTIONS and (
        target is None or sample.temperature > target
    ):
        return Kind.COOLING
    return None


def segments(samples: Iterable[ThermalSample]) -> list[Segment]:
    """Closed heating and cooling segments of a sample series in time order.

    A segment ends at the first sample that no longer belongs to it (its
    temperature is the room's when the behaviour changed); a run still going
    at the last sample is not a segment yet. Runs shorter than
    ``MIN_SEGMENT`` or longer than ``MAX_SEGMENT`` are left out.
    """
    result: list[Segment] = []
    run_kind: Kind | None = None
    first: ThermalSample | None = None
    for sample in samples:
        kind = _kind(sample)
        if kind is run_kind:
            continue
        if run_kind is not None and first is not None:
            temperature = sample.temperature
            if temperature is not None and math.isfinite(temperature):
                segment = Segment(
                    run_kind,
                    first.time,
                    sample.time,
                    float(first.temperature or 0.0),
                    temperature,
                )
                if MIN_SEGMENT <= segment.end - segment.start <= MAX_SEGMENT:
                    result.append(segment)
        run_kind = kind
        first = sample if kind is not None else None
    return result


def _estimate(
    rates: Sequence[float], default: float, bounds: tuple[float, float]
) -> float:
    if len(rates) < MIN_SEGMENTS:
        return default
    return float(min(bounds[1], max(bounds[0], float(np.median(rates)))))


@dataclass(slots=True)
class ThermalModel:
    """Learned heating and cooling rates of one climate entity (°C per hour)."""

    heating: list[float] = field(default_factory=list)
    cooling: list[float] = field(default_factory=list)
    learned_until: datetime | None = None

    def learn(self, samples: Iterable[ThermalSample], until: datetime) -> int:
        """Add the segments that end after ``learned_until``; samples up to ``until``.

        Read the history again from some hours before ``learned_until``: a
        segment still going at the last reading is counted once it ends.
        Returns the number of segments added.
        """
        added = 0
        for segment in segments(samples):
            if self.learned_until is not None and segment.end <= self.learned_until:
                continue
            if segment.end > until:
                continue
            added += self.add(segment)
        self.learned_until = until.astimezone(UTC)
        return added

    def add(self, segment: Segment) -> bool:
        """Count one segment (unless it is a heating one that rose too little)."""
        if segment.kind is Kind.HEATING:
            if segment.t_end - segment.t_start < MIN_RISE:
                return False
            rates = self.heating
        else:
            rates = self.cooling
        rates.append(round(segment.rate, 4))
        del rates[:-KEEP_SEGMENTS]
        return True

    @property
    def heating_rate(self) -> float:
        """°C per hour when heating: learned, or the default."""
        return _estimate(self.heating, DEFAULT_HEATING_RATE, HEATING_BOUNDS)

    @property
    def cooling_rate(self) -> float:
        """°C per hour lost when not heated: learned, or the default."""
        return _estimate(self.cooling, DEFAULT_COOLING_RATE, COOLING_BOUNDS)

    @property
    def learned(self) -> bool:
        """Whether the heating rate is the room's own rather than the default."""
        return len(self.heating) >= MIN_SEGMENTS

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON form."""
        return {
            "heating": list(self.heating),
            "cooling": list(self.cooling),
            "learned_until": None
            if self.learned_until is None
            else self.learned_until.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ThermalModel:
        """Read :meth:`as_dict`'s form; ``ValueError`` when it is not valid."""
        try:
            heating = [float(v) for v in data.get("heating", [])]
            cooling = [float(v) for v in data.get("cooling", [])]
            until = data.get("learned_until")
            learned_until = None if until is None else datetime.fromisoformat(until)
        except (TypeError, ValueError) as err:
            raise ValueError(f"not a thermal model: {err}") from err
        if not all(math.isfinite(v) for v in heating + cooling):
            raise ValueError("rates must be finite")
        if learned_until is not None and learned_until.tzinfo is None:
            raise ValueError("learned_until has no time zone")
        return cls(
            heating=heating[-KEEP_SEGMENTS:],
            cooling=cooling[-KEEP_SEGMENTS:],
            learned_until=None
            if learned_until is None
            else learned_until.astimezone(UTC),
        )


def heating_time(from_temp: float, comfort: float, heating_rate: float) -> timedelta:
    """Time planned to heat from ``from_temp`` to ``comfort`` (margin included)."""
    deficit = max(0.0, comfort - from_temp)
    if deficit == 0.0:
        return timedelta(0)
    return timedelta(hours=deficit / heating_rate * PREHEAT_MARGIN) + PREHEAT_SLACK


def preheat_start(
    now: datetime,
    arrival: datetime,
    *,
    current: float | None,
    comfort: float,
    setback: float,
    heating_rate: float,
    cooling_rate: float,
    max_lead: timedelta,
) -> datetime:
    """The latest moment to start heating so that the room is at ``comfort`` by ``arrival``.

    Until then the room cools from ``current`` at ``cooling_rate``, down to
    ``setback`` (the target the thermostat holds meanwhile); an unknown
    current temperature is taken as ``setback``, the coldest it should be.
    Never earlier than ``max_lead`` before the arrival; ``now`` when it
    should have started already.
    """
    if arrival <= now:
        return now
    start_temp = setback if current is None else current
    available = (arrival - now) / timedelta(hours=1)

    def temperature_after(hours: float) -> float:
        if start_temp <= setback:
            return start_temp
        return max(setback, start_temp - cooling_rate * hours)

    def finish(hours: float) -> float:
        need = heating_time(temperature_after(hours), comfort, heating_rate)
        return hours + need / timedelta(hours=1)

    if finish(0.0) >= available:
        latest = 0.0
    else:
        # finish() grows with the start time: bisect for the latest start.
        low, high = 0.0, available
        for _ in range(40):
            middle = (low + high) / 2
            if finish(middle) <= available:
                low = middle
            else:
                high = middle
        latest = low
    start = now + timedelta(hours=latest)
    return max(start, arrival - max_lead, now)
