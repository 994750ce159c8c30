"""Thermal estimate: segments of a thermostat's history, learned rates, preheat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json

import pytest

from custom_components.kilowise.engine.thermal import (
    DEFAULT_COOLING_RATE,
    DEFAULT_HEATING_RATE,
    MIN_SEGMENTS,
    PREHEAT_MARGIN,
    PREHEAT_SLACK,
    Kind,
    ThermalModel,
    ThermalSample,
    heating_time,
    preheat_start,
    segments,
)

T0 = datetime(2027, 1, 11, 5, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def simulate(
    hours: float,
    *,
    start_temp: float = 17.0,
    heat_rate: float = 1.6,
    cool_rate: float = 0.4,
    schedule: tuple[tuple[float, float], ...] = (
        (1.0, 19.0),
        (8.0, 21.0),
        (10.0, 17.0),
    ),
    step: timedelta = timedelta(minutes=5),
    first: datetime = T0,
) -> list[ThermalSample]:
    """A thermostat's history: a room heated at ``heat_rate`` towards the target.

    ``schedule`` gives (hour, target); the thermostat heats below target - 0.2
    and idles above target + 0.2, like a generic thermostat with tolerances.
    """
    samples = []
    temperature = start_temp
    target = schedule[0][1]
    heating = False
    moment = first
    end = first + timedelta(hours=hours)
    while moment <= end:
        elapsed = (moment - first) / timedelta(hours=1)
        for at, value in schedule:
            if elapsed >= at:
                target = value
        if temperature < target - 0.2:
            heating = True
        elif temperature > target + 0.2:
            heating = False
        samples.append(
            ThermalSample(
                moment, round(temperature, 1), target, "heating" if heating else "idle"
            )
        )
        hours_step = step / timedelta(hours=1)
        temperature += (heat_rate if heating else -cool_rate) * hours_step
        moment += step
    return samples


def test_segments_of_a_heated_room() -> None:
    """Heating up to the target and cooling down after a setback are segments."""
    found = segments(simulate(24))
    kinds = [s.kind for s in found]
    assert Kind.HEATING in kinds
    assert Kind.COOLING in kinds
    for segment in found:
        # Temperatures come in tenths of a degree: a short drift of 0.3 °C
        # reads its rate within a third.
        expected = 1.6 if segment.kind is Kind.HEATING else 0.4
        assert segment.rate == pytest.approx(expected, rel=0.35)
        assert segment.end - segment.start >= timedelta(minutes=30)
    # The setback from 21 to 17 °C is one long cooling segment.
    longest = max((s for s in found if s.kind is Kind.COOLING), key=lambda s: s.hours)
    assert longest.t_start >= 20.8
    assert longest.t_end <= 17.1
    assert longest.rate == pytest.approx(0.4, rel=0.05)


def test_holding_the_target_is_not_heating() -> None:
    """A thermostat cycling around its target gives no heating segment: its
    bursts near the target say nothing of how fast the room heats up. The
    drifts above the target between bursts are the room cooling on its own."""
    holding = segments(simulate(6, start_temp=19.0, schedule=((0.0, 19.0),)))
    assert holding
    assert all(s.kind is Kind.COOLING for s in holding)


def test_unknown_temperature_or_action_breaks_a_run() -> None:
    """Samples without temperature or with another action end the run there."""
    base = simulate(4, schedule=((0.0, 21.0),))
    broken = [
        ThermalSample(s.time, None if i == 12 else s.temperature, s.target, s.action)
        for i, s in enumerate(base)
    ]
    assert all(
        s.end <= broken[12].time or s.start >= broken[12].time for s in segments(broken)
    )
    fan = [ThermalSample(s.time, s.temperature, s.target, "fan") for s in base]
    assert segments(fan) == []


def test_rates_default_until_enough_segments() -> None:
    """The defaults hold until MIN_SEGMENTS heating segments are learned."""
    model = ThermalModel()
    assert model.heating_rate == DEFAULT_HEATING_RATE
    assert model.cooling_rate == DEFAULT_COOLING_RATE
    assert not model.learned
    day = timedelta(days=1)
    for n in range(MIN_SEGMENTS):
        samples = simulate(14, first=T0 + n * day)
        model.learn(samples, samples[-1].time)
    assert model.learned
    assert model.heating_rate == pytest.approx(1.6, rel=0.2)
    assert model.cooling_rate == pytest.approx(0.4, rel=0.25)


def test_overlapping_reads_count_each_segment_once() -> None:
    """Reading hours again (the integration re-reads a margin) adds nothing twice,
    and a segment cut by a read is counted when a later read sees it end."""
    samples = simulate(14)
    whole = ThermalModel()
    whole.learn(samples, samples[-1].time)
    pieces = ThermalModel()
    cut = samples[0].time + timedelta(hours=1, minutes=20)  # inside the first heat-up
    pieces.learn([s for s in samples if s.time <= cut], cut)
    overlap = cut - timedelta(hours=3)
    pieces.learn([s for s in samples if s.time >= overlap], samples[-1].time)
    assert pieces.heating == whole.heating
    assert pieces.cooling == whole.cooling


def test_model_round_trips_and_refuses_damage() -> None:
    """Plain JSON in, the same rates out; nonsense raises ValueError."""
    model = ThermalModel()
    samples = simulate(14)
    model.learn(samples, samples[-1].time)
    again = ThermalModel.from_dict(json.loads(json.dumps(model.as_dict())))
    assert again.heating == model.heating
    assert again.learned_until == model.learned_until
    for damage, message in (
        ({"heating": ["x"]}, "not a thermal model"),
        ({"cooling": [float("nan")]}, "finite"),
        ({"learned_until": "2027-01-01"}, "no time zone"),
    ):
        with pytest.raises(ValueError, match=message):
            ThermalModel.from_dict({**model.as_dict(), **damage})


def test_heating_time_has_a_margin() -> None:
    """Three degrees at 1.5 °C/h: two hours, with the margin and the slack."""
    assert (
        heating_time(17.0, 20.0, 1.5)
        == timedelta(hours=2 * PREHEAT_MARGIN) + PREHEAT_SLACK
    )
    assert heating_time(20.5, 20.0, 1.5) == timedelta(0)


def _start(
    arrival: datetime,
    current: float | None,
    *,
    rate: float = 1.5,
    cap: float = 5.0,
) -> datetime:
    """Preheat start to 20 °C from a setback of 17 °C, cooling at 0.3 °C/h."""
    return preheat_start(
        T0,
        arrival,
        current=current,
        comfort=20.0,
        setback=17.0,
        heating_rate=rate,
        cooling_rate=0.3,
        max_lead=timedelta(hours=cap),
    )


def test_preheat_start_accounts_for_cooling_and_the_cap() -> None:
    """Later start when the room is warm, never before the cap, now when late."""
    now = T0
    arrival = now + timedelta(hours=4)
    from_setback = _start(arrival, 17.0)
    assert arrival - from_setback == heating_time(17.0, 20.0, 1.5)
    # A room still at 19 °C cools towards 17 °C meanwhile: its start is later
    # than from 17 °C, but earlier than if it stayed at 19 °C.
    warm = _start(arrival, 19.0)
    assert from_setback < warm < arrival - heating_time(19.0, 20.0, 1.5)
    # Check the found start: the room cooled, then heats just in time.
    cooled = 19.0 - 0.3 * (warm - now) / timedelta(hours=1)
    assert warm + heating_time(cooled, 20.0, 1.5) == pytest.approx(arrival, abs=MIN)
    assert _start(arrival, 10.0, rate=0.5, cap=2.0) == arrival - timedelta(hours=2)
    assert _start(now + timedelta(minutes=20), 17.0) == now
    assert _start(arrival, None) == from_setback
