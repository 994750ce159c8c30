"""Occupancy: the zone's status from its sources, and the hour-of-week forecast."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from custom_components.kilowise.engine.occupancy import (
    HOURS_PER_WEEK,
    PRIOR_PROFILES,
    OccupancyModel,
    Prior,
    SourceHistory,
    SourceReading,
    Status,
    accuracy,
    brier,
    hour_of_week,
    hourly_shares,
    presence,
    status_timeline,
    zone_status,
)

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)  # a Monday, 13:00 in Paris
HOLD = timedelta(minutes=10)
STALE = timedelta(hours=24)
MIN = timedelta(minutes=1)


def _reading(entity_id: str, state: str | None, minutes_ago: float) -> SourceReading:
    """A source that changed ``minutes_ago``; an ``off`` sensor was on until then."""
    changed = NOW - minutes_ago * MIN
    return SourceReading(entity_id, state, changed, changed if state == "off" else None)


@pytest.mark.parametrize(
    ("entity_id", "state", "expected"),
    [
        ("binary_sensor.motion", "on", True),
        ("binary_sensor.motion", "off", False),
        ("binary_sensor.motion", "unavailable", None),
        ("person.alice", "home", True),
        ("person.alice", "not_home", False),
        ("person.alice", "Work", False),
        ("device_tracker.phone", "home", True),
        ("device_tracker.phone", "unknown", None),
        ("zone.home", "2", True),
        ("zone.home", "0", False),
        ("zone.home", "-1", None),
        ("zone.home", "nan", None),
        ("light.kitchen", "on", None),
    ],
)
def test_presence(entity_id: str, state: str, expected: bool | None) -> None:
    """Each source domain's states read as present, absent or unusable."""
    assert presence(entity_id, state) is expected


def test_room_sensor_decides_the_zone_and_holds() -> None:
    """A room sensor says occupied, and keeps saying it for the hold after it turns off."""
    on = zone_status([_reading("binary_sensor.motion", "on", 30)], NOW, HOLD, STALE)
    assert on.status is Status.OCCUPIED
    assert on.since == NOW - 30 * MIN
    held = zone_status([_reading("binary_sensor.motion", "off", 5)], NOW, HOLD, STALE)
    assert held.status is Status.OCCUPIED
    empty = zone_status([_reading("binary_sensor.motion", "off", 25)], NOW, HOLD, STALE)
    assert empty.status is Status.EMPTY
    assert empty.since == NOW - 25 * MIN + HOLD
    # Back from unavailable as off: no motion was seen, nothing to hold.
    back = SourceReading("binary_sensor.motion", "off", NOW - MIN, NOW - 3 * HOLD)
    assert zone_status([back], NOW, HOLD, STALE).status is Status.EMPTY


def test_away_needs_every_presence_source() -> None:
    """Away when all persons are away and the room is empty; empty while one is home."""
    room = _reading("binary_sensor.motion", "off", 60)
    away = zone_status(
        [
            room,
            _reading("person.alice", "not_home", 40),
            _reading("person.bob", "Work", 90),
        ],
        NOW,
        HOLD,
        STALE,
    )
    assert away.status is Status.AWAY
    # The zone became unoccupied when its last source turned absent.
    assert away.since == NOW - 40 * MIN
    empty = zone_status(
        [
            room,
            _reading("person.alice", "not_home", 40),
            _reading("person.bob", "home", 90),
        ],
        NOW,
        HOLD,
        STALE,
    )
    assert empty.status is Status.EMPTY
    # A person whose tracker is unavailable may be home: not away.
    unsure = zone_status(
        [
            room,
            _reading("person.alice", "not_home", 40),
            _reading("person.bob", "unavailable", 9),
        ],
        NOW,
        HOLD,
        STALE,
    )
    assert unsure.status is Status.EMPTY
    assert unsure.unusable == ("person.bob",)


def test_zone_without_room_sensors_follows_presence() -> None:
    """Without room sensors, somebody home occupies the zone; a zone count works too."""
    home = zone_status([_reading("zone.home", "1", 10)], NOW, HOLD, STALE)
    assert home.status is Status.OCCUPIED
    nobody = zone_status([_reading("zone.home", "0", 10)], NOW, HOLD, STALE)
    assert nobody.status is Status.AWAY
    unknown = zone_status(
        [
            _reading("person.alice", "not_home", 10),
            _reading("person.bob", "unknown", 10),
        ],
        NOW,
        HOLD,
        STALE,
    )
    assert unknown.status is Status.UNKNOWN
    assert zone_status([], NOW, HOLD, STALE).status is Status.UNKNOWN


def test_unusable_room_sensor_makes_the_zone_unknown_unless_another_is_on() -> None:
    """An unavailable or stuck room sensor could hide somebody: unknown, not empty."""
    unavailable = _reading("binary_sensor.a", "unavailable", 1)
    assert (
        zone_status(
            [unavailable, _reading("binary_sensor.b", "off", 60)], NOW, HOLD, STALE
        ).status
        is Status.UNKNOWN
    )
    assert (
        zone_status(
            [unavailable, _reading("binary_sensor.b", "on", 3)], NOW, HOLD, STALE
        ).status
        is Status.OCCUPIED
    )
    stuck = zone_status([_reading("binary_sensor.a", "on", 25 * 60)], NOW, HOLD, STALE)
    assert stuck.status is Status.UNKNOWN
    assert stuck.unusable == ("binary_sensor.a",)


def test_status_timeline_and_hourly_shares() -> None:
    """A motion sensor's history becomes the zone's statuses and each hour's share."""
    start = NOW - timedelta(hours=3)
    history = SourceHistory(
        "binary_sensor.motion",
        [
            (start - timedelta(hours=5), "off"),
            (start + 30 * MIN, "on"),
            (start + 50 * MIN, "off"),  # held until 60
            (start + 120 * MIN, "unavailable"),
            (start + 170 * MIN, "off"),
        ],
    )
    timeline = status_timeline([history], start, NOW, HOLD, STALE)
    assert timeline == [
        (start, Status.EMPTY),
        (start + 30 * MIN, Status.OCCUPIED),
        (start + 60 * MIN, Status.EMPTY),
        (start + 120 * MIN, Status.UNKNOWN),
        (start + 170 * MIN, Status.EMPTY),
    ]
    shares = hourly_shares(timeline, start, NOW)
    # The third hour is known for 10 minutes only: left out.
    assert shares == [(start, 0.5), (start + timedelta(hours=1), 0.0)]


def test_hour_of_week_is_local_and_follows_daylight_saving() -> None:
    """Monday 00:00 local is 0; the clock change keeps local hours."""
    assert hour_of_week(datetime(2027, 3, 1, 0, 0, tzinfo=PARIS), PARIS) == 0
    assert hour_of_week(datetime(2027, 3, 7, 23, 0, tzinfo=PARIS), PARIS) == 167
    # 2027-03-28 is the spring clock change in Paris: 01:00 UTC is 03:00 local.
    assert hour_of_week(datetime(2027, 3, 28, 1, 0, tzinfo=UTC), PARIS) == 6 * 24 + 3


def test_prior_profiles_are_probabilities() -> None:
    """Every prior has one probability per hour of the week."""
    for profile in PRIOR_PROFILES.values():
        assert profile.shape == (HOURS_PER_WEEK,)
        assert np.all((profile > 0) & (profile < 1))


def test_new_model_is_its_prior_and_learns_one_hour_at_a_time() -> None:
    """A new zone forecasts its prior; each folded hour moves its hour of week."""
    model = OccupancyModel(prior=Prior.HOME)
    monday_10 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # 10:00 Paris
    assert model.forecast(monday_10, 1, PARIS)[0] == pytest.approx(
        PRIOR_PROFILES[Prior.HOME][10]
    )
    before = model.probabilities()
    assert model.fold([(monday_10, 1.0)], PARIS) == 1
    after = model.probabilities()
    assert after[10] > before[10]
    # The same hour again is not counted twice.
    assert model.fold([(monday_10, 1.0)], PARIS) == 0
    assert model.learned_until == monday_10 + timedelta(hours=1)
    # Other weekdays at 10:00 move a little (pooled), the weekend does not.
    assert after[24 + 10] > before[24 + 10]
    assert after[5 * 24 + 10] == pytest.approx(before[5 * 24 + 10])


def test_model_learns_a_routine_and_forgets_an_old_one() -> None:
    """Weeks of a routine make it the forecast; a changed routine takes over."""
    model = OccupancyModel(prior=Prior.FLAT)
    start = datetime(2027, 1, 4, 0, 0, tzinfo=PARIS).astimezone(UTC)  # Monday

    def weeks(
        first: datetime, count: int, occupied_hours: range
    ) -> list[tuple[datetime, float]]:
        hours = []
        for index in range(count * HOURS_PER_WEEK):
            when = first + timedelta(hours=index)
            local = when.astimezone(PARIS)
            hours.append((when, 1.0 if local.hour in occupied_hours else 0.0))
        return hours

    model.fold(weeks(start, 4, range(18, 23)), PARIS)
    table = model.probabilities()
    assert table[18] > 0.8
    assert table[12] < 0.2
    model.fold(weeks(start + timedelta(weeks=4), 12, range(8, 12)), PARIS)
    table = model.probabilities()
    assert table[9] > 0.8
    assert table[19] < 0.2


def test_model_round_trips_through_json() -> None:
    """The stored form is plain JSON and reads back to the same forecast."""
    model = OccupancyModel(prior=Prior.DAYTIME)
    first = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)
    model.fold([(first + timedelta(hours=i), (i % 3) / 2) for i in range(50)], PARIS)
    text = json.dumps(model.as_dict())
    again = OccupancyModel.from_dict(json.loads(text), Prior.DAYTIME)
    assert np.allclose(again.probabilities(), model.probabilities(), atol=1e-5)
    assert again.learned_until == model.learned_until
    assert again.hours == 50


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ({"occupied": [0.0] * 10}, "finite numbers"),
        ({"observed": ["x"] * HOURS_PER_WEEK}, "not an occupancy model"),
        ({"occupied": [2.0] * HOURS_PER_WEEK}, "out of range"),
        ({"learned_until": "2027-03-01T00:00:00"}, "no time zone"),
        ({"occupied": None}, "finite numbers"),
    ],
)
def test_damaged_model_is_refused(damage: dict[str, object], message: str) -> None:
    """A store that does not hold a valid model raises ValueError."""
    data = {**OccupancyModel().as_dict(), **damage}
    with pytest.raises(ValueError, match=message):
        OccupancyModel.from_dict(data, Prior.HOME)


def test_advance_skips_unknown_hours() -> None:
    """Unknown hours are stepped over: not learned, not read again."""
    model = OccupancyModel()
    first = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)
    model.fold([(first, 1.0)], PARIS)
    model.advance(first + timedelta(hours=5))
    assert model.learned_until == first + timedelta(hours=5)
    assert model.fold([(first + timedelta(hours=2), 1.0)], PARIS) == 0
    assert model.hours == 1


def test_scores() -> None:
    """Brier score and accuracy of a few probabilities."""
    assert brier([1.0, 0.0, 0.5], [True, False, True]) == pytest.approx(0.25 / 3)
    assert accuracy([0.9, 0.2, 0.5], [True, True, False]) == pytest.approx(1 / 3)
