"""The occupancy forecast on the real office (UCI occupancy data)."""

from __future__ import annotations

from datetime import timedelta
import itertools

import pytest

from model_builder.engine import occupancy as occ
from model_builder.occupancy import (
    OFFICE_TIME_ZONE,
    VARIANTS,
    load_office,
    office_hours,
    replay,
)


@pytest.fixture(scope="module")
def shares() -> list:
    """The office's known hours and their occupied share."""
    return office_hours(load_office())


def test_office_history_has_its_gaps(shares: list) -> None:
    """The three published files leave two gaps; those hours are unknown."""
    starts = [start for start, _share in shares]
    gaps = [
        (a.astimezone(OFFICE_TIME_ZONE), b.astimezone(OFFICE_TIME_ZONE))
        for a, b in itertools.pairwise(starts)
        if b - a > timedelta(hours=1)
    ]
    assert len(gaps) == 2
    assert all(0.0 <= share <= 1.0 for _start, share in shares)
    # Weekends are empty, weekday working hours mostly occupied.
    weekend = [s for t, s in shares if t.astimezone(OFFICE_TIME_ZONE).weekday() >= 5]
    assert weekend
    assert max(weekend) == 0.0


def test_forecast_beats_the_constant_and_matches_last_week(shares: list) -> None:
    """Replayed as a new install: far better than a constant, as good as the same
    hour last week on this regular office (Brier within 0.01, accuracy within 2 %)."""
    result = replay(shares, VARIANTS)
    scores = {s.name: s for s in result.scores}
    model = scores["Kilowise forecast (prior: daytime)"]
    constant = scores["constant (share of occupied hours so far)"]
    last_week = scores["same hour last week"]
    assert result.hours_scored > 100
    assert model.brier < constant.brier / 2
    assert model.accuracy > constant.accuracy
    assert model.brier <= last_week.brier + 0.01
    assert model.accuracy >= last_week.accuracy - 0.02
    # Learning matters: the wrong prior is overcome, the right one is improved on.
    assert scores["Kilowise forecast (prior: home, the wrong one)"].brier < (
        scores["prior alone (home)"].brier / 5
    )
    assert model.brier < scores["prior alone (daytime)"].brier
    assert 0.0 <= model.brier <= 0.25


def test_replay_needs_a_week(shares: list) -> None:
    """Fewer than eight days leave no hour with a week-old value to compare with."""
    with pytest.raises(ValueError, match="a week earlier"):
        replay(shares[:100])
    assert occ.OCCUPIED_SHARE == 0.5
