"""The heating and cooling estimate on the real Belgian house's nine temperatures."""

from __future__ import annotations

import math

import pytest

from model_builder.engine import thermal as th
from model_builder.thermal import OUTDOORS, ROOMS, RoomResult, evaluate_house


@pytest.fixture(scope="module")
def rooms() -> list[RoomResult]:
    """Each room replayed as in Home Assistant."""
    return evaluate_house()


def test_every_room_gets_plausible_rates(rooms: list[RoomResult]) -> None:
    """All nine series learn rates within the engine's bounds, from their own runs."""
    assert [r.column for r in rooms] == list(ROOMS)
    for room in rooms:
        assert th.HEATING_BOUNDS[0] <= room.heating_rate <= th.HEATING_BOUNDS[1]
        assert th.COOLING_BOUNDS[0] <= room.cooling_rate <= th.COOLING_BOUNDS[1]
        assert room.heating_runs >= 20
        assert room.cooling_runs >= 20


def test_learned_rates_predict_better_than_the_defaults(
    rooms: list[RoomResult],
) -> None:
    """Indoors, the learned heating rate predicts every room's warming runs better
    than the default; the cooling rate does so in most rooms."""
    indoor = [r for r in rooms if r.column != OUTDOORS]
    assert len(indoor) == 8
    for room in indoor:
        assert room.heating_error_learned_min < room.heating_error_default_min, (
            room.room
        )
    better_cooling = [
        r for r in indoor if r.cooling_error_learned_min < r.cooling_error_default_min
    ]
    assert len(better_cooling) >= 6


def test_preheat_is_on_time(rooms: list[RoomResult]) -> None:
    """A preheat planned with the learned rate starts early enough for at least
    80 % of each indoor room's warm-ups of 1 °C or more, and never hours late."""
    for room in rooms:
        if room.column == OUTDOORS or room.warm_ups < 5:
            continue
        assert room.preheat_on_time >= 0.8, room.room
        assert not math.isnan(room.preheat_early_min)
        assert room.preheat_early_min > 0, room.room
