"""Per-home calibration: the factors, the band, the acceptance rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from custom_components.kilowise.const import BUNDLED_MODEL
from custom_components.kilowise.engine import forecast, read_artifact
from custom_components.kilowise.engine.adaptation import (
    CHECK_DAYS,
    FIT_DAYS,
    SHRINK_BAND_HOURS,
    SHRINK_HOUR_HOURS,
    Calibration,
    Pairs,
    Reason,
    adapt,
    day_ahead_pairs,
    fit_calibration,
    score,
)
from custom_components.kilowise.engine.features import FEATURE_NAMES

COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}
START = datetime(2027, 1, 4, tzinfo=UTC)  # a Monday, midnight UTC
DAYS = 60


def _pairs(hours: np.ndarray, raw: np.ndarray, actual: np.ndarray) -> Pairs:
    n = len(hours)
    features = np.zeros((n, len(FEATURE_NAMES)))
    features[:, COLUMN["hour_of_day"]] = hours
    return Pairs(
        features=features,
        raw=np.asarray(raw, dtype=np.float64),
        level=np.ones(n),
        actual=np.asarray(actual, dtype=np.float64),
        naive=np.full(n, 1.0),
        target=np.arange(n, dtype=np.int64),
        origin=np.zeros(n, dtype=np.int64),
    )


def test_adjust_scales_the_band_then_the_hour() -> None:
    """p50 is multiplied by the hour's factor; the band is stretched around it."""
    factor = np.ones(24)
    factor[7] = 1.2
    calibration = Calibration(factor, lower_scale=0.5, upper_scale=2.0, fit_hours=1)
    features = np.zeros((2, len(FEATURE_NAMES)))
    features[:, COLUMN["hour_of_day"]] = [7, 8]
    # Unsorted and negative outputs are sorted and floored first, as the
    # forecast does.
    raw = np.array([[1.0, 0.6, 1.2], [-0.1, 0.5, 0.7]])
    adjusted = calibration.adjust(features, raw)
    np.testing.assert_allclose(
        adjusted,
        [
            [1.2 * (1.0 - 0.5 * 0.4), 1.2 * 1.0, 1.2 * (1.0 + 2.0 * 0.2)],
            [0.5 - 0.5 * 0.5, 0.5, 0.5 + 2.0 * 0.2],
        ],
    )


def test_fit_finds_a_biased_hour_and_shrinks_it() -> None:
    """Actual 30 % above the median at 18:00: that hour's factor moves up,
    by n / (n + SHRINK_HOUR_HOURS) of the way; other hours stay at 1."""
    days = 20
    hours = np.tile(np.arange(24), days)
    raw = np.tile([0.5, 1.0, 1.5], (len(hours), 1))
    actual = np.where(hours == 18, 1.3, 1.0)
    calibration = fit_calibration(_pairs(hours, raw, actual))
    assert calibration is not None
    expected = 1 + days / (days + SHRINK_HOUR_HOURS) * 0.3
    assert calibration.hour_factor[18] == pytest.approx(expected)
    assert np.all(np.delete(calibration.hour_factor, 18) == 1.0)
    assert calibration.fit_hours == len(hours)


def test_fit_narrows_a_band_that_is_too_wide() -> None:
    """Every actual inside a band of ±0.5: the scales fall towards the pinball
    optimum, shrunk by n / (n + SHRINK_BAND_HOURS)."""
    n = 200
    hours = np.full(n, 12)
    raw = np.tile([0.5, 1.0, 1.5], (n, 1))
    # 140 hours right on the median, 60 hours 0.1 below it: the 90 % point of
    # (p50 - actual) / (p50 - p10) is 0.2; of (actual - p50) / (p90 - p50), 0.
    actual = np.concatenate((np.full(140, 1.0), np.full(60, 0.9)))
    calibration = fit_calibration(_pairs(hours, raw, actual))
    assert calibration is not None
    weight = n / (n + SHRINK_BAND_HOURS)
    assert calibration.hour_factor[12] == 1.0  # the median ratio is 1
    assert calibration.lower_scale == pytest.approx(1 + weight * (0.2 - 1))
    assert calibration.upper_scale == pytest.approx(1 + weight * (0.0 - 1))


def test_fit_needs_enough_hours() -> None:
    """Fewer than four days of known actuals fit nothing."""
    hours = np.arange(95) % 24
    raw = np.tile([0.5, 1.0, 1.5], (95, 1))
    assert fit_calibration(_pairs(hours, raw, np.ones(95))) is None
    actual = np.ones(200)
    actual[:150] = np.nan
    assert (
        fit_calibration(
            _pairs(np.arange(200) % 24, np.tile([0.5, 1, 1.5], (200, 1)), actual)
        )
        is None
    )


def test_calibration_round_trip_and_refusals() -> None:
    """Stored calibrations read back equal; broken ones are refused."""
    factor = np.linspace(0.9, 1.1, 24)
    calibration = Calibration(factor, 0.8, 1.2, 300)
    again = Calibration.from_dict(calibration.as_dict())
    np.testing.assert_allclose(again.hour_factor, factor, atol=1e-6)
    assert (again.lower_scale, again.upper_scale, again.fit_hours) == (0.8, 1.2, 300)
    good = calibration.as_dict()
    for broken in (
        {**good, "hour_factor": [1.0] * 23},
        {**good, "hour_factor": [5.0] * 24},
        {**good, "lower_scale": 9.0},
        {key: value for key, value in good.items() if key != "upper_scale"},
        {**good, "hour_factor": None},
    ):
        with pytest.raises(ValueError, match=r"calibration|hour_factor|band scales"):
            Calibration.from_dict(broken)


def _home() -> np.ndarray:
    """Sixty days of an exactly repeating daily profile (kWh per hour)."""
    day = 0.4 + 0.6 * np.exp(-((np.arange(24) - 19) ** 2) / 6)
    return np.tile(day, DAYS)


def _model(bias_hours: tuple[int, ...] = ()) -> object:
    """A stand-in model: p50 is the mean of the same hour over 7 days (exact on
    a repeating profile), 20 % low at ``bias_hours``; p10/p90 at ±20 %."""

    def predict(rows: np.ndarray) -> np.ndarray:
        middle = rows[:, COLUMN["same_hour_mean_7d"]].copy()
        low = np.isin(rows[:, COLUMN["hour_of_day"]], bias_hours)
        middle[low] *= 0.8
        return np.column_stack((0.8 * middle, middle, 1.2 * middle))

    return predict


def test_adapt_keeps_a_calibration_that_wins_the_check_week() -> None:
    """A model 20 % low at 18-21 h: the calibration lifts those hours, wins the
    last week on MAE and pinball loss, and is kept."""
    result = adapt(_model((18, 19, 20, 21)), _home(), START, UTC)  # type: ignore[arg-type]
    assert result.reason == Reason.ADAPTED
    assert result.accepted
    assert result.calibration is result.candidate
    calibration = result.calibration
    assert calibration is not None
    # 21 fitted days give each hour 21 observations, all with ratio 1 / 0.8.
    expected = 1 + FIT_DAYS / (FIT_DAYS + SHRINK_HOUR_HOURS) * (1 / 0.8 - 1)
    np.testing.assert_allclose(calibration.hour_factor[18:22], expected)
    np.testing.assert_allclose(np.delete(calibration.hour_factor, range(18, 22)), 1.0)
    assert result.before is not None
    assert result.after is not None
    assert result.after.mae_kwh < result.before.mae_kwh
    assert result.after.pinball <= result.before.pinball
    assert result.before.hours == CHECK_DAYS * 24
    assert result.fit_hours == FIT_DAYS * 24
    # The windows: the last seven whole days (the series ends at midnight, so
    # its last day is whole), and the 21 days before them.
    assert result.check_end == START + timedelta(days=DAYS)
    assert result.check_start == START + timedelta(days=DAYS - CHECK_DAYS)
    assert result.fit_start == START + timedelta(days=DAYS - CHECK_DAYS - FIT_DAYS)


def test_adapt_keeps_the_bundled_model_when_nothing_is_gained() -> None:
    """An exact model: the calibration can only narrow the band, which leaves
    the MAE as it is, so the bundled model stays."""
    result = adapt(_model(), _home(), START, UTC)  # type: ignore[arg-type]
    assert result.reason == Reason.NOT_BETTER
    assert not result.accepted
    assert result.calibration is None
    assert result.candidate is not None
    assert result.before is not None
    assert result.after is not None
    assert result.after.mae_kwh == pytest.approx(result.before.mae_kwh)


def test_adapt_waits_for_two_weeks() -> None:
    """Ten days of history are not enough to fit and check."""
    result = adapt(_model(), _home()[: 10 * 24], START, UTC)  # type: ignore[arg-type]
    assert result.reason == Reason.NOT_ENOUGH_HISTORY
    assert result.calibration is None
    # Sixteen days are: a week to fit on (from the second day) and a week to check.
    result = adapt(_model((19,)), _home()[: 16 * 24], START, UTC)  # type: ignore[arg-type]
    assert result.reason in (Reason.ADAPTED, Reason.NOT_BETTER)
    assert result.before is not None
    assert result.before.hours == CHECK_DAYS * 24


def test_pairs_are_day_ahead_and_walk_forward() -> None:
    """Each day is forecast at its midnight from the hours before it alone."""
    series = _home()
    seen: list[np.ndarray] = []

    def predict(rows: np.ndarray) -> np.ndarray:
        seen.append(rows)
        return np.tile([0.5, 1.0, 1.5], (len(rows), 1))

    origins = np.array([30 * 24, 31 * 24], dtype=np.int64)
    pairs = day_ahead_pairs(predict, series, START, UTC, origins)
    assert len(pairs) == 48
    np.testing.assert_array_equal(pairs.target, np.arange(30 * 24, 32 * 24))
    np.testing.assert_array_equal(pairs.origin, np.repeat(origins, 24))
    np.testing.assert_array_equal(
        pairs.features[:24, COLUMN["horizon"]], np.arange(1, 25)
    )
    np.testing.assert_allclose(pairs.actual, series[30 * 24 : 32 * 24])
    np.testing.assert_allclose(pairs.naive, series[23 * 24 : 25 * 24])
    # Changing the day being forecast changes none of its features.
    changed = series.copy()
    changed[30 * 24 :] = 99.0
    again = day_ahead_pairs(predict, changed, START, UTC, origins[:1])
    np.testing.assert_array_equal(again.features, pairs.features[:24])


def test_score_by_hand() -> None:
    """MAE, MASE, coverage and pinball loss on four hours."""
    raw = np.tile([0.5, 1.0, 1.5], (4, 1))
    pairs = _pairs(np.zeros(4), raw, np.array([1.0, 2.0, 0.4, 1.2]))
    pairs = Pairs(
        pairs.features,
        pairs.raw,
        pairs.level,
        pairs.actual,
        np.array([1.5, 1.0, 0.4, np.nan]),  # the last hour has no week-ago value
        pairs.target,
        pairs.origin,
    )
    result = score(pairs)
    assert result is not None
    assert result.hours == 3
    assert result.mae_kwh == pytest.approx((0 + 1.0 + 0.6) / 3)
    assert result.mase_weekly == pytest.approx((0 + 1.0 + 0.6) / (0.5 + 1.0 + 0))
    assert result.coverage_p10_p90 == pytest.approx(1 / 3)
    pinball = (
        np.mean([0.1 * 0.5, 0.1 * 1.5, 0.9 * 0.1])  # p10 = 0.5
        + np.mean([0.0, 0.5 * 1.0, 0.5 * 0.6])  # p50 = 1.0
        + np.mean([0.1 * 0.5, 0.9 * 0.5, 0.1 * 1.1])  # p90 = 1.5
    ) / 3
    assert result.pinball == pytest.approx(pinball)


def test_forecast_applies_an_adjustment() -> None:
    """The engine's forecast takes the calibration's adjustment as it is."""
    artifact = read_artifact(BUNDLED_MODEL)
    history = _home()[: 30 * 24]
    plain = forecast(artifact, history, START + timedelta(days=30), UTC)
    factor = np.full(24, 1.25)
    calibration = Calibration(factor, 1.0, 1.0, 1)
    adjusted = forecast(
        artifact, history, START + timedelta(days=30), UTC, adjust=calibration.adjust
    )
    np.testing.assert_allclose(adjusted.p50, 1.25 * plain.p50)
    np.testing.assert_allclose(adjusted.p10, 1.25 * plain.p10)
    np.testing.assert_allclose(adjusted.p90, 1.25 * plain.p90)
    assert adjusted.notes == plain.notes
