"""Predicted peaks of a home's use: the hours that stand out within their day.

One rule, used by the "peak expected now" sensor, the peak warning event and
the reasons given by recommendations: an hour is a *peak hour* when its
expected use reaches ``PEAK_SHARE`` of the highest hour of its local day;
consecutive peak hours form a *peak period*, and the day's *peak hour* is its
highest hour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .features import FloatArray

PEAK_SHARE = 0.9
"""Share of the day's highest hour from which an hour is a peak hour."""


@dataclass(frozen=True, slots=True)
class PeakPeriod:
    """Peak hours ``[first, stop)`` (indices) and the highest among them."""

    first: int
    stop: int
    top: int


def peak_mask(kwh: FloatArray, day: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Which hours are peak hours; ``day`` numbers each hour's local day.

    NaN hours are never peaks and do not count towards a day's maximum.
    """
    kwh = np.asarray(kwh, dtype=np.float64)
    mask = np.zeros(len(kwh), dtype=bool)
    for value in np.unique(day):
        in_day = day == value
        values = kwh[in_day]
        if np.all(np.isnan(values)):
            continue
        top = np.nanmax(values)
        if top <= 0:
            continue
        mask[in_day] = np.nan_to_num(values, nan=-np.inf) >= PEAK_SHARE * top
    return mask


def peak_periods(kwh: FloatArray, day: npt.NDArray[np.int64]) -> list[PeakPeriod]:
    """Consecutive peak hours, each within one day, in time order."""
    kwh = np.asarray(kwh, dtype=np.float64)
    mask = peak_mask(kwh, day)
    periods: list[PeakPeriod] = []
    index = 0
    while index < len(kwh):
        if not mask[index]:
            index += 1
            continue
        first = index
        while index < len(kwh) and mask[index] and day[index] == day[first]:
            index += 1
        top = first + int(np.nanargmax(kwh[first:index]))
        periods.append(PeakPeriod(first=first, stop=index, top=top))
    return periods


def day_peak(kwh: FloatArray) -> int | None:
    """Index of the highest hour of one day's hours, or None if all are NaN."""
    kwh = np.asarray(kwh, dtype=np.float64)
    if len(kwh) == 0 or np.all(np.isnan(kwh)):
        return None
    return int(np.nanargmax(kwh))
