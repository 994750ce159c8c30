"""Hourly energy series of one home, and the conversion of raw readings to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

import numpy as np
import numpy.typing as npt
import pandas as pd

HOUR_NS = 3_600_000_000_000


class DataError(ValueError):
    """Input data that cannot be used; the message names the file and row."""


@dataclass(frozen=True)
class HomeSeries:
    """kWh per hour of one home on a gap-preserving UTC hour grid.

    ``values[i]`` is the energy of the hour starting at ``start + i h``;
    NaN marks an hour that is missing, flagged or imputed at the source.
    ``tz`` is the home's local time zone (calendar features, midnights).
    """

    name: str
    start: datetime
    values: npt.NDArray[np.float64]
    tz: tzinfo
    notes: dict[str, int] = field(default_factory=dict)

    @property
    def valid_hours(self) -> int:
        """Hours with a measured value."""
        return int(np.count_nonzero(~np.isnan(self.values)))

    @property
    def end(self) -> datetime:
        """UTC end of the last hour."""
        return self.start + timedelta(hours=len(self.values))

    def head(self, hours: int) -> HomeSeries:
        """The first ``hours`` hours of the series."""
        return HomeSeries(
            self.name, self.start, self.values[:hours], self.tz, self.notes
        )

    def summary(self) -> dict[str, object]:
        """JSON-safe description for manifests and reports."""
        return {
            "name": self.name,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "hours": len(self.values),
            "valid_hours": self.valid_hours,
            "mean_kwh_per_hour": round(float(np.nanmean(self.values)), 4),
        }


def series_from_intervals(
    name: str,
    starts_utc: npt.NDArray[np.int64],
    durations_ns: npt.NDArray[np.int64],
    energy_kwh: npt.NDArray[np.float64],
    tz: tzinfo,
) -> HomeSeries:
    """Sum interval energies into whole UTC hours.

    Each reading covers ``[start, start + duration)``. An hour gets a value
    only when readings that lie wholly inside it cover it completely and are
    all valid; anything else (a gap, a reading spanning hours, a NaN) leaves
    the hour missing rather than guessing.
    """
    if len(starts_utc) == 0:
        raise DataError(f"{name}: no readings")
    hour = starts_utc // HOUR_NS
    ends_hour = (starts_utc + durations_ns - 1) // HOUR_NS
    inside = ends_hour == hour
    first, last = int(hour.min()), int(hour.max())
    n = last - first + 1
    index = hour - first
    covered = np.bincount(index[inside], weights=durations_ns[inside], minlength=n)
    bad = np.bincount(index, weights=(~inside | np.isnan(energy_kwh)), minlength=n)
    total = np.bincount(
        index[inside], weights=np.nan_to_num(energy_kwh[inside]), minlength=n
    )
    values = np.where((covered == HOUR_NS) & (bad == 0), total, np.nan)
    start = datetime.fromtimestamp(first * 3600, tz=UTC)
    return HomeSeries(name, start, values.astype(np.float64), tz)


def to_utc_ns(
    times: pd.Series, tz: tzinfo, source: str, first_line: int = 2
) -> npt.NDArray[np.int64]:
    """Parse timestamps to UTC nanoseconds; naive ones are local to ``tz``.

    A repeated daylight-saving hour is told apart by the order of the rows;
    an unparseable or non-existent time is refused with its line number.
    """
    parsed = pd.to_datetime(times, errors="coerce", utc=False, format="mixed")
    bad = parsed.isna() & times.notna()
    if times.isna().any() or bad.any():
        row = int(np.flatnonzero((bad | times.isna()).to_numpy())[0])
        raise DataError(
            f"{source}, line {row + first_line}: cannot read time {times.iloc[row]!r}"
        )
    if getattr(parsed.dt, "tz", None) is not None:
        return _as_ns(parsed.dt.tz_convert("UTC"))
    try:
        local = parsed.dt.tz_localize(tz, ambiguous="infer", nonexistent="raise")
    except Exception as err:  # pandas raises several types for DST trouble
        raise DataError(f"{source}: local times do not fit {tz}: {err}") from err
    return _as_ns(local.dt.tz_convert("UTC"))


def _as_ns(utc: pd.Series) -> npt.NDArray[np.int64]:
    ns: npt.NDArray[np.int64] = utc.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    return ns
