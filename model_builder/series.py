"""Hourly energy series of one home, and the conversion of raw readings to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
import warnings

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


def row_name(row: int, first_line: int | None) -> str:
    """How a message names row ``row`` (0-based) of a table.

    ``first_line`` is the file line of row 0 (2 below a CSV header); None for
    a table that is not a text file (Parquet), whose rows are counted from 1.
    """
    return f"row {row + 1}" if first_line is None else f"line {row + first_line}"


def _unreadable(
    parsed: pd.Series, times: pd.Series, source: str, first_line: int | None
) -> None:
    bad = (parsed.isna() | times.isna()).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{source}, {row_name(row, first_line)}: cannot read time {times.iloc[row]!r}"
        )


def _has_offset(value: object) -> bool:
    try:
        return pd.Timestamp(value).tzinfo is not None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def to_utc_ns(
    times: pd.Series, tz: tzinfo, source: str, first_line: int | None = 2
) -> npt.NDArray[np.int64]:
    """Parse timestamps to UTC nanoseconds; naive ones are local to ``tz``.

    Times with a UTC offset may mix offsets (summer and winter time). Naive
    times are local: a repeated daylight-saving hour is told apart by the
    order of the rows. A file mixing times with and without an offset, an
    unparseable time, a local time that does not exist, or a repeated hour
    that cannot be told apart is refused with its line number.
    """
    with warnings.catch_warnings():
        # Offsets that differ between rows: pandas 2 warns, pandas 3 refuses.
        warnings.simplefilter("ignore", FutureWarning)
        try:
            parsed = pd.to_datetime(times, errors="coerce", format="mixed")
        except ValueError:
            parsed = None
    if parsed is None or parsed.dtype == object:
        # Several offsets, or times with and without one.
        utc = pd.to_datetime(times, errors="coerce", utc=True, format="mixed")
        _unreadable(utc, times, source, first_line)
        aware = np.array([_has_offset(value) for value in times], dtype=bool)
        if aware.all():
            return _as_ns(utc)
        row = int(np.flatnonzero(aware != aware[0])[0])
        raise DataError(
            f"{source}, {row_name(row, first_line)}: time {times.iloc[row]!r} "
            f"{'has a' if aware[row] else 'has no'} UTC offset, unlike the first "
            "row's; give every time the same way"
        )
    _unreadable(parsed, times, source, first_line)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        return _as_ns(parsed.dt.tz_convert("UTC"))
    try:
        local = parsed.dt.tz_localize(tz, ambiguous="infer", nonexistent="raise")
    except Exception as err:  # pandas raises several types for DST trouble
        raise DataError(_clock_change_problem(parsed, tz, source, first_line)) from err
    return _as_ns(local.dt.tz_convert("UTC"))


def _clock_change_problem(
    naive: pd.Series, tz: tzinfo, source: str, first_line: int | None
) -> str:
    """Name the first local time that a clock change makes unusable."""
    summer = np.ones(len(naive), dtype=bool)
    missing = naive.dt.tz_localize(tz, ambiguous=summer, nonexistent="NaT").isna()
    if missing.any():
        row = int(np.flatnonzero(missing.to_numpy())[0])
        return (
            f"{source}, {row_name(row, first_line)}: {naive.iloc[row]} does not exist "
            f"in {tz} (the clocks were put forward then)"
        )
    repeated = naive.dt.tz_localize(
        tz, ambiguous="NaT", nonexistent="shift_forward"
    ).isna()
    rows = np.flatnonzero(repeated.to_numpy())
    if len(rows):
        counts = naive.iloc[rows].value_counts()
        lonely = [row for row in rows if counts[naive.iloc[row]] == 1]
        row = int(lonely[0] if lonely else rows[0])
        why = (
            "and this is its only row"
            if lonely
            else "and its rows are not in time order"
        )
        return (
            f"{source}, {row_name(row, first_line)}: {naive.iloc[row]} happens twice "
            f"in {tz} (the clocks were put back) {why}, so which one it is cannot "
            "be told; give times with their UTC offset, or in UTC"
        )
    return f"{source}: local times do not fit {tz}"


def _as_ns(utc: pd.Series) -> npt.NDArray[np.int64]:
    ns: npt.NDArray[np.int64] = utc.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    return ns
