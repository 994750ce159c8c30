"""The best start of one run, from what is known now.

:func:`plan_run` evaluates every admissible start of a run in a window
(``engine.schedule``, exact) on the prices when they can be used, else on the
household's expected load, and explains its answer: the fallback it took,
what it cut, the predicted peak it avoids. :func:`plan_appliance` does the
same for a configured appliance in its own daily window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from homeassistant.util import dt as dt_util
import numpy as np

from .engine.prices import PriceError, PriceSeries
from .engine.schedule import Profile, Rate, Schedule, schedule
from .local_time import local_iso
from .recommendation_appliance import Appliance, daily_window
from .recommendation_results import (
    BASIS_LOAD,
    BASIS_PRICES,
    Option,
    Peak,
    Recommendation,
    RecommendationError,
)

if TYPE_CHECKING:
    from .coordinator import KilowiseForecast

DEFAULT_ALTERNATIVES = 3


@dataclass(frozen=True, slots=True)
class Conditions:
    """What a plan rests on: the forecast, the prices (or why none), the peaks."""

    forecast: KilowiseForecast | None
    prices: PriceSeries | None
    price_error: PriceError | None
    peaks: list[Peak]
    home_currency: str


def _window_peak(peaks: list[Peak], start: datetime, end: datetime) -> Peak | None:
    """The highest predicted peak period overlapping a window."""
    overlapping = [peak for peak in peaks if peak.end > start and peak.start < end]
    return max(overlapping, key=lambda peak: peak.kwh, default=None)


def plan_run(
    conditions: Conditions,
    profile: Profile,
    window_start: datetime | None,
    window_end: datetime | None,
    *,
    now: datetime,
    alternatives: int = DEFAULT_ALTERNATIVES,
    appliance: Appliance | None = None,
) -> Recommendation:
    """The best start of a run within a window, exactly, with alternatives.

    With usable prices the cost of every admissible start is computed
    (``engine.schedule``); without prices, or when they cannot be used
    (the response's ``reason.fallback`` says why), the run goes where the
    household's expected load is lowest. Raises ``RecommendationError``.
    """
    # Whole seconds: a start is never meant to the microsecond.
    now = now.replace(microsecond=0)
    duration = timedelta(seconds=profile.duration_seconds)
    forecast = conditions.forecast
    series = conditions.prices
    notes: list[str] = []
    if window_end is not None and window_end <= now:
        raise RecommendationError("window_in_past", end=str(local_iso(window_end)))
    if window_start is None or window_start < now:
        if window_start is not None:
            notes.append("window_start_moved_to_now")
        window_start = now
    horizon_ends = [forecast.end] if forecast is not None else []
    if series is not None and series.last_end is not None:
        horizon_ends.append(dt_util.utc_from_timestamp(series.last_end))
    if window_end is None:
        if not horizon_ends:
            raise RecommendationError("no_forecast_no_prices")
        window_end = max(horizon_ends)
    if window_end - window_start < duration:
        raise RecommendationError(
            "window_too_short",
            window=str(window_end - window_start),
            duration=str(duration),
        )
    start_s, end_s = window_start.timestamp(), window_end.timestamp()
    error = conditions.price_error
    fallback: str | None = None if error is None else error.key
    result: Schedule | None = None
    basis = BASIS_PRICES
    if series is not None:
        result = schedule(series.rate(), profile, start_s, end_s)
        if result.empty:
            fallback = (
                "prices_end_before_window"
                if series.last_end is not None
                and series.last_end < start_s + profile.duration_seconds
                else "prices_missing_in_window"
            )
            result = None
        elif series.last_end is not None and series.last_end < end_s:
            notes.append("window_cut_to_known_prices")
        notes.extend(series.notes)
        if result is not None and series.currency != conditions.home_currency:
            # Costs stay in the source's currency; never converted.
            notes.append("currency_not_home")
    if result is None:
        basis = BASIS_LOAD
        if forecast is None:
            raise RecommendationError("no_forecast_no_prices")
        fc = forecast.forecast
        result = schedule(
            Rate.hourly(fc.start.timestamp(), fc.p50), profile, start_s, end_s
        )
        if result.empty:
            raise RecommendationError(
                "window_outside_forecast", end=str(local_iso(forecast.end))
            )
        if forecast.end < window_end:
            notes.append("window_cut_to_forecast")
    run = profile.duration_seconds
    ranked = result.ranked(1 + max(alternatives, 0), separation=run)

    def option(index: int) -> Option:
        start = float(result.starts[index])
        return Option(
            dt_util.utc_from_timestamp(start),
            dt_util.utc_from_timestamp(start + run),
            float(result.costs[index]),
        )

    now_value = result.cost_at(start_s)
    peak = _window_peak(conditions.peaks, window_start, window_end)
    return Recommendation(
        basis=basis,
        currency=series.currency if basis == BASIS_PRICES and series else None,
        energy_kwh=profile.total_kwh,
        duration=duration,
        window_start=window_start,
        window_end=window_end,
        best=option(ranked[0]),
        now=None
        if now_value is None
        else Option(window_start, window_start + duration, now_value),
        alternatives=[option(index) for index in ranked[1:]],
        worst_value=float(np.max(result.costs)),
        starts_evaluated=len(result.starts),
        as_of=now,
        peak_start=None if peak is None else peak.start,
        peak_end=None if peak is None else peak.end,
        fallback=fallback if basis == BASIS_LOAD else None,
        notes=notes,
        appliance=appliance,
    )


def plan_appliance(
    conditions: Conditions,
    appliance: Appliance,
    *,
    now: datetime,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    alternatives: int = DEFAULT_ALTERNATIVES,
) -> Recommendation:
    """Plan a configured appliance, in its own daily window unless one is given."""
    if window_start is None and window_end is None:
        window = daily_window(
            now,
            appliance.earliest,
            appliance.latest_end,
            timedelta(seconds=appliance.profile.duration_seconds),
            dt_util.get_default_time_zone(),
        )
        if window is not None:
            window_start, window_end = window
    return plan_run(
        conditions,
        appliance.profile,
        window_start,
        window_end,
        now=now,
        alternatives=alternatives,
        appliance=appliance,
    )
