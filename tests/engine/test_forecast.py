"""Forecasts from the bundled model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from custom_components.kilowise.const import BUNDLED_MODEL
from custom_components.kilowise.engine import (
    FULL_HISTORY_HOURS,
    HISTORY_HOURS,
    MAX_HORIZON,
    InsufficientHistoryError,
    forecast,
    read_artifact,
)

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 11, 2, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def artifact():  # type: ignore[no-untyped-def]
    return read_artifact(BUNDLED_MODEL)


def _history(hours: int = HISTORY_HOURS, seed: int = 3) -> np.ndarray:
    """A daily rhythm in Paris time with noise: high in the evening, low at night."""
    rng = np.random.default_rng(seed)
    hour = np.array(
        [
            (START - timedelta(hours=hours - i)).astimezone(PARIS).hour
            for i in range(hours)
        ]
    )
    return 0.3 + 0.8 * np.exp(-((hour - 19) ** 2) / 8) + rng.gamma(2, 0.05, hours)


def test_forecast_shape_and_order(artifact) -> None:  # type: ignore[no-untyped-def]
    """48 hours, ordered quantiles, no negative energy, on the hour."""
    result = forecast(artifact, _history(), START + timedelta(minutes=7), PARIS)
    assert result.hours == MAX_HORIZON
    assert result.start == START
    assert (result.p10 <= result.p50).all()
    assert (result.p50 <= result.p90).all()
    assert (result.p10 >= 0).all()
    assert result.history_hours == FULL_HISTORY_HOURS
    assert result.notes == ()
    assert result.hour_start(47) == START + timedelta(hours=47)


def test_forecast_follows_the_daily_rhythm(artifact) -> None:  # type: ignore[no-untyped-def]
    """The evening peak of the history shows up in the forecast."""
    result = forecast(artifact, _history(), START, PARIS)
    local_hours = [
        (START + timedelta(hours=i)).astimezone(PARIS).hour for i in range(48)
    ]
    evening = [p for p, h in zip(result.p50, local_hours, strict=True) if h in (19, 20)]
    night = [p for p, h in zip(result.p50, local_hours, strict=True) if h in (3, 4)]
    assert min(evening) > max(night)


def test_forecast_is_deterministic_and_scale_free(artifact) -> None:  # type: ignore[no-untyped-def]
    """Same history, same numbers; a home twice as large, twice the energy."""
    history = _history()
    one = forecast(artifact, history, START, PARIS)
    again = forecast(artifact, history.copy(), START, PARIS)
    double = forecast(artifact, history * 2, START, PARIS)
    np.testing.assert_array_equal(one.p50, again.p50)
    np.testing.assert_array_equal(one.p50 * 2, double.p50)
    np.testing.assert_array_equal(one.p90 * 2, double.p90)


def test_partial_history_is_reported(artifact) -> None:  # type: ignore[no-untyped-def]
    """Three days of history still forecast, and say so."""
    history = _history(72)
    history[-5] = np.nan
    result = forecast(artifact, history, START, PARIS)
    assert result.history_hours == 71
    assert result.notes == ("partial_history", "gaps_last_week")
    assert np.isfinite(result.p50).all()


def test_no_history_no_forecast(artifact) -> None:  # type: ignore[no-untyped-def]
    """An empty week cannot set the home's level."""
    with pytest.raises(InsufficientHistoryError):
        forecast(artifact, np.full(500, np.nan), START, PARIS)


def test_hours_out_of_range(artifact) -> None:  # type: ignore[no-untyped-def]
    """The model forecasts 1 to 48 hours."""
    with pytest.raises(ValueError, match="between 1 and 48"):
        forecast(artifact, _history(), START, PARIS, hours=49)
