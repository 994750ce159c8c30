"""Hourly energy use of the home, read from the recorder's long-term statistics.

The recorder keeps hourly long-term statistics forever (states are purged
after ten days), so the weekly lags of the model are there on a default
install. An energy meter gives the hourly change of its statistics ``sum``;
a power sensor gives its hourly ``mean`` power, which over one hour is the
energy used in that hour. Gaps stay gaps (NaN): nothing here imputes a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from homeassistant.components.recorder.models import StatisticMeanType
from homeassistant.components.recorder.statistics import (
    get_metadata,
    statistics_during_period,
)
from homeassistant.const import UnitOfEnergy, UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.util.unit_conversion import EnergyConverter, PowerConverter
import numpy as np
import numpy.typing as npt

from .engine import HISTORY_HOURS
from .engine.features import FloatArray
from .recorder_jobs import async_recorder_job

BoolArray = npt.NDArray[np.bool_]

HOUR = timedelta(hours=1)
HOUR_SECONDS = 3600.0

STATISTIC_UNITS: dict[str, str] = {
    EnergyConverter.UNIT_CLASS: UnitOfEnergy.KILO_WATT_HOUR,
    PowerConverter.UNIT_CLASS: UnitOfPower.KILO_WATT,
}
"""Units the recorder converts the statistics to before they are read."""

RESET_TOLERANCE_KWH = 1e-9
"""A drop of the meter's sum larger than this is a reset, not rounding."""


class SourceKind(StrEnum):
    """How the source's statistics measure energy."""

    ENERGY = "energy"
    """An energy meter: the hourly change of the statistics sum is the use."""

    POWER = "power"
    """A power sensor: the hourly mean power times one hour is the use."""


@dataclass(frozen=True, slots=True)
class HourlyHistory:
    """Energy used per hour (kWh), UTC hours ending at ``end``.

    ``HISTORY_HOURS`` of them for a forecast; more to adapt the model.
    ``kwh[-1]`` is the hour ending at ``end``; NaN marks an hour without a
    usable statistic. ``kind`` is None when the recorder holds no long-term
    statistics for the source, or none that measure energy or power.
    ``dropped`` marks hours left out because the meter went backwards (a
    reset or replacement) or a power mean was negative.
    """

    statistic_id: str
    end: datetime
    kwh: FloatArray
    kind: SourceKind | None
    unit: str | None
    dropped: BoolArray

    @property
    def dropped_hours(self) -> int:
        """How many hours were left out as resets."""
        return int(np.count_nonzero(self.dropped))

    @property
    def valid_hours(self) -> int:
        """Hours with a value."""
        return int(np.count_nonzero(~np.isnan(self.kwh)))

    @property
    def hours_since_last_value(self) -> int | None:
        """Hours between ``end`` and the end of the newest hour with a value."""
        valid = np.flatnonzero(~np.isnan(self.kwh))
        if not len(valid):
            return None
        return int(len(self.kwh) - 1 - valid[-1])

    def updated(self, recent: HourlyHistory) -> HourlyHistory | None:
        """This history moved forward to ``recent.end``, its last hours replaced.

        ``recent`` is a fresh read of the newest hours (as many as it holds);
        the older hours are kept from this read. None when the two do not
        join: another source, kind or unit, or too far apart for ``recent``
        to cover every hour in between.
        """
        shift = round((recent.end - self.end) / HOUR)
        hours = len(self.kwh)
        if (
            recent.statistic_id != self.statistic_id
            or recent.kind != self.kind
            or recent.unit != self.unit
            or shift < 0
            or shift >= len(recent.kwh)
            or len(recent.kwh) > hours
        ):
            return None
        kept = hours - len(recent.kwh)
        kwh = np.concatenate([self.kwh[shift : shift + kept], recent.kwh])
        dropped = np.concatenate([self.dropped[shift : shift + kept], recent.dropped])
        return HourlyHistory(
            self.statistic_id, recent.end, kwh, self.kind, self.unit, dropped
        )


def source_kind(metadata: dict[str, Any]) -> SourceKind | None:
    """Tell how a statistic's metadata measures energy, if it does."""
    unit = metadata.get("unit_of_measurement")
    if unit in EnergyConverter.VALID_UNITS and metadata.get("has_sum"):
        return SourceKind.ENERGY
    mean_type = metadata.get("mean_type", StatisticMeanType.NONE)
    if unit in PowerConverter.VALID_UNITS and mean_type != StatisticMeanType.NONE:
        return SourceKind.POWER
    return None


def hourly_energy(
    rows: list[dict[str, Any]], kind: SourceKind, first_start: float, hours: int
) -> tuple[FloatArray, BoolArray]:
    """Reduce hourly statistics rows to kWh per hour and the hours dropped.

    ``rows`` are the recorder's rows (``start`` as a UTC timestamp), already
    converted to kWh (sum) or kW (mean). ``first_start`` is the start of the
    first hour wanted. For an energy meter the rows must start one hour
    earlier, since the first hour's use is the change from the hour before.
    Dropped hours (a meter that went backwards, a negative mean) are NaN.
    """
    if kind is SourceKind.ENERGY:
        sums = _by_hour(rows, "sum", first_start - HOUR_SECONDS, hours + 1)
        kwh = np.diff(sums)
        resets = kwh < -RESET_TOLERANCE_KWH
        kwh[resets] = np.nan
        kwh = np.where(kwh < 0.0, 0.0, kwh)  # float noise of a flat meter
    else:
        kwh = _by_hour(rows, "mean", first_start, hours)
        resets = kwh < 0.0
        kwh[resets] = np.nan
    return kwh, resets


def _by_hour(
    rows: list[dict[str, Any]], column: str, first_start: float, hours: int
) -> FloatArray:
    values = np.full(hours, np.nan, dtype=np.float64)
    for row in rows:
        value = row.get(column)
        if value is None:
            continue
        index = round((float(row["start"]) - first_start) / HOUR_SECONDS)
        if 0 <= index < hours:
            values[index] = float(value)
    return values


def _read_history(
    hass: HomeAssistant, statistic_id: str, end: datetime, hours: int = HISTORY_HOURS
) -> HourlyHistory:
    """Read and reduce the statistics. Blocking: runs in the recorder's executor."""
    empty = np.full(hours, np.nan, dtype=np.float64)
    none_dropped = np.zeros(hours, dtype=np.bool_)
    metadata = get_metadata(hass, statistic_ids={statistic_id}).get(statistic_id)
    if metadata is None:
        return HourlyHistory(statistic_id, end, empty, None, None, none_dropped)
    meta = dict(metadata[1])
    kind = source_kind(meta)
    unit = meta.get("unit_of_measurement")
    unit = None if unit is None else str(unit)
    if kind is None:
        return HourlyHistory(statistic_id, end, empty, None, unit, none_dropped)
    start = end - hours * HOUR
    query_start = start - HOUR if kind is SourceKind.ENERGY else start
    column: Literal["sum", "mean"] = "sum" if kind is SourceKind.ENERGY else "mean"
    rows = statistics_during_period(
        hass,
        query_start,
        end,
        {statistic_id},
        "hour",
        STATISTIC_UNITS,
        {column},
    ).get(statistic_id, [])
    kwh, dropped = hourly_energy(
        [dict(row) for row in rows], kind, start.timestamp(), hours
    )
    return HourlyHistory(statistic_id, end, kwh, kind, unit, dropped)


async def async_read_history(
    hass: HomeAssistant, statistic_id: str, end: datetime, hours: int = HISTORY_HOURS
) -> HourlyHistory:
    """Read the ``hours`` hours of energy use that end at ``end`` (UTC).

    ``end`` must be the top of an hour. The database is read in the
    recorder's executor, never in the event loop; what comes back is a small
    numpy array, not the recorder's rows.
    """
    return await async_recorder_job(hass, _read_history, hass, statistic_id, end, hours)
