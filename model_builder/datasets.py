"""The real homes in ``shared/data``, each turned into an hourly kWh series.

Flagged, imputed and partial hours become gaps; nothing is filled in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta, timezone
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from .series import HOUR_NS, DataError, HomeSeries, series_from_intervals, to_utc_ns

# Both UCI files run on a continuous local clock with no daylight-saving jump,
# so their local time is a fixed offset (Central European standard time).
FIXED_CET = timezone(timedelta(hours=1), "CET")


def default_data_dir() -> Path:
    """``KILOWISE_DATA`` or ``shared/data`` beside the repository."""
    env = os.environ.get("KILOWISE_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def _hourly(
    name: str,
    stamps: npt.NDArray[np.int64],
    kwh: npt.NDArray[np.float64],
    tz: timezone | ZoneInfo,
) -> HomeSeries:
    durations = np.full(len(stamps), HOUR_NS, dtype=np.int64)
    return series_from_intervals(name, stamps, durations, kwh, tz)


def sceaux(data_dir: Path) -> HomeSeries:
    """UCI household power (Sceaux, France): hours with all 60 minutes valid."""
    path = data_dir / "uci_household_power" / "household_power_hourly.csv"
    frame = pd.read_csv(path)
    complete = frame["n_valid_minutes"].to_numpy() == 60
    kwh = np.where(
        complete, frame["energy_kwh_measured"].to_numpy(dtype=np.float64), np.nan
    )
    stamps = to_utc_ns(frame["timestamp"], FIXED_CET, str(path))
    return _hourly("sceaux", stamps, kwh, FIXED_CET)


def konstanz(data_dir: Path) -> HomeSeries:
    """OPSD DE_KN_residential4 (Konstanz, Germany): grid import counter.

    An hour's energy is the difference of two counter readings; it is dropped
    when either reading was interpolated by the publisher.
    """
    path = (
        data_dir
        / "opsd_household_residential4"
        / ("household_data_60min_singleindex_residential4.csv")
    )
    frame = pd.read_csv(path)
    counter = frame["DE_KN_residential4_grid_import"].to_numpy(dtype=np.float64)
    flagged = (
        frame["interpolated_values"]
        .fillna("")
        .str.contains("DE_KN_residential4_grid_import", regex=False)
        .to_numpy()
    )
    delta = np.diff(counter)
    delta[flagged[:-1] | flagged[1:] | (delta < 0)] = np.nan
    stamps = to_utc_ns(frame["utc_timestamp"], ZoneInfo("UTC"), str(path))[:-1]
    return _hourly("konstanz", stamps, delta, ZoneInfo("Europe/Berlin"))


def belgium(data_dir: Path) -> HomeSeries:
    """UCI appliances energy (Belgium): appliances and lights, Wh per hour."""
    path = data_dir / "uci_appliances_energy" / "appliances_energy_hourly.csv"
    frame = pd.read_csv(path)
    complete = frame["n_samples"].to_numpy() == 6
    wh = frame["appliances_wh"].to_numpy(dtype=np.float64) + frame[
        "lights_wh"
    ].to_numpy(dtype=np.float64)
    kwh = np.where(complete, wh / 1000.0, np.nan)
    stamps = to_utc_ns(frame["timestamp"], FIXED_CET, str(path))
    return _hourly("belgium", stamps, kwh, FIXED_CET)


HOMES: dict[str, Callable[[Path], HomeSeries]] = {
    "sceaux": sceaux,
    "konstanz": konstanz,
    "belgium": belgium,
}
"""Loaders by home name. ``belgium`` is left out of the bundled model's training."""

TRAINING_HOMES = ("sceaux", "konstanz")
HELD_OUT_HOMES = ("belgium",)


def load_homes(names: tuple[str, ...], data_dir: Path) -> list[HomeSeries]:
    """Load the named homes; unknown names and missing files raise ``DataError``."""
    homes = []
    for name in names:
        if name not in HOMES:
            raise DataError(f"unknown home {name!r}; known: {', '.join(HOMES)}")
        try:
            homes.append(HOMES[name](data_dir))
        except FileNotFoundError as err:
            raise DataError(
                f"{name}: {err.filename} not found (set --data-dir)"
            ) from err
    return homes
