"""Occupancy of a zone: what its sources say now, and a forecast per hour of week.

Pure Python and numpy. The same rules turn the sources' states into the
zone's status live (``zone_status``) and over recorded history
(``status_timeline``), so the forecast learns exactly what control acts on.

Sources play one of two roles, told apart by their domain:

- **room sensors** (``binary_sensor``: occupancy, motion, presence) say whether
  the zone itself is occupied; a sensor counts as occupied until ``hold`` after
  it turned off, since motion sensors fall silent while people sit still;
- **home presence** (``person``, ``device_tracker`` home or away, and the
  person count of a ``zone``) says whether anybody is at home.

The zone is *occupied* when a room sensor says so, or, for a zone without room
sensors, when somebody is home. It is *away* when every presence source says
nobody is home and no room sensor is on; otherwise *empty*. When a source that
could change the answer is unavailable, unknown or stuck, the status is
*unknown* and nothing should be done on it.

The forecast (``OccupancyModel``) is the probability that the zone is
occupied at a moment of each hour of the week (local time): a Beta-Binomial
estimate over soft counts (each hour counts with its occupied share), decayed
with a half-life so that a changed routine is followed, and pooled towards
the same hour of other days of the same kind (weekdays, weekend days), then
towards a prior profile for a new install. Its state is a few hundred numbers
in plain JSON, updated one hour at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
import math
from typing import Any, Final

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

HOUR: Final = timedelta(hours=1)
HOURS_PER_WEEK: Final = 168

HALF_LIFE_WEEKS: Final = 6.0
"""Weight of an hour seen this many weeks ago: half of a new one."""

PRIOR_STRENGTH: Final = 2.0
"""Pseudo-hours of the prior profile in each weekday or weekend hour group."""

POOL_STRENGTH: Final = 2.0
"""Pseudo-hours pulling an hour of the week towards its group's mean."""

MIN_KNOWN_SHARE: Final = 0.5
"""An hour is learned from only when its status is known this share of it."""

OCCUPIED_SHARE: Final = 0.5
"""An hour counts as occupied (for scores) when occupied this share of it."""


class Role(StrEnum):
    """What a source tells about a zone."""

    ROOM = "room"
    """Occupancy, motion or presence in the zone itself (binary sensors)."""

    PRESENCE = "presence"
    """Whether somebody is at home (persons, device trackers, zone counts)."""


class Status(StrEnum):
    """The zone's occupancy as control sees it."""

    OCCUPIED = "occupied"
    EMPTY = "empty"
    AWAY = "away"
    UNKNOWN = "unknown"


UNOCCUPIED: Final = frozenset({Status.EMPTY, Status.AWAY})

SOURCE_DOMAINS: Final = {
    "binary_sensor": Role.ROOM,
    "person": Role.PRESENCE,
    "device_tracker": Role.PRESENCE,
    "zone": Role.PRESENCE,
}
"""The domains of entities that can be occupancy sources, and their role."""

UNUSABLE_STATES: Final = frozenset({"unavailable", "unknown", "none", ""})


def source_role(entity_id: str) -> Role | None:
    """The role of an entity as an occupancy source, or None if it cannot be one."""
    return SOURCE_DOMAINS.get(entity_id.partition(".")[0])


def presence(entity_id: str, state: str | None) -> bool | None:
    """Whether a source's state says somebody is there; None when it cannot tell.

    ``binary_sensor``: on/off. ``person`` and ``device_tracker``: ``home`` is
    present, any other zone or ``not_home`` is absent. ``zone``: its state is
    the number of persons in it.
    """
    if state is None or state.lower() in UNUSABLE_STATES:
        return None
    domain = entity_id.partition(".")[0]
    if domain == "binary_sensor":
        return {"on": True, "off": False}.get(state)
    if domain in {"person", "device_tracker"}:
        return state == "home"
    if domain == "zone":
        try:
            count = float(state)
        except ValueError:
            return None
        return None if math.isnan(count) or count < 0 else count > 0
    return None


@dataclass(frozen=True, slots=True)
class SourceReading:
    """One source's state at a moment: its raw state and when it last changed.

    ``last_on`` is when a room sensor last stopped being on (None: not seen
    on): the hold counts from then, so a sensor that comes back from
    unavailable as off is not taken for fresh motion.
    """

    entity_id: str
    state: str | None
    changed: datetime
    last_on: datetime | None = None


@dataclass(frozen=True, slots=True)
class ZoneReading:
    """The zone's status at ``at``, and since when (None when unknown).

    ``since`` is when the zone became unoccupied (empty or away: the last
    source turning absent, plus the hold of a room sensor) or occupied (the
    earliest source now present). ``unusable`` names sources that could
    not be used.
    """

    status: Status
    at: datetime
    since: datetime | None
    unusable: tuple[str, ...] = ()


def zone_status(
    readings: Sequence[SourceReading],
    now: datetime,
    hold: timedelta,
    stale_after: timedelta,
) -> ZoneReading:
    """The zone's status from its sources' current states (see the module doc).

    A room sensor that has been on for longer than ``stale_after`` is taken as
    stuck (a dead battery while on) and is unusable like an unavailable one.
    """
    room_present: list[datetime] = []
    room_absent: list[datetime] = []
    home_present: list[datetime] = []
    home_absent: list[datetime] = []
    room_unusable: list[str] = []
    home_unusable: list[str] = []
    for reading in readings:
        role = source_role(reading.entity_id)
        if role is None:
            continue
        value = presence(reading.entity_id, reading.state)
        if role is Role.ROOM:
            last_on = reading.last_on
            if value is True and now - reading.changed > stale_after:
                value = None
            elif value is False and last_on is not None and now - last_on < hold:
                value = True  # still within the hold after the last motion
            if value is None:
                room_unusable.append(reading.entity_id)
            elif value:
                room_present.append(
                    reading.changed
                    if last_on is None
                    else min(reading.changed, last_on)
                )
            else:
                room_absent.append(
                    reading.changed
                    if last_on is None
                    else max(reading.changed, last_on + hold)
                )
        elif value is None:
            home_unusable.append(reading.entity_id)
        elif value:
            home_present.append(reading.changed)
        else:
            home_absent.append(reading.changed)
    unusable = tuple(room_unusable + home_unusable)
    has_room = bool(room_present or room_absent or room_unusable)
    if room_present:
        return ZoneReading(Status.OCCUPIED, now, min(room_present), unusable)
    if room_unusable:
        return ZoneReading(Status.UNKNOWN, now, None, unusable)
    if not has_room:
        if home_present:
            return ZoneReading(Status.OCCUPIED, now, min(home_present), unusable)
        if home_unusable or not home_absent:
            return ZoneReading(Status.UNKNOWN, now, None, unusable)
        return ZoneReading(Status.AWAY, now, max(home_absent), unusable)
    # Room sensors all say empty: the zone is unoccupied; whether everybody
    # is away needs every presence source to say so.
    since = max(room_absent)
    if home_absent and not home_present and not home_unusable:
        return ZoneReading(Status.AWAY, now, max([since, *home_absent]), unusable)
    return ZoneReading(Status.EMPTY, now, since, unusable)


@dataclass(frozen=True, slots=True)
class SourceHistory:
    """A source's recorded states: (time, state) in time order, the first one
    being the state at (or before) the start of the period read."""

    entity_id: str
    changes: Sequence[tuple[datetime, str | None]]


def status_timeline(
    histories: Sequence[SourceHistory],
    start: datetime,
    end: datetime,
    hold: timedelta,
    stale_after: timedelta,
) -> list[tuple[datetime, Status]]:
    """The zone's status over [start, end) from its sources' history.

    Returns (time, status) at every moment the status may change (each state
    change, each hold ending, each sensor becoming stuck), starting at
    ``start``; consecutive equal statuses are merged. Before a source's first
    recorded state it is unknown.
    """
    moments: set[datetime] = {start}
    for history in histories:
        for when, _state in history.changes:
            for moment in (when, when + hold, when + stale_after):
                if start < moment < end:
                    moments.add(moment)
    # Per source: value changes only (a repeated state keeps its change time),
    # each with when the source last stopped being on.
    changes: list[list[tuple[datetime, str | None, datetime | None]]] = []
    for history in histories:
        kept: list[tuple[datetime, str | None, datetime | None]] = []
        last_on: datetime | None = None
        for when, state in history.changes:
            if kept and kept[-1][1] == state:
                continue
            if kept and kept[-1][1] == "on":
                last_on = when
            kept.append((when, state, last_on))
        changes.append(kept)
    timeline: list[tuple[datetime, Status]] = []
    position = [0] * len(histories)
    for moment in sorted(moments):
        readings = []
        for index, history in enumerate(histories):
            kept = changes[index]
            while (
                position[index] + 1 < len(kept)
                and kept[position[index] + 1][0] <= moment
            ):
                position[index] += 1
            if not kept or kept[position[index]][0] > moment:
                readings.append(SourceReading(history.entity_id, None, moment))
            else:
                when, state, stopped = kept[position[index]]
                readings.append(SourceReading(history.entity_id, state, when, stopped))
        status = zone_status(readings, moment, hold, stale_after).status
        if not timeline or timeline[-1][1] is not status:
            timeline.append((moment, status))
    return timeline


def hourly_shares(
    timeline: Sequence[tuple[datetime, Status]], start: datetime, end: datetime
) -> list[tuple[datetime, float]]:
    """Occupied share of each whole hour in [start, end) whose status is known.

    ``start`` and ``end`` are on the hour. The share is occupied time over
    known time; hours known for less than ``MIN_KNOWN_SHARE`` of them are left
    out. Returns (hour start, share) in time order.
    """
    if not timeline:
        return []
    hours = int((end - start) / HOUR)
    occupied = np.zeros(hours)
    known = np.zeros(hours)
    bounds = [*(t for t, _ in timeline[1:]), end]
    for (begin, status), finish in zip(timeline, bounds, strict=True):
        if status is Status.UNKNOWN:
            continue
        lo = max(begin, start)
        hi = min(finish, end)
        while lo < hi:
            index = int((lo - start) / HOUR)
            hour_end = start + (index + 1) * HOUR
            piece = (min(hi, hour_end) - lo).total_seconds()
            known[index] += piece
            if status is Status.OCCUPIED:
                occupied[index] += piece
            lo = min(hi, hour_end)
    result = []
    for index in range(hours):
        if known[index] >= MIN_KNOWN_SHARE * 3600:
            result.append((start + index * HOUR, float(occupied[index] / known[index])))
    return result


def hour_of_week(moment: datetime, tz: tzinfo) -> int:
    """Hour of the week in local time: Monday 00:00-01:00 is 0, Sunday 23:00 is 167."""
    local = moment.astimezone(tz)
    return local.weekday() * 24 + local.hour


class Prior(StrEnum):
    """Which usual week a new zone is assumed to have, before it is learned."""

    HOME = "home"
    """Occupied at night, in the evening and at weekends; less on weekdays."""

    DAYTIME = "daytime"
    """Occupied during working hours on weekdays (an office, a workshop)."""

    FLAT = "flat"
    """No assumption: one half at every hour."""


def _profile(weekday: Sequence[float], weekend: Sequence[float]) -> FloatArray:
    return np.array([*(list(weekday) * 5), *(list(weekend) * 2)], dtype=np.float64)


PRIOR_PROFILES: Final[Mapping[Prior, FloatArray]] = {
    Prior.HOME: _profile(
        [0.9] * 7 + [0.7, 0.5] + [0.35] * 8 + [0.55] + [0.8] * 4 + [0.85, 0.9],
        [0.9] * 9 + [0.7] * 13 + [0.85, 0.9],
    ),
    Prior.DAYTIME: _profile(
        [0.05] * 7 + [0.3, 0.7] + [0.8] * 8 + [0.5, 0.2] + [0.05] * 5,
        [0.05] * 24,
    ),
    Prior.FLAT: np.full(HOURS_PER_WEEK, 0.5),
}
"""Prior probability per hour of the week (Monday 00:00 first), per profile."""

WEEKDAY_SLOTS: Final = np.arange(HOURS_PER_WEEK) < 5 * 24


@dataclass(slots=True)
class OccupancyModel:
    """Learned occupancy per hour of the week (see the module doc).

    ``occupied[h]`` and ``observed[h]`` are decayed sums of the occupied
    share and of the hours seen at hour of week ``h``; ``learned_until`` is
    the end of the last hour folded in (UTC), ``hours`` the hours folded in.
    """

    prior: Prior = Prior.HOME
    occupied: FloatArray = field(default_factory=lambda: np.zeros(HOURS_PER_WEEK))
    observed: FloatArray = field(default_factory=lambda: np.zeros(HOURS_PER_WEEK))
    learned_until: datetime | None = None
    hours: int = 0
    half_life_weeks: float = HALF_LIFE_WEEKS
    pool_strength: float = POOL_STRENGTH
    prior_strength: float = PRIOR_STRENGTH

    def fold(self, shares: Iterable[tuple[datetime, float]], tz: tzinfo) -> int:
        """Learn from hours (start, occupied share) after ``learned_until``.

        Hours that start before ``learned_until`` are skipped, so folding the
        same period twice counts it once. Returns the number of hours folded.
        """
        folded = 0
        for hour, share in shares:
            start = hour.astimezone(UTC)
            if self.learned_until is not None and start < self.learned_until:
                continue
            if self.learned_until is not None:
                weeks = (start + HOUR - self.learned_until) / timedelta(weeks=1)
                factor = 0.5 ** (weeks / self.half_life_weeks)
                self.occupied *= factor
                self.observed *= factor
            slot = hour_of_week(start, tz)
            self.occupied[slot] += min(1.0, max(0.0, share))
            self.observed[slot] += 1.0
            self.learned_until = start + HOUR
            self.hours += 1
            folded += 1
        return folded

    def advance(self, until: datetime) -> None:
        """Mark hours up to ``until`` as seen without learning from them.

        For hours whose status was unknown: they are not read again, and
        the counts decay over them like over any other hour.
        """
        until = until.astimezone(UTC)
        if self.learned_until is None:
            self.learned_until = until
            return
        if until <= self.learned_until:
            return
        weeks = (until - self.learned_until) / timedelta(weeks=1)
        factor = 0.5 ** (weeks / self.half_life_weeks)
        self.occupied *= factor
        self.observed *= factor
        self.learned_until = until

    def probabilities(self) -> FloatArray:
        """Probability of occupancy for each hour of the week (Monday 00:00 first)."""
        prior = PRIOR_PROFILES[self.prior]
        result = np.empty(HOURS_PER_WEEK)
        for group in (WEEKDAY_SLOTS, ~WEEKDAY_SLOTS):
            days = int(group.sum()) // 24
            occupied = self.occupied[group].reshape(days, 24)
            observed = self.observed[group].reshape(days, 24)
            prior_hour = prior[group].reshape(days, 24).mean(axis=0)
            group_mean = (occupied.sum(axis=0) + self.prior_strength * prior_hour) / (
                observed.sum(axis=0) + self.prior_strength
            )
            slot = (occupied + self.pool_strength * group_mean) / (
                observed + self.pool_strength
            )
            result[group] = slot.reshape(-1)
        return result

    def forecast(self, start: datetime, hours: int, tz: tzinfo) -> list[float]:
        """Probability of occupancy for ``hours`` hours from the hour of ``start``."""
        table = self.probabilities()
        first = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        return [float(table[hour_of_week(first + i * HOUR, tz)]) for i in range(hours)]

    @property
    def effective_hours(self) -> float:
        """Hours learned from, weighted by their decay."""
        return float(self.observed.sum())

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON form (UTC ISO time)."""
        return {
            "prior": self.prior.value,
            "occupied": [round(float(v), 6) for v in self.occupied],
            "observed": [round(float(v), 6) for v in self.observed],
            "learned_until": None
            if self.learned_until is None
            else self.learned_until.isoformat(),
            "hours": self.hours,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], prior: Prior) -> OccupancyModel:
        """Read :meth:`as_dict`'s form; ``ValueError`` when it is not valid.

        ``prior`` is the zone's current setting: changing it keeps what was
        learned.
        """
        try:
            occupied = np.asarray(data["occupied"], dtype=np.float64)
            observed = np.asarray(data["observed"], dtype=np.float64)
            until = data.get("learned_until")
            learned_until = None if until is None else datetime.fromisoformat(until)
            hours = int(data.get("hours", 0))
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"not an occupancy model: {err}") from err
        for name, values in (("occupied", occupied), ("observed", observed)):
            if values.shape != (HOURS_PER_WEEK,) or not np.all(np.isfinite(values)):
                raise ValueError(f"{name} must be {HOURS_PER_WEEK} finite numbers")
        if (
            np.any(observed < 0)
            or np.any(occupied < 0)
            or np.any(occupied > observed + 1e-6)
        ):
            raise ValueError("counts out of range")
        if learned_until is not None and learned_until.tzinfo is None:
            raise ValueError("learned_until has no time zone")
        return cls(
            prior=prior,
            occupied=occupied,
            observed=observed,
            learned_until=None
            if learned_until is None
            else learned_until.astimezone(UTC),
            hours=hours,
        )


def brier(probabilities: Sequence[float], outcomes: Sequence[bool]) -> float:
    """Mean squared difference between probability and outcome (lower is better)."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(outcomes, dtype=np.float64)
    return float(np.mean((p - y) ** 2))


def accuracy(probabilities: Sequence[float], outcomes: Sequence[bool]) -> float:
    """Share of hours where ``p >= 0.5`` matches the outcome."""
    p = np.asarray(probabilities, dtype=np.float64) >= 0.5
    y = np.asarray(outcomes, dtype=bool)
    return float(np.mean(p == y))
