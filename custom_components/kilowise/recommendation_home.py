"""The home's day: its peak hours and what it is expected to cost.

A local day's hours are the measured kWh before the forecast starts and the
forecast after it; today's peak hour, the peak now and the future peak
periods (``engine.peaks``) and a day's expected cost at the prices are read
from them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from homeassistant.util import dt as dt_util
import numpy as np

from .engine.features import FloatArray
from .engine.forecasting import expected_energy
from .engine.peaks import day_peak, peak_mask, peak_periods
from .engine.prices import PriceSeries
from .engine.schedule import Profile, run_costs
from .recommendation_results import DayCost, Peak, Snapshot

if TYPE_CHECKING:
    from .coordinator import KilowiseForecast

HOUR = timedelta(hours=1)


def hourly_use(
    forecast: KilowiseForecast,
    start: datetime,
    end: datetime,
    expected: FloatArray | None = None,
) -> FloatArray:
    """kWh of each hour in ``[start, end)`` (UTC, on the hour).

    Measured kWh before the forecast, forecast after: ``expected`` is the
    forecast's kWh per hour to use (p50 by default). NaN where nothing is
    known.
    """
    fc = forecast.forecast
    ahead = fc.p50 if expected is None else expected
    history = forecast.history.kwh
    # Hours relative to the forecast's first: negative ones are measured.
    offsets = round((start - fc.start) / HOUR) + np.arange(
        max(0, round((end - start) / HOUR)), dtype=np.int64
    )
    values = np.full(offsets.shape, np.nan)
    future = (offsets >= 0) & (offsets < fc.hours)
    values[future] = ahead[offsets[future]]
    past = (offsets < 0) & (offsets >= -len(history))
    values[past] = history[len(history) + offsets[past]]
    return values


def day_hours(
    forecast: KilowiseForecast,
    now: datetime,
    days: int,
    expected: FloatArray | None = None,
) -> tuple[datetime, FloatArray]:
    """A local day's start (UTC) and its kWh per hour, ``days`` after today.

    A day of 23 or 25 hours (DST) has 23 or 25 values (see ``hourly_use``).
    """
    local_day = dt_util.as_local(now).date() + timedelta(days=days)
    start = dt_util.as_utc(dt_util.start_of_local_day(local_day))
    end = dt_util.as_utc(dt_util.start_of_local_day(local_day + timedelta(days=1)))
    return start, hourly_use(forecast, start, end, expected)


def compute_peaks(
    snapshot: Snapshot, forecast: KilowiseForecast | None, now: datetime
) -> None:
    """Fill in today's peak hour, the peak now, and the peak periods to come.

    One series from today's local midnight to the forecast's end (measured
    hours so far, the p50 forecast after), so that today's peaks are judged
    against the whole day, measured hours included, wherever they are shown.
    """
    if forecast is None:
        return
    fc = forecast.forecast
    start = dt_util.as_utc(dt_util.start_of_local_day(dt_util.as_local(now)))
    kwh = hourly_use(forecast, start, forecast.end)
    # A measured hour has no band: its p90 is what it used.
    p90 = hourly_use(forecast, start, forecast.end, fc.p90)
    hours = [start + i * HOUR for i in range(len(kwh))]
    days = np.array(
        [dt_util.as_local(hour).date().toordinal() for hour in hours], dtype=np.int64
    )
    today = days == days[0]
    top = day_peak(kwh[today])
    if top is not None:
        snapshot.peak_hour = hours[top]
        snapshot.peak_hour_kwh = round(float(kwh[top]), 3)
        snapshot.peak_hour_measured = snapshot.peak_hour < fc.start
    current = int((now - start) / HOUR)
    mask = peak_mask(kwh, days)
    snapshot.peak_now = (
        bool(mask[current]) if 0 <= current < len(kwh) and today[current] else None
    )
    for period in peak_periods(kwh, days):
        period_end = hours[period.stop - 1] + HOUR
        if period_end <= now:
            continue
        snapshot.peaks.append(
            Peak(
                start=hours[period.first],
                end=period_end,
                kwh=float(kwh[period.top]),
                p90_kwh=float(p90[period.top]),
            )
        )


def day_cost(
    prices: PriceSeries | None,
    forecast: KilowiseForecast | None,
    now: datetime,
    days: int,
) -> DayCost | None:
    """Expected cost of today (``days=0``) or tomorrow, where prices exist.

    Measured hours so far plus the expected rest, each hour at its mean
    price; unknown (with the reason) when a price or an hour is missing.
    """
    if prices is None:
        return None
    if forecast is None:
        return DayCost(None, None, "no_forecast")
    fc = forecast.forecast
    # A cost is an expectation: the mean estimated from p10/p50/p90.
    start, values = day_hours(
        forecast, now, days, expected_energy(fc.p10, fc.p50, fc.p90)
    )
    if np.any(np.isnan(values)):
        return DayCost(None, None, "energy_unknown")
    starts = np.array([(start + i * HOUR).timestamp() for i in range(len(values))])
    mean_price, uncovered = run_costs(prices.rate(), Profile.flat(1.0, 3600.0), starts)
    if np.any(uncovered > 1e-6):
        return DayCost(None, float(np.sum(values)), "prices_missing")
    return DayCost(float(np.dot(mean_price, values)), float(np.sum(values)), None)
