"""Read any CSV of energy readings into an hourly series, or say which row is wrong."""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from .series import (
    HOUR_NS,
    DataError,
    HomeSeries,
    row_name,
    series_from_intervals,
    to_utc_ns,
)

UNIT_TO_KWH = {"Wh": 1e-3, "kWh": 1.0, "MWh": 1e3}


def _numbers(
    column: pd.Series, source: str, name: str, first_line: int | None
) -> npt.NDArray[np.float64]:
    """Parse a number column; blanks are missing, text or infinity an error with its line."""
    text = column.astype("string").str.strip()
    blank = text.isna() | (text == "") | text.str.lower().isin({"nan", "na", "null"})
    values = pd.to_numeric(text.where(~blank), errors="coerce")
    bad = (values.isna() | np.isinf(values.astype("float64"))) & ~blank
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{source}, {row_name(row, first_line)}: {name} is "
            f"{column.iloc[row]!r}, not a number"
        )
    numbers: npt.NDArray[np.float64] = values.to_numpy(dtype=np.float64)
    return numbers


def read_energy_csv(
    path: Path,
    time_column: str,
    energy_column: str,
    *,
    cumulative: bool,
    tz: tzinfo,
    unit: str = "kWh",
) -> HomeSeries:
    """Read energy readings from a CSV file into kWh per UTC hour.

    See ``frame_to_series`` for how rows are read; errors name the line.
    """
    source = str(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (
        OSError,
        UnicodeDecodeError,
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
    ) as err:
        raise DataError(f"{source}: cannot read CSV: {err}") from err
    return frame_to_series(
        frame,
        time_column,
        energy_column,
        source=source,
        name=path.stem,
        cumulative=cumulative,
        tz=tz,
        unit=unit,
    )


def frame_to_series(
    frame: pd.DataFrame,
    time_column: str,
    energy_column: str,
    *,
    source: str,
    name: str,
    cumulative: bool,
    tz: tzinfo,
    unit: str = "kWh",
    first_line: int | None = 2,
) -> HomeSeries:
    """Turn a table of energy readings into kWh per UTC hour.

    Without ``cumulative`` each row holds the energy of the interval that
    starts at its time (the interval is the table's usual step). With it, each
    row is a meter reading and consumption is the difference between
    readings; a decrease is a meter reset and leaves that interval missing.
    Duplicate times keep their first row. Naive times are local to ``tz``.
    Errors name the row as a file line (``first_line`` is the line of the
    first row), or count rows from 1 when ``first_line`` is None.
    """
    for column in (time_column, energy_column):
        if column not in frame.columns:
            raise DataError(
                f"{source}: no column {column!r} (columns: {', '.join(map(str, frame.columns))})"
            )
    if frame.empty:
        raise DataError(f"{source}: no rows")
    energy = (
        _numbers(frame[energy_column], source, energy_column, first_line)
        * UNIT_TO_KWH[unit]
    )
    if not cumulative and np.nanmin(energy, initial=0.0) < 0:
        row = int(np.flatnonzero(energy < 0)[0])
        raise DataError(
            f"{source}, {row_name(row, first_line)}: {energy_column} is "
            f"{frame[energy_column].iloc[row]!r}, a negative energy (a meter "
            "counter? then use --cumulative)"
        )
    times = frame[time_column]
    if times.dtype == object or pd.api.types.is_string_dtype(times):
        times = times.replace("", None)
    stamps = to_utc_ns(times, tz, source, first_line)

    order = np.argsort(stamps, kind="stable")
    stamps, energy = stamps[order], energy[order]
    keep = np.concatenate(([True], np.diff(stamps) > 0))
    duplicates = int(np.count_nonzero(~keep))
    stamps, energy = stamps[keep], energy[keep]
    if len(stamps) < 2:
        raise DataError(f"{source}: fewer than two distinct times")
    step = int(np.median(np.diff(stamps)))
    if step > HOUR_NS:
        raise DataError(
            f"{source}: readings are {step / HOUR_NS:.1f} h apart; need hourly or finer"
        )

    resets = 0
    if cumulative:
        delta = np.diff(energy)
        resets = int(np.count_nonzero(delta < 0))
        delta[delta < 0] = np.nan
        starts, durations, values = stamps[:-1], np.diff(stamps), delta
    else:
        starts, durations, values = stamps, np.full(len(stamps), step), energy
    series = series_from_intervals(name, starts, durations, values, tz)
    series.notes.update(duplicate_times=duplicates, meter_resets=resets)
    return series
