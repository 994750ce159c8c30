"""Live accuracy: the forecasts Kilowise issued, scored when the hours arrive.

Kilowise forecasts the next 48 hours every hour, so each hour is forecast
many times. The log keeps one forecast per hour, the first one issued on
that hour's own local day: the forecast made at local midnight for the whole
day when Home Assistant was running then (day-ahead, as the model is
evaluated offline), or the first one after a restart. That keeps storage at
one record per hour, bounded by ``RETENTION_DAYS``.

When the hour's actual use arrives in the statistics, the record gets it and
the use of the same hour one week earlier (the weekly seasonal naive
forecast, the yardstick of MASE). Hours are UTC, counted as whole hours since
the Unix epoch; energies are kWh per hour.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from .features import FloatArray, IntArray

RETENTION_DAYS: Final = 30
"""Scored hours older than this are forgotten (the longest window reported)."""

PENDING_HOURS: Final = 48
"""A forecast hour still without its actual use this long after it ended is
dropped (the source was unavailable): it can never be scored."""

CAPACITY: Final = (RETENTION_DAYS + 3) * 24
"""Most records ever kept: a month of scored hours and two days ahead."""

WEEK: Final = 168

_COLUMNS = ("p10", "p50", "p90", "actual", "naive")


def hour_number(when: datetime) -> int:
    """Whole UTC hours since the Unix epoch of the hour ``when`` falls in."""
    return int(when.astimezone(UTC).timestamp() // 3600)


@dataclass(frozen=True, slots=True)
class Accuracy:
    """Scores of the issued forecasts over a window.

    ``mae_kwh``: mean absolute error of the median (kWh per hour) over the
    ``hours`` scored; ``coverage_p10_p90``: share of them inside [p10, p90];
    ``mase_weekly``: the absolute errors divided by those of "same hour one
    week before", both summed over the ``naive_hours`` where that value was
    known too (None when none was, or it never erred).
    """

    mae_kwh: float
    mase_weekly: float | None
    coverage_p10_p90: float
    hours: int
    naive_hours: int


class ForecastLog:
    """A bounded log of issued forecasts, one record per UTC hour, oldest first."""

    def __init__(
        self,
        hours: IntArray | None = None,
        issued: IntArray | None = None,
        values: Mapping[str, FloatArray] | None = None,
        dropped: int = 0,
    ) -> None:
        """An empty log, or one made of consistent arrays (see :meth:`from_dict`)."""
        self.hours: IntArray = (
            np.zeros(0, dtype=np.int64) if hours is None else hours.astype(np.int64)
        )
        self.issued: IntArray = (
            np.zeros(0, dtype=np.int64) if issued is None else issued.astype(np.int64)
        )
        self.values: dict[str, FloatArray] = {
            name: np.zeros(0, dtype=np.float64)
            if values is None
            else np.asarray(values[name], dtype=np.float64)
            for name in _COLUMNS
        }
        self.dropped = dropped

    def __len__(self) -> int:
        """Number of records (pending and scored)."""
        return len(self.hours)

    @property
    def scored(self) -> npt.NDArray[np.bool_]:
        """Which records have their actual use."""
        return ~np.isnan(self.values["actual"])

    def record(
        self,
        start: datetime,
        p10: FloatArray,
        p50: FloatArray,
        p90: FloatArray,
        *,
        until: datetime,
        issued: datetime,
    ) -> int:
        """Keep a forecast's hours from ``start`` up to ``until`` not yet logged.

        ``p10``, ``p50`` and ``p90`` are kWh for consecutive hours from
        ``start``; ``until`` is normally the next local midnight. Returns
        how many hours were added.
        """
        first = hour_number(start)
        count = min(max(hour_number(until) - first, 0), len(p50))
        new = first + np.arange(count, dtype=np.int64)
        fresh = ~np.isin(new, self.hours)
        if not fresh.any():
            return 0
        added = {
            "p10": np.asarray(p10[:count], dtype=np.float64)[fresh],
            "p50": np.asarray(p50[:count], dtype=np.float64)[fresh],
            "p90": np.asarray(p90[:count], dtype=np.float64)[fresh],
            "actual": np.full(int(fresh.sum()), np.nan),
            "naive": np.full(int(fresh.sum()), np.nan),
        }
        hours = np.concatenate((self.hours, new[fresh]))
        order = np.argsort(hours, kind="stable")
        self.hours = hours[order]
        self.issued = np.concatenate(
            (self.issued, np.full(int(fresh.sum()), hour_number(issued)))
        )[order]
        for name in _COLUMNS:
            self.values[name] = np.concatenate((self.values[name], added[name]))[order]
        self._bound()
        return int(fresh.sum())

    def score(self, end: datetime, kwh: FloatArray) -> int:
        """Fill in the actual use of logged hours from an hourly history.

        ``kwh[-1]`` is the hour ending at ``end`` (UTC); NaN is unknown. An
        hour stays pending until its value is known. Returns how many hours
        were scored now.
        """
        kwh = np.asarray(kwh, dtype=np.float64)
        if not len(kwh):
            return 0
        first = hour_number(end) - len(kwh)
        index = self.hours - first
        actual = kwh[np.clip(index, 0, len(kwh) - 1)]
        pending = (~self.scored) & (index >= 0) & (index < len(kwh))
        pending &= ~np.isnan(actual)
        if not pending.any():
            return 0
        week_ago = index - WEEK
        naive = np.where(week_ago >= 0, kwh[np.clip(week_ago, 0, len(kwh) - 1)], np.nan)
        self.values["actual"] = np.where(pending, actual, self.values["actual"])
        self.values["naive"] = np.where(pending, naive, self.values["naive"])
        return int(pending.sum())

    def prune(self, now: datetime) -> int:
        """Forget hours too old to report, and pending hours that cannot be scored.

        Returns how many pending hours were given up.
        """
        current = hour_number(now)
        stale = (~self.scored) & (self.hours < current - PENDING_HOURS)
        keep = (self.hours >= current - RETENTION_DAYS * 24) & ~stale
        given_up = int(stale.sum())
        self.dropped += given_up
        self._keep(keep)
        return given_up

    def _bound(self) -> None:
        if len(self.hours) > CAPACITY:
            keep = np.zeros(len(self.hours), dtype=bool)
            keep[-CAPACITY:] = True
            self._keep(keep)

    def _keep(self, mask: npt.NDArray[np.bool_]) -> None:
        self.hours = self.hours[mask]
        self.issued = self.issued[mask]
        for name in _COLUMNS:
            self.values[name] = self.values[name][mask]

    def accuracy(self, end: datetime, days: int) -> Accuracy | None:
        """Scores of the hours from ``days`` days before ``end`` up to ``end``.

        None when no hour in that window has been scored yet.
        """
        last = hour_number(end)
        window = self.scored & (self.hours >= last - days * 24) & (self.hours < last)
        if not window.any():
            return None
        actual = self.values["actual"][window]
        p50 = self.values["p50"][window]
        error = np.abs(actual - p50)
        naive = self.values["naive"][window]
        with_naive = ~np.isnan(naive)
        naive_error = float(np.sum(np.abs(actual - naive)[with_naive]))
        inside = (actual >= self.values["p10"][window]) & (
            actual <= self.values["p90"][window]
        )
        return Accuracy(
            mae_kwh=float(np.mean(error)),
            mase_weekly=float(np.sum(error[with_naive])) / naive_error
            if naive_error > 0
            else None,
            coverage_p10_p90=float(np.mean(inside)),
            hours=int(window.sum()),
            naive_hours=int(with_naive.sum()),
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form for storage (NaN as null)."""

        def numbers(values: FloatArray) -> list[float | None]:
            return [None if np.isnan(v) else round(float(v), 6) for v in values]

        return {
            "hours": [int(h) for h in self.hours],
            "issued": [int(h) for h in self.issued],
            **{name: numbers(self.values[name]) for name in _COLUMNS},
            "dropped": self.dropped,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ForecastLog:
        """Read :meth:`as_dict`'s form back; ``ValueError`` when it is not valid."""
        try:
            hours = np.asarray(data["hours"], dtype=np.int64)
            issued = np.asarray(data["issued"], dtype=np.int64)
            values = {
                name: np.asarray(
                    [np.nan if v is None else v for v in data[name]], dtype=np.float64
                )
                for name in _COLUMNS
            }
            dropped = int(data.get("dropped", 0))
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"not a forecast log: {err}") from err
        if hours.ndim != 1 or any(
            array.shape != hours.shape for array in (issued, *values.values())
        ):
            raise ValueError("forecast log arrays differ in length")
        if len(hours) and np.any(np.diff(hours) <= 0):
            raise ValueError("forecast log hours are not strictly increasing")
        log = cls(hours, issued, values, dropped)
        log._bound()
        return log
