"""Decision rules of control: climate, lights, deferrable loads and the guards."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
import json
from zoneinfo import ZoneInfo

import pytest

from custom_components.kilowise.engine.control import (
    HOLD_TEXT,
    Action,
    ClimateSettings,
    ClimateState,
    Decision,
    DeferrableRun,
    Guard,
    Hold,
    LastAction,
    LightSettings,
    Limits,
    Mode,
    Outlook,
    Preheat,
    Reason,
    RunSettings,
    RunWindow,
    SwitchState,
    decide_climate,
    decide_light,
    decide_switch,
    describe,
    explain,
    guard,
    plan_preheat,
    plan_run,
    run_windows,
)
from custom_components.kilowise.engine.occupancy import Status, ZoneReading
from custom_components.kilowise.engine.thermal import heating_time

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2027, 3, 1, 13, 0, tzinfo=UTC)  # Monday 14:00 in Paris
MIN = timedelta(minutes=1)
CLIMATE = "climate.living_room"
SETTINGS = ClimateSettings(comfort=20.5, eco=17.0, away=15.0, frost_floor=7.0)
HEATING = ClimateState(available=True, hvac_mode="heat", target=17.0, current=17.2)


def _zone(status: Status, minutes_ago: float = 30) -> ZoneReading:
    return ZoneReading(status, NOW, NOW - minutes_ago * MIN)


def _outlook(expected_from: int, expected_to: int, first: datetime = NOW) -> Outlook:
    """Hourly probabilities from the hour before ``first``: 0.9 in the given hours
    (counted from ``first``'s hour), 0.1 elsewhere."""
    start = first.replace(minute=0) - timedelta(hours=1)
    probabilities = tuple(
        0.9 if expected_from <= index - 1 < expected_to else 0.1 for index in range(26)
    )
    return Outlook(start, probabilities)


def _plan(
    now: datetime,
    zone: ZoneReading,
    outlook: Outlook | None,
    current: float,
    rate: float,
) -> Preheat | None:
    """The preheat plan with SETTINGS, a room cooling at 0.3 °C/h."""
    return plan_preheat(
        now,
        zone,
        outlook,
        SETTINGS,
        current=current,
        heating_rate=rate,
        cooling_rate=0.3,
    )


def _climate(
    zone: ZoneReading, state: ClimateState = HEATING, preheat=None
) -> Decision:
    return decide_climate(
        CLIMATE, NOW, zone, preheat=preheat, settings=SETTINGS, state=state
    )


def test_climate_follows_occupancy() -> None:
    """Comfort when occupied, eco when empty, away when nobody is home."""
    occupied = _climate(_zone(Status.OCCUPIED))
    assert occupied.action == Action(
        "climate", "set_temperature", {"temperature": 20.5}
    )
    assert (occupied.reason, occupied.mode) == (Reason.OCCUPIED, Mode.COMFORT)
    empty = _climate(
        _zone(Status.EMPTY), ClimateState(True, "heat", 20.5, current=20.4)
    )
    assert empty.action == Action("climate", "set_temperature", {"temperature": 17.0})
    assert empty.reason is Reason.EMPTY
    away = _climate(_zone(Status.AWAY))
    assert away.action == Action("climate", "set_temperature", {"temperature": 15.0})
    assert away.reason is Reason.AWAY
    # Already at eco: nothing to do.
    same = _climate(_zone(Status.EMPTY))
    assert same.action is None
    assert same.reason is Hold.NOTHING_TO_DO


def test_climate_holds_on_unknown_occupancy_or_unavailable_entity() -> None:
    """Nothing is done on unknown occupancy or an unavailable thermostat."""
    assert _climate(_zone(Status.UNKNOWN)).reason is Hold.UNKNOWN_OCCUPANCY
    unavailable = _climate(_zone(Status.EMPTY), ClimateState(available=False))
    assert unavailable.action is None
    assert unavailable.reason is Hold.UNAVAILABLE


def test_frost_floor_is_never_crossed() -> None:
    """Targets are floored; a target below the floor is raised, whatever the occupancy;
    a thermostat switched off is switched on only in a room below the floor."""
    low = ClimateSettings(comfort=20.0, eco=5.0, away=3.0, frost_floor=7.0)
    away = decide_climate(
        CLIMATE, NOW, _zone(Status.AWAY), preheat=None, settings=low, state=HEATING
    )
    assert away.action == Action("climate", "set_temperature", {"temperature": 7.0})
    below = ClimateState(True, "heat", target=5.0, current=12.0)
    raised = _climate(_zone(Status.UNKNOWN), below)
    assert raised.reason is Reason.FROST
    assert raised.safety
    assert raised.action == Action("climate", "set_temperature", {"temperature": 7.0})
    off_cold = ClimateState(True, "off", target=20.0, current=6.5)
    rescue = _climate(_zone(Status.AWAY), off_cold)
    assert rescue.action == Action(
        "climate", "set_temperature", {"temperature": 7.0, "hvac_mode": "heat"}
    )
    cooling_only = ClimateState(
        True, "off", 20.0, hvac_modes=("cool", "off"), current=6.5
    )
    assert _climate(_zone(Status.AWAY), cooling_only).reason is Hold.HVAC_OFF
    off_warm = ClimateState(True, "off", target=20.0, current=16.0)
    assert _climate(_zone(Status.OCCUPIED), off_warm).reason is Hold.HVAC_OFF


def test_targets_stay_within_the_thermostat_range() -> None:
    """A target outside the thermostat's min/max is clamped (never under the floor)."""
    ranged = ClimateState(
        True, "heat", target=17.0, current=17.0, min_temp=18.0, max_temp=20.0
    )
    comfort = _climate(_zone(Status.OCCUPIED), ranged)
    assert comfort.action == Action("climate", "set_temperature", {"temperature": 20.0})
    eco = _climate(
        _zone(Status.EMPTY), ClimateState(True, "heat", target=20.0, min_temp=18.0)
    )
    assert eco.action == Action("climate", "set_temperature", {"temperature": 18.0})


def test_presets() -> None:
    """A preset named for a mode is used; an unknown preset is not forced."""
    settings = ClimateSettings(eco_preset="eco", comfort_preset="comfort")
    state = ClimateState(
        True, "heat", target=20.0, preset="comfort", presets=("comfort", "eco")
    )
    eco = decide_climate(
        CLIMATE, NOW, _zone(Status.EMPTY), preheat=None, settings=settings, state=state
    )
    assert eco.action == Action("climate", "set_preset_mode", {"preset_mode": "eco"})
    missing = ClimateState(True, "heat", target=20.0, preset="home", presets=("home",))
    refused = decide_climate(
        CLIMATE,
        NOW,
        _zone(Status.EMPTY),
        preheat=None,
        settings=settings,
        state=missing,
    )
    assert refused.action is None
    assert refused.reason is Hold.UNSUPPORTED
    # Away has no preset here: its temperature is used.
    away = decide_climate(
        CLIMATE, NOW, _zone(Status.AWAY), preheat=None, settings=settings, state=state
    )
    assert away.action == Action("climate", "set_temperature", {"temperature": 15.0})


def test_outlook_arrivals() -> None:
    """Arrivals are the hours where the probability rises past the threshold."""
    outlook = _outlook(3, 6)  # expected from 17:00 to 20:00 Paris
    assert outlook.arrivals(0.5) == [NOW + timedelta(hours=3)]
    assert outlook.arrivals(0.95) == []


def test_preheat_starts_in_time_for_the_expected_arrival() -> None:
    """Empty now, expected in three hours: eco until the preheat start, then comfort."""
    arrival = NOW + timedelta(hours=3)
    zone = _zone(Status.EMPTY)
    plan = _plan(NOW, zone, _outlook(3, 6), 17.0, 2.0)
    assert plan is not None
    assert plan.arrival == arrival
    assert plan.start == arrival - heating_time(17.0, 20.5, 2.0)
    assert _climate(zone, preheat=plan).reason is Hold.NOTHING_TO_DO
    later = plan.start + MIN
    preheating = decide_climate(
        CLIMATE,
        later,
        _zone(Status.EMPTY),
        preheat=plan,
        settings=SETTINGS,
        state=HEATING,
    )
    assert preheating.reason is Reason.PREHEAT
    assert preheating.mode is Mode.PREHEAT
    assert preheating.action == Action(
        "climate", "set_temperature", {"temperature": 20.5}
    )
    assert preheating.detail == {"arrival": arrival, "preheat_start": plan.start}


def test_preheat_keeps_comfort_for_the_grace_then_eco() -> None:
    """Nobody came: comfort for an hour after the expected arrival, then eco."""
    arrival = NOW
    outlook = _outlook(0, 4)
    zone = _zone(Status.EMPTY)
    within = _plan(NOW + 59 * MIN, zone, outlook, 20.5, 1.5)
    assert within is not None
    assert within.arrival == arrival
    after = _plan(NOW + 61 * MIN, zone, outlook, 20.5, 1.5)
    assert after is None


def test_no_preheat_on_a_trip() -> None:
    """Away for more than a day: the usual arrivals are not prepared."""
    outlook = _outlook(3, 6)
    short = _plan(NOW, _zone(Status.AWAY, 60 * 8), outlook, 15.0, 1.5)
    assert short is not None
    trip = _plan(NOW, _zone(Status.AWAY, 60 * 30), outlook, 15.0, 1.5)
    assert trip is None
    assert _plan(NOW, _zone(Status.EMPTY), None, 15.0, 1.5) is None


def test_guard_override_rate_limit_and_minimum_times() -> None:
    """Each safety rule stops the action it is about."""
    limits = Limits(
        min_on=5 * MIN, min_off=10 * MIN, max_actions_per_hour=3, override=2 * 60 * MIN
    )
    turn_off = Decision("light.a", Action("light", "turn_off"), Reason.NO_OCCUPANCY)
    turn_on = Decision("light.a", Action("light", "turn_on"), Reason.ARRIVAL)
    memory = Guard()
    assert guard(turn_off, NOW, NOW - 20 * MIN, memory, limits).blocked is None
    assert (
        guard(turn_off, NOW, NOW - 3 * MIN, memory, limits).blocked is Hold.MIN_ON_TIME
    )
    assert (
        guard(turn_on, NOW, NOW - 8 * MIN, memory, limits).blocked is Hold.MIN_OFF_TIME
    )
    memory.override_until = NOW + MIN
    assert guard(turn_off, NOW, NOW - 20 * MIN, memory, limits).blocked is Hold.OVERRIDE
    memory.override_until = NOW
    assert guard(turn_off, NOW, NOW - 20 * MIN, memory, limits).blocked is None
    for minutes in (50, 30, 10):
        memory.note_action(NOW - minutes * MIN)
    assert (
        guard(turn_off, NOW, NOW - 20 * MIN, memory, limits).blocked is Hold.RATE_LIMIT
    )
    # An action slides out of the hour.
    assert (
        guard(turn_off, NOW + 11 * MIN, NOW - 20 * MIN, memory, limits).blocked is None
    )


def test_guard_for_thermostats_and_frost() -> None:
    """A thermostat is changed at most once per minimum on time; frost protection
    passes an override and the minimum time but not the cap per hour."""
    limits = Limits(min_on=15 * MIN, max_actions_per_hour=2)
    change = Decision(
        CLIMATE, Action("climate", "set_temperature", {"temperature": 17}), Reason.EMPTY
    )
    frost = Decision(
        CLIMATE,
        Action("climate", "set_temperature", {"temperature": 7}),
        Reason.FROST,
        safety=True,
    )
    memory = Guard(override_until=NOW + 60 * MIN)
    memory.note_action(NOW - 5 * MIN)
    assert guard(change, NOW, None, memory, limits).blocked is Hold.OVERRIDE
    assert guard(frost, NOW, None, memory, limits).blocked is None
    memory.override_until = None
    assert guard(change, NOW, None, memory, limits).blocked is Hold.MIN_CHANGE_INTERVAL
    memory.note_action(NOW - 1 * MIN)
    assert guard(frost, NOW, None, memory, limits).blocked is Hold.RATE_LIMIT


def test_lights_off_after_the_set_time_and_never_on_unless_asked() -> None:
    """Off after N minutes without occupancy; on at arrival only when asked."""
    settings = LightSettings(off_after=15 * MIN)
    on = SwitchState(True, NOW - 60 * MIN)
    assert (
        decide_light("light.a", NOW, _zone(Status.EMPTY, 10), settings, on).action
        is None
    )
    off = decide_light("light.a", NOW, _zone(Status.EMPTY, 16), settings, on)
    assert off.action == Action("light", "turn_off")
    assert off.reason is Reason.NO_OCCUPANCY
    assert off.detail == {"minutes_without_occupancy": 16}
    assert (
        decide_light("light.a", NOW, _zone(Status.AWAY, 16), settings, on).action
        is not None
    )
    assert (
        decide_light("light.a", NOW, _zone(Status.UNKNOWN), settings, on).reason
        is Hold.UNKNOWN_OCCUPANCY
    )
    dark = SwitchState(False, NOW - 60 * MIN)
    arrived = _zone(Status.OCCUPIED, 1)
    assert decide_light("light.a", NOW, arrived, settings, dark).action is None
    asked = LightSettings(off_after=15 * MIN, on_at_arrival=True)
    assert decide_light("light.a", NOW, arrived, asked, dark).action == Action(
        "light", "turn_on"
    )
    # Switched off by hand after the arrival, or arrived a while ago: stays off.
    by_hand = SwitchState(False, NOW - 0.5 * MIN)
    assert decide_light("light.a", NOW, arrived, asked, by_hand).action is None
    assert (
        decide_light("light.a", NOW, _zone(Status.OCCUPIED, 10), asked, dark).action
        is None
    )
    assert (
        decide_light("light.a", NOW, arrived, asked, SwitchState(None)).reason
        is Hold.UNAVAILABLE
    )


def test_plan_run_on_the_schedule_and_in_a_recommended_window() -> None:
    """The schedule starts at the window's start; a provider's window is used when
    it fits; one run per daily window."""
    settings = RunSettings(
        window_start=time(10, 0), window_end=time(18, 0), duration=2 * 60 * MIN
    )
    morning = datetime(2027, 3, 1, 8, 0, tzinfo=PARIS)
    planned = plan_run(
        "switch.boiler", morning, PARIS, settings, after=None, provider=None
    )
    assert planned == RunWindow(
        datetime(2027, 3, 1, 10, 0, tzinfo=PARIS),
        datetime(2027, 3, 1, 12, 0, tzinfo=PARIS),
    )
    asked: list[DeferrableRun] = []

    def provider(run: DeferrableRun) -> tuple[datetime, datetime]:
        asked.append(run)
        return run.latest_end - run.duration, run.latest_end

    recommended = plan_run(
        "switch.boiler", morning, PARIS, settings, after=None, provider=provider
    )
    assert recommended.recommended
    assert recommended.end == datetime(2027, 3, 1, 18, 0, tzinfo=PARIS)
    assert asked[0] == DeferrableRun(
        "switch.boiler",
        2 * 60 * MIN,
        datetime(2027, 3, 1, 10, 0, tzinfo=PARIS),
        datetime(2027, 3, 1, 18, 0, tzinfo=PARIS),
    )
    # A window outside the bounds, or none: the schedule.
    assert not plan_run(
        "switch.boiler", morning, PARIS, settings, after=None, provider=lambda run: None
    ).recommended
    outside = plan_run(
        "switch.boiler",
        morning,
        PARIS,
        settings,
        after=None,
        provider=lambda run: (run.earliest - MIN, run.earliest),
    )
    assert not outside.recommended
    # After today's run: tomorrow's window.
    memory = Guard(planned=planned)
    memory.settle_run(datetime(2027, 3, 1, 12, 30, tzinfo=PARIS), False)
    assert memory.planned is None
    assert memory.last_run_end == planned.end
    tomorrow = plan_run(
        "switch.boiler",
        datetime(2027, 3, 1, 12, 30, tzinfo=PARIS),
        PARIS,
        settings,
        after=memory.last_run_end,
        provider=None,
    )
    assert tomorrow.start == datetime(2027, 3, 2, 10, 0, tzinfo=PARIS)


def test_plan_run_across_midnight_and_the_clock_change() -> None:
    """A night window crosses midnight; on the spring change it is an hour shorter."""
    settings = RunSettings(
        window_start=time(22, 0), window_end=time(6, 0), duration=3 * 60 * MIN
    )
    evening = datetime(2027, 3, 27, 21, 0, tzinfo=PARIS)  # the clock changes this night
    run = plan_run(
        "switch.pump",
        evening,
        PARIS,
        settings,
        after=None,
        provider=lambda r: (r.latest_end - r.duration, r.latest_end),
    )
    assert run.end == datetime(2027, 3, 28, 6, 0, tzinfo=PARIS)
    assert run.end - run.start == 3 * 60 * MIN
    # 03:00 summer time: three real hours before 06:00.
    assert run.start.astimezone(PARIS).hour == 3
    window = next(w for w in run_windows(evening, PARIS, settings) if w[1] == run.end)
    assert window[1] - window[0] == 7 * 60 * MIN


def test_deferrable_switch_runs_once_and_respects_manual_use() -> None:
    """On in its run, off when done; never off a load switched on by hand, never
    restarted after being stopped by hand."""
    run = RunWindow(NOW - 10 * MIN, NOW + 110 * MIN)
    memory = Guard()
    start = decide_switch(
        "switch.boiler", NOW, run, SwitchState(False, NOW - 60 * MIN), memory
    )
    assert start.action == Action("switch", "turn_on")
    assert start.reason is Reason.RUN_SCHEDULE
    memory.start_run(run)
    assert (
        decide_switch("switch.boiler", NOW, run, SwitchState(True, NOW), memory).action
        is None
    )
    # Stopped by hand: not started again in this run.
    assert (
        decide_switch(
            "switch.boiler", NOW + 30 * MIN, run, SwitchState(False, NOW), memory
        ).action
        is None
    )
    done = decide_switch("switch.boiler", run.end, run, SwitchState(True, NOW), memory)
    assert done.action == Action("switch", "turn_off")
    assert done.reason is Reason.RUN_DONE
    memory.settle_run(run.end, False)
    assert memory.run_until is None
    # Switched on by hand outside a run: left alone.
    idle = decide_switch(
        "switch.boiler", run.end + MIN, None, SwitchState(True, run.end), memory
    )
    assert idle.action is None
    assert (
        decide_switch("switch.boiler", NOW, run, SwitchState(None), Guard()).reason
        is Hold.UNAVAILABLE
    )


def test_guard_round_trips_through_json() -> None:
    """Overrides, runs, the actions of the last hour and the last action
    survive a restart: the cap per hour holds across it, and a dry run does
    not log its action again."""
    memory = Guard(
        override_until=NOW, planned=RunWindow(NOW, NOW + MIN, recommended=True)
    )
    memory.start_run(memory.planned)  # type: ignore[arg-type]
    action = Action("climate", "set_temperature", {"temperature": 17.0})
    memory.last_key = action.key
    memory.last_action = LastAction(NOW - 10 * MIN, "set to 17 °C (eco)", True)
    memory.note_action(NOW - 10 * MIN)
    again = Guard.from_dict(json.loads(json.dumps(memory.as_dict())))
    assert again.last_action == memory.last_action
    assert again.override_until == NOW
    assert again.planned == memory.planned
    assert again.run_until == NOW + MIN
    assert again.last_key == action.key
    assert again.actions == [NOW - 10 * MIN]
    assert again.actions_last_hour(NOW) == 1
    # Stored before these were kept: none.
    older = {
        k: v
        for k, v in memory.as_dict().items()
        if k not in ("actions", "last_key", "last_action")
    }
    assert Guard.from_dict(older).last_key is None
    assert Guard.from_dict(older).actions == []
    assert Guard.from_dict(older).last_action is None
    with pytest.raises(ValueError, match="needs its time"):
        Guard.from_dict({"last_action": {"message": "turned on"}})
    with pytest.raises(ValueError, match="not a time"):
        Guard.from_dict({"override_until": "yesterday"})
    with pytest.raises(ValueError, match="start before its end"):
        Guard.from_dict({"planned": {"start": NOW.isoformat(), "end": NOW.isoformat()}})


def test_describe() -> None:
    """Logbook words for each kind of action."""
    eco = Decision(
        CLIMATE,
        Action("climate", "set_temperature", {"temperature": 17.0}),
        Reason.EMPTY,
    )
    assert describe(eco) == "set to 17 °C (eco: the zone is empty)"
    frost = Decision(
        CLIMATE,
        Action("climate", "set_temperature", {"temperature": 7.5, "hvac_mode": "heat"}),
        Reason.FROST,
    )
    assert describe(frost) == "switched to heat and set to 7.5 °C (frost protection)"
    off = Decision("light.a", Action("light", "turn_off"), Reason.NO_OCCUPANCY)
    assert describe(off) == "turned off (nobody in the zone)"


def test_explain() -> None:
    """What the dashboard says of a decision: the action, the rule holding it
    back, or why nothing is done; every hold has its words."""
    off = Decision("light.a", Action("light", "turn_off"), Reason.NO_OCCUPANCY)
    assert explain(off) == "turned off (nobody in the zone)"
    held = off.blocked_by(Hold.MIN_ON_TIME)
    assert explain(held) == (
        "turned off (nobody in the zone), held back: on for less than the minimum"
        " on time"
    )
    idle = Decision("light.a", None, Hold.UNKNOWN_OCCUPANCY)
    assert explain(idle) == "occupancy unknown: nothing is changed"
    assert describe(idle) == explain(idle)
    assert set(HOLD_TEXT) == set(Hold)
