"""What to do with a driven entity, and why: the decision rules of control.

Pure Python. Given the zone's status, its occupancy outlook, a driven
entity's state and what Kilowise did to it lately, each ``decide_*`` function
returns a ``Decision``: an ``Action`` (a service call) with its reason, or
why nothing is done. ``guard`` then says whether the safety rules let an
action through (manual override, minimum on and off times, actions per hour).
The integration applies what passes, or only logs it in dry-run mode.

What these rules never do: switch a thermostat on (except to stop the room
freezing), set a target below the frost floor, switch a light on unless the
zone asks for it at arrival, or act while the occupancy is unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from enum import StrEnum
import math
from typing import Any, Final

from .daily import daily_windows
from .occupancy import UNOCCUPIED, Status, ZoneReading
from .thermal import preheat_start

HOUR: Final = timedelta(hours=1)

ARRIVAL_WINDOW: Final = timedelta(minutes=2)
"""A light is switched on at arrival only this soon after the zone became occupied."""

TARGET_TOLERANCE: Final = 0.05
"""°C: a thermostat's target this close to the wanted one needs no change."""


class Mode(StrEnum):
    """What a climate entity is driven to."""

    COMFORT = "comfort"
    PREHEAT = "preheat"
    ECO = "eco"
    AWAY = "away"
    FROST = "frost"


class Reason(StrEnum):
    """Why an action is taken."""

    OCCUPIED = "occupied"
    """Comfort: the zone is occupied."""
    PREHEAT = "preheat"
    """Comfort ahead of the occupancy the forecast expects."""
    EMPTY = "empty"
    """Eco: the zone is empty."""
    AWAY = "away"
    """Away: nobody is home."""
    FROST = "frost_protection"
    """The room or the target is below the frost floor."""
    NO_OCCUPANCY = "no_occupancy"
    """A light is switched off: nobody in the zone for the set time."""
    ARRIVAL = "arrival"
    """A light is switched on: somebody arrived (only when asked for)."""
    RUN_SCHEDULE = "run_schedule"
    """A deferrable load starts its run at the scheduled time."""
    RUN_RECOMMENDED = "run_recommended"
    """A deferrable load starts its run in the recommended window."""
    RUN_DONE = "run_done"
    """A deferrable load Kilowise started has run its time."""


class Hold(StrEnum):
    """Why nothing is done."""

    NOTHING_TO_DO = "nothing_to_do"
    UNAVAILABLE = "entity_unavailable"
    UNKNOWN_OCCUPANCY = "unknown_occupancy"
    HVAC_OFF = "hvac_off"
    UNSUPPORTED = "unsupported"
    OVERRIDE = "override"
    RATE_LIMIT = "rate_limit"
    MIN_ON_TIME = "min_on_time"
    MIN_OFF_TIME = "min_off_time"
    MIN_CHANGE_INTERVAL = "min_change_interval"


@dataclass(frozen=True, slots=True)
class Action:
    """A service call on one entity (``data`` without the entity id)."""

    domain: str
    service: str
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, tuple[tuple[str, Any], ...]]:
        """Identity of the action, to tell a repeated one from a new one."""
        return (self.domain, self.service, tuple(sorted(self.data.items())))

    @property
    def turns_on(self) -> bool:
        """Whether it switches something on (against minimum off times)."""
        return self.service == "turn_on"

    @property
    def turns_off(self) -> bool:
        """Whether it switches something off (against minimum on times)."""
        return self.service == "turn_off"


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one entity, or why nothing.

    ``reason`` is a ``Reason`` when there is an action, else a ``Hold``;
    ``blocked`` names the safety rule that stopped an action; ``safety``
    actions (frost protection) pass overrides and minimum times. ``detail``
    carries what explains it (the expected arrival, the planned preheat
    start, the minutes without occupancy, the run's end).
    """

    entity_id: str
    action: Action | None
    reason: str
    mode: Mode | None = None
    safety: bool = False
    blocked: Hold | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def blocked_by(self, hold: Hold) -> Decision:
        """The same decision, stopped by ``hold``."""
        return Decision(
            self.entity_id,
            self.action,
            self.reason,
            self.mode,
            self.safety,
            hold,
            self.detail,
        )


def _hold(
    entity_id: str, hold: Hold, mode: Mode | None = None, **detail: Any
) -> Decision:
    return Decision(entity_id, None, hold, mode, detail=detail)


@dataclass(frozen=True, slots=True)
class Limits:
    """The zone's safety settings."""

    min_on: timedelta = timedelta(minutes=5)
    """A light or switch stays on at least this long before Kilowise turns it
    off; a thermostat's target is changed by Kilowise at most once this often."""
    min_off: timedelta = timedelta(minutes=5)
    """A light or switch stays off at least this long before Kilowise turns it on."""
    max_actions_per_hour: int = 6
    override: timedelta = timedelta(hours=2)
    """How long a manual change pauses control of the entity."""


@dataclass(frozen=True, slots=True)
class LastAction:
    """Kilowise's last action on an entity: when, what and why (the logbook's
    words), and whether it was only logged (a dry run)."""

    at: datetime
    message: str
    dry_run: bool

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON form (UTC ISO time)."""
        return {
            "at": self.at.isoformat(),
            "message": self.message,
            "dry_run": self.dry_run,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LastAction:
        """Read :meth:`as_dict`'s form; ``ValueError`` when it is not valid."""
        at = _time(data.get("at"))
        if at is None:
            raise ValueError("a last action needs its time")
        return cls(at, str(data.get("message", "")), bool(data.get("dry_run")))


@dataclass(slots=True)
class Guard:
    """What Kilowise did to one entity lately, and whether it is paused.

    ``actions`` are the times of Kilowise's actions in the last hour;
    ``override_until`` ends a pause after a manual change; ``planned`` is the
    next or current planned run of a deferrable load, ``run_started`` the
    start of the planned run Kilowise started (each run is started once),
    ``run_until`` when the run it started ends, ``last_run_end`` the end of
    the last planned run that is over; ``preheating_for`` the expected
    arrival a thermostat is being preheated for; ``last_key`` the last action
    issued or logged (a dry run logs each action once, not every minute), and
    ``last_action`` what it was, for the entities and the dashboard.
    """

    actions: list[datetime] = field(default_factory=list)
    override_until: datetime | None = None
    planned: RunWindow | None = None
    run_started: datetime | None = None
    run_until: datetime | None = None
    last_run_end: datetime | None = None
    preheating_for: datetime | None = None
    last_key: tuple[Any, ...] | None = None
    last_action: LastAction | None = None

    def actions_last_hour(self, now: datetime) -> int:
        """Kilowise's actions on the entity in the hour before ``now``."""
        self.actions = [when for when in self.actions if now - when < HOUR]
        return len(self.actions)

    def overridden(self, now: datetime) -> bool:
        """Whether a manual change still pauses control."""
        return self.override_until is not None and now < self.override_until

    def note_action(self, now: datetime) -> None:
        """Count an action taken now."""
        self.actions.append(now)

    def start_run(self, run: RunWindow) -> None:
        """Remember that Kilowise started ``run`` (or logged it in a dry run)."""
        self.run_started = run.start
        self.run_until = run.end

    def settle_run(self, now: datetime, on: bool | None) -> None:
        """Move past a planned run that is over; forget a run Kilowise started
        once it is over and its load is off (by Kilowise or by hand)."""
        if self.planned is not None and now >= self.planned.end:
            self.last_run_end = self.planned.end
            self.planned = None
        if self.run_until is not None and now >= self.run_until and on is False:
            self.run_until = None

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON form of what must survive a restart (UTC ISO times)."""

        def iso(when: datetime | None) -> str | None:
            return None if when is None else when.isoformat()

        return {
            "override_until": iso(self.override_until),
            "planned": None if self.planned is None else self.planned.as_dict(),
            "run_started": iso(self.run_started),
            "run_until": iso(self.run_until),
            "last_run_end": iso(self.last_run_end),
            "preheating_for": iso(self.preheating_for),
            # Kept so that a reload or a restart neither resets the cap on
            # actions per hour nor logs a dry run's action once more.
            "actions": [when.isoformat() for when in self.actions],
            "last_key": None if self.last_key is None else list(self.last_key),
            "last_action": None
            if self.last_action is None
            else self.last_action.as_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Guard:
        """Read :meth:`as_dict`'s form; ``ValueError`` when it is not valid."""
        planned = data.get("planned")
        last_action = data.get("last_action")
        return cls(
            actions=[
                when
                for text in data.get("actions") or ()
                if (when := _time(text)) is not None
            ],
            override_until=_time(data.get("override_until")),
            planned=None if planned is None else RunWindow.from_dict(planned),
            run_started=_time(data.get("run_started")),
            run_until=_time(data.get("run_until")),
            last_run_end=_time(data.get("last_run_end")),
            preheating_for=_time(data.get("preheating_for")),
            last_key=_action_key(data.get("last_key")),
            last_action=None
            if last_action is None
            else LastAction.from_dict(last_action),
        )


def _action_key(value: Any) -> tuple[Any, ...] | None:
    """An :attr:`Action.key` read back from its JSON form (lists for tuples)."""
    if value is None:
        return None
    domain, service, items = value
    return (str(domain), str(service), tuple((str(k), v) for k, v in items))


def _time(text: Any) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(str(text))
    except ValueError as err:
        raise ValueError(f"not a time: {text!r}") from err
    if when.tzinfo is None:
        raise ValueError(f"time without a time zone: {text!r}")
    return when.astimezone(UTC)


def guard(
    decision: Decision,
    now: datetime,
    state_changed: datetime | None,
    memory: Guard,
    limits: Limits,
) -> Decision:
    """Stop an action that a safety rule forbids now; pass the others.

    ``state_changed`` is when the entity was last switched (by anyone), for
    the minimum on and off times of lights and switches. A thermostat's
    target is changed at most once per minimum on time, counted from
    Kilowise's own last change (a manual change pauses it anyway). Frost
    protection passes overrides and minimum times, never the cap per hour.
    """
    action = decision.action
    if action is None:
        return decision
    if not decision.safety and memory.overridden(now):
        return decision.blocked_by(Hold.OVERRIDE)
    if memory.actions_last_hour(now) >= limits.max_actions_per_hour:
        return decision.blocked_by(Hold.RATE_LIMIT)
    if decision.safety:
        return decision
    if action.domain == "climate":
        if memory.actions and now - memory.actions[-1] < limits.min_on:
            return decision.blocked_by(Hold.MIN_CHANGE_INTERVAL)
        return decision
    if state_changed is not None:
        if action.turns_off and now - state_changed < limits.min_on:
            return decision.blocked_by(Hold.MIN_ON_TIME)
        if action.turns_on and now - state_changed < limits.min_off:
            return decision.blocked_by(Hold.MIN_OFF_TIME)
    return decision


# ----------------------------------------------------------------------------
# occupancy outlook


@dataclass(frozen=True, slots=True)
class Outlook:
    """Hourly probabilities of occupancy from ``start`` (UTC, on the hour).

    The integration starts it at the hour before the current one, so an
    expected arrival at the start of the current hour is seen as one.
    """

    start: datetime
    probabilities: tuple[float, ...]

    def arrivals(self, threshold: float) -> list[datetime]:
        """Starts of the hours where occupancy becomes expected (p rises past
        ``threshold`` from the hour before)."""
        result = []
        for index in range(1, len(self.probabilities)):
            if (
                self.probabilities[index] >= threshold
                and self.probabilities[index - 1] < threshold
            ):
                result.append(self.start + index * HOUR)
        return result


@dataclass(frozen=True, slots=True)
class ClimateSettings:
    """A zone's targets (°C) or presets per mode, and how it preheats.

    A preset named for a mode is used instead of that mode's temperature.
    """

    comfort: float = 20.0
    eco: float = 17.0
    away: float = 15.0
    frost_floor: float = 7.0
    comfort_preset: str | None = None
    eco_preset: str | None = None
    away_preset: str | None = None
    preheat_threshold: float = 0.5
    max_preheat: timedelta = timedelta(hours=3)
    arrival_grace: timedelta = timedelta(hours=1)
    """Comfort is kept this long after an expected arrival, even if nobody came."""
    away_preheat_limit: timedelta = timedelta(hours=24)
    """Away longer than this (a trip): no preheat for the usual arrivals."""

    def temperature(self, mode: Mode) -> float:
        """The mode's target, never below the frost floor."""
        value = {
            Mode.COMFORT: self.comfort,
            Mode.PREHEAT: self.comfort,
            Mode.ECO: self.eco,
            Mode.AWAY: self.away,
            Mode.FROST: self.frost_floor,
        }[mode]
        return max(value, self.frost_floor)

    def preset(self, mode: Mode) -> str | None:
        """The mode's preset, if one is set."""
        return {
            Mode.COMFORT: self.comfort_preset,
            Mode.PREHEAT: self.comfort_preset,
            Mode.ECO: self.eco_preset,
            Mode.AWAY: self.away_preset,
            Mode.FROST: None,
        }[mode]


@dataclass(frozen=True, slots=True)
class ClimateState:
    """What a climate entity reports."""

    available: bool
    hvac_mode: str | None = None
    target: float | None = None
    preset: str | None = None
    presets: tuple[str, ...] = ()
    hvac_modes: tuple[str, ...] = ("heat", "off")
    current: float | None = None
    supports_target: bool = True
    min_temp: float | None = None
    max_temp: float | None = None


@dataclass(frozen=True, slots=True)
class Preheat:
    """The next (or current) expected arrival and when heating for it starts."""

    arrival: datetime
    start: datetime


def plan_preheat(
    now: datetime,
    zone: ZoneReading,
    outlook: Outlook | None,
    settings: ClimateSettings,
    *,
    current: float | None,
    heating_rate: float,
    cooling_rate: float,
    preheating_for: datetime | None = None,
) -> Preheat | None:
    """The expected arrival comfort is kept for now or prepared next, if any.

    An arrival counts from its preheat start until ``arrival_grace`` after
    it. Once heating for an arrival has started (``preheating_for``), it
    goes on: as the room warms, the latest start moves later, and without
    this the thermostat would go back to the setback and start again. None without an outlook, with a longest preheat of zero (preheating
    off), or when nobody has been home for longer than ``away_preheat_limit``.
    """
    if outlook is None or settings.max_preheat <= timedelta(0):
        return None
    if (
        zone.status is Status.AWAY
        and zone.since is not None
        and now - zone.since > settings.away_preheat_limit
    ):
        return None
    setback = settings.temperature(
        Mode.AWAY if zone.status is Status.AWAY else Mode.ECO
    )
    for arrival in outlook.arrivals(settings.preheat_threshold):
        if arrival + settings.arrival_grace <= now:
            continue
        start = preheat_start(
            now,
            arrival,
            current=current,
            comfort=settings.temperature(Mode.COMFORT),
            setback=setback,
            heating_rate=heating_rate,
            cooling_rate=cooling_rate,
            max_lead=settings.max_preheat,
        )
        if arrival == preheating_for:
            start = min(start, now)
        return Preheat(arrival, start)
    return None


def climate_mode(
    now: datetime, zone: ZoneReading, preheat: Preheat | None
) -> tuple[Mode, Reason] | None:
    """The mode the zone's occupancy asks for; None when it is unknown."""
    if zone.status is Status.OCCUPIED:
        return Mode.COMFORT, Reason.OCCUPIED
    if zone.status not in UNOCCUPIED:
        return None
    if preheat is not None and preheat.start <= now:
        return Mode.PREHEAT, Reason.PREHEAT
    if zone.status is Status.AWAY:
        return Mode.AWAY, Reason.AWAY
    return Mode.ECO, Reason.EMPTY


def _clamped(value: float, state: ClimateState, floor: float) -> float:
    if state.max_temp is not None:
        value = min(value, state.max_temp)
    if state.min_temp is not None:
        value = max(value, state.min_temp)
    return max(value, floor)


def decide_climate(
    entity_id: str,
    now: datetime,
    zone: ZoneReading,
    *,
    preheat: Preheat | None,
    settings: ClimateSettings,
    state: ClimateState,
) -> Decision:
    """Comfort, preheat, eco or away for a thermostat; frost protection first.

    Frost protection: a room below the floor with its thermostat off is set to
    heat at the floor, and a target below the floor is raised to it, whatever
    the occupancy. Otherwise a thermostat that is off is left off.
    """
    if not state.available:
        return _hold(entity_id, Hold.UNAVAILABLE)
    floor = settings.frost_floor
    detail: dict[str, Any] = {}
    if preheat is not None:
        detail = {"arrival": preheat.arrival, "preheat_start": preheat.start}
    if state.hvac_mode == "off":
        if (
            state.current is not None
            and state.current < floor
            and state.supports_target
            and "heat" in state.hvac_modes
        ):
            return Decision(
                entity_id,
                Action(
                    "climate",
                    "set_temperature",
                    {"temperature": _clamped(floor, state, floor), "hvac_mode": "heat"},
                ),
                Reason.FROST,
                Mode.FROST,
                safety=True,
                detail={"current": state.current},
            )
        return _hold(entity_id, Hold.HVAC_OFF)
    if (
        state.target is not None
        and state.target < floor - TARGET_TOLERANCE
        and state.supports_target
    ):
        return Decision(
            entity_id,
            Action(
                "climate",
                "set_temperature",
                {"temperature": _clamped(floor, state, floor)},
            ),
            Reason.FROST,
            Mode.FROST,
            safety=True,
            detail={"target": state.target},
        )
    wanted = climate_mode(now, zone, preheat)
    if wanted is None:
        return _hold(entity_id, Hold.UNKNOWN_OCCUPANCY, **detail)
    mode, reason = wanted
    preset = settings.preset(mode)
    if preset is not None:
        if preset not in state.presets:
            return _hold(entity_id, Hold.UNSUPPORTED, mode, preset=preset)
        if state.preset == preset:
            return _hold(entity_id, Hold.NOTHING_TO_DO, mode, **detail)
        return Decision(
            entity_id,
            Action("climate", "set_preset_mode", {"preset_mode": preset}),
            reason,
            mode,
            detail=detail,
        )
    if not state.supports_target:
        return _hold(entity_id, Hold.UNSUPPORTED, mode)
    target = _clamped(settings.temperature(mode), state, floor)
    if state.target is not None and abs(state.target - target) <= TARGET_TOLERANCE:
        return _hold(entity_id, Hold.NOTHING_TO_DO, mode, **detail)
    return Decision(
        entity_id,
        Action("climate", "set_temperature", {"temperature": target}),
        reason,
        mode,
        detail=detail,
    )


# ----------------------------------------------------------------------------
# lights


@dataclass(frozen=True, slots=True)
class SwitchState:
    """A light's or switch's state: on, off or None when unavailable."""

    on: bool | None
    changed: datetime | None = None


@dataclass(frozen=True, slots=True)
class LightSettings:
    """When lights go off, and whether they come on at arrival."""

    off_after: timedelta = timedelta(minutes=15)
    on_at_arrival: bool = False


def decide_light(
    entity_id: str,
    now: datetime,
    zone: ZoneReading,
    settings: LightSettings,
    state: SwitchState,
) -> Decision:
    """Off after ``off_after`` without occupancy; on at arrival only if asked.

    At arrival means within ``ARRIVAL_WINDOW`` of the zone becoming
    occupied, for a light nobody switched since then: a light switched off
    by hand while people are there stays off.
    """
    if state.on is None:
        return _hold(entity_id, Hold.UNAVAILABLE)
    if zone.status is Status.UNKNOWN:
        return _hold(entity_id, Hold.UNKNOWN_OCCUPANCY)
    if state.on and zone.status in UNOCCUPIED and zone.since is not None:
        empty_for = now - zone.since
        if empty_for >= settings.off_after:
            return Decision(
                entity_id,
                Action("light", "turn_off"),
                Reason.NO_OCCUPANCY,
                detail={
                    "minutes_without_occupancy": int(empty_for / timedelta(minutes=1))
                },
            )
    if (
        not state.on
        and settings.on_at_arrival
        and zone.status is Status.OCCUPIED
        and zone.since is not None
        and now - zone.since <= ARRIVAL_WINDOW
        and (state.changed is None or state.changed < zone.since)
    ):
        return Decision(entity_id, Action("light", "turn_on"), Reason.ARRIVAL)
    return _hold(entity_id, Hold.NOTHING_TO_DO)


# ----------------------------------------------------------------------------
# deferrable loads


@dataclass(frozen=True, slots=True)
class RunWindow:
    """When a deferrable load runs (UTC), and where the window came from."""

    start: datetime
    end: datetime
    recommended: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON form."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "recommended": self.recommended,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunWindow:
        """Read :meth:`as_dict`'s form; ``ValueError`` when it is not valid."""
        start = _time(data.get("start"))
        end = _time(data.get("end"))
        if start is None or end is None or end <= start:
            raise ValueError("a run needs a start before its end")
        return cls(start, end, bool(data.get("recommended", False)))


@dataclass(frozen=True, slots=True)
class DeferrableRun:
    """A run to place: ``duration`` between ``earliest`` and ``latest_end`` (UTC)."""

    entity_id: str
    duration: timedelta
    earliest: datetime
    latest_end: datetime


WindowProvider = Callable[[DeferrableRun], tuple[datetime, datetime] | None]
"""Recommends when to run a deferrable load: (start, end) inside the run's
bounds, or None to fall back to the schedule."""


@dataclass(frozen=True, slots=True)
class RunSettings:
    """A zone's deferrable loads: once a day, ``duration`` within a local window.

    On the schedule a run starts at ``window_start``; with a window provider
    anywhere in [window_start, window_end]. A window that ends at or before
    its start crosses midnight.
    """

    window_start: time = time(10, 0)
    window_end: time = time(18, 0)
    duration: timedelta = timedelta(hours=2)


def run_windows(
    now: datetime, tz: tzinfo, settings: RunSettings
) -> list[tuple[datetime, datetime]]:
    """The run windows (UTC) from yesterday's to the day after tomorrow's."""
    return daily_windows(now, tz, settings.window_start, settings.window_end)


def plan_run(
    entity_id: str,
    now: datetime,
    tz: tzinfo,
    settings: RunSettings,
    *,
    after: datetime | None,
    provider: WindowProvider | None,
) -> RunWindow:
    """The next run of a deferrable load, once ``after`` (the last run's end).

    One run per daily window: the first window that starts after the last
    run ended and still has room for a whole run from now. The provider's
    answer is used when it fits there; otherwise (or without a provider) the
    run starts at the window's start, or now when that has passed (Home
    Assistant was off, or the zone was added, after the window began).
    """
    for start, end in run_windows(now, tz, settings):
        if after is not None and start < after:
            continue
        duration = min(settings.duration, end - start)
        earliest = max(start, now)
        if end - earliest < duration:
            continue
        if provider is not None:
            answer = provider(DeferrableRun(entity_id, duration, earliest, end))
            if answer is not None:
                run_start, run_end = answer
                if earliest <= run_start < run_end <= end:
                    return RunWindow(run_start, run_end, recommended=True)
        return RunWindow(earliest, earliest + duration)
    raise AssertionError("unreachable: a daily window always lies ahead")


def decide_switch(
    entity_id: str,
    now: datetime,
    run: RunWindow | None,
    state: SwitchState,
    memory: Guard,
) -> Decision:
    """On during its planned run, once; off when a run Kilowise started is over.

    A load switched on by hand is never switched off by Kilowise, and a run
    stopped by hand is not started again.
    """
    if state.on is None:
        return _hold(entity_id, Hold.UNAVAILABLE)
    if state.on and memory.run_until is not None and now >= memory.run_until:
        return Decision(
            entity_id,
            Action("switch", "turn_off"),
            Reason.RUN_DONE,
            detail={"run_end": memory.run_until},
        )
    if (
        run is not None
        and run.start <= now < run.end
        and not state.on
        and memory.run_started != run.start
    ):
        return Decision(
            entity_id,
            Action("switch", "turn_on"),
            Reason.RUN_RECOMMENDED if run.recommended else Reason.RUN_SCHEDULE,
            detail={"run_start": run.start, "run_end": run.end},
        )
    return _hold(entity_id, Hold.NOTHING_TO_DO)


def describe(decision: Decision, unit: str = "°C") -> str:
    """A short English description of an action for the logbook (of why
    nothing is done, for a decision without one)."""
    action = decision.action
    if action is None:
        return HOLD_TEXT.get(decision.reason, decision.reason)
    if action.service == "set_temperature":
        text = f"set to {_number(action.data['temperature'])} {unit}"
        if action.data.get("hvac_mode"):
            text = f"switched to {action.data['hvac_mode']} and {text}"
    elif action.service == "set_preset_mode":
        text = f"set to preset {action.data['preset_mode']}"
    elif action.turns_on:
        text = "turned on"
    elif action.turns_off:
        text = "turned off"
    else:
        text = f"{action.domain}.{action.service}"
    return f"{text} ({REASON_TEXT.get(decision.reason, decision.reason)})"


def explain(decision: Decision, unit: str = "°C") -> str:
    """What a decision does and why, with the rule that holds its action back."""
    text = describe(decision, unit)
    if decision.action is not None and decision.blocked is not None:
        text += f", held back: {HOLD_TEXT[decision.blocked]}"
    return text


def _number(value: Any) -> str:
    number = float(value)
    return str(int(number)) if math.isclose(number, round(number)) else f"{number:.1f}"


REASON_TEXT: Final[Mapping[str, str]] = {
    Reason.OCCUPIED: "comfort: the zone is occupied",
    Reason.PREHEAT: "preheating for the expected occupancy",
    Reason.EMPTY: "eco: the zone is empty",
    Reason.AWAY: "away: nobody is home",
    Reason.FROST: "frost protection",
    Reason.NO_OCCUPANCY: "nobody in the zone",
    Reason.ARRIVAL: "somebody arrived",
    Reason.RUN_SCHEDULE: "scheduled run",
    Reason.RUN_RECOMMENDED: "recommended run window",
    Reason.RUN_DONE: "run finished",
}
"""English words for the logbook; events carry the reason's code."""

HOLD_TEXT: Final[Mapping[str, str]] = {
    Hold.NOTHING_TO_DO: "nothing to do",
    Hold.UNAVAILABLE: "unavailable: left alone",
    Hold.UNKNOWN_OCCUPANCY: "occupancy unknown: nothing is changed",
    Hold.HVAC_OFF: "switched off: left off",
    Hold.UNSUPPORTED: "has no target temperature or preset to set: left alone",
    Hold.OVERRIDE: "changed by hand: paused",
    Hold.RATE_LIMIT: "too many actions in the last hour",
    Hold.MIN_ON_TIME: "on for less than the minimum on time",
    Hold.MIN_OFF_TIME: "off for less than the minimum off time",
    Hold.MIN_CHANGE_INTERVAL: "changed less than the minimum on time ago",
}
"""English words for why nothing is done (or an action is held back)."""


def actions_needed(decisions: Sequence[Decision]) -> list[Decision]:
    """The decisions that carry an action not stopped by a safety rule."""
    return [d for d in decisions if d.action is not None and d.blocked is None]
