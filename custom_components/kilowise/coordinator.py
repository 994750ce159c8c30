"""Hourly forecasts: long-term statistics -> engine -> sensors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import hashlib
import math
from typing import TYPE_CHECKING, Any

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.event import (
    async_call_later,
    async_track_point_in_utc_time,
)
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util
import numpy as np
from sqlalchemy.exc import SQLAlchemyError

from .config_flow import source_description, source_error
from .const import (
    CONF_FORECAST_HOURS,
    CONF_SOURCE_ENTITY,
    DEFAULT_FORECAST_HOURS,
    DOMAIN,
    ISSUE_SOURCE_MISSING,
    ISSUE_SOURCE_UNAVAILABLE,
    ISSUE_SOURCE_UNSUITABLE,
    LATE_STATISTICS_RETRY,
    LOGGER,
    REFRESH_MINUTE,
    REFRESH_SPREAD,
    SOURCE_STALE_HOURS,
)
from .engine import (
    FULL_HISTORY_HOURS,
    HISTORY_HOURS,
    Artifact,
    Forecast,
    InsufficientHistoryError,
    forecast,
)
from .engine.adaptation import Calibration
from .engine.features import LEVEL_WINDOW, MIN_LEVEL_HOURS
from .history import HourlyHistory, async_read_history

if TYPE_CHECKING:
    from .data import KilowiseConfigEntry

HOUR = timedelta(hours=1)

RECENT_HOURS = 48
"""Hours read again at every refresh between two full reads: late and
corrected statistics of the last two days are seen at the next refresh."""

FIXABLE_SOURCE_ISSUES = frozenset({ISSUE_SOURCE_MISSING, ISSUE_SOURCE_UNSUITABLE})
"""Source issues whose repair flow lets the user choose another sensor."""


@dataclass(frozen=True, slots=True)
class KilowiseForecast:
    """A forecast and what it was made from.

    ``as_of`` is the moment of the refresh (UTC); the forecast's first hour is
    the hour in progress then. ``forecast_hours`` is how many hours the
    forecast sensor covers (an option).
    """

    forecast: Forecast
    history: HourlyHistory
    as_of: datetime
    forecast_hours: int
    adapted: bool = False
    """True when the home's own calibration adjusted the model's forecast."""

    @property
    def end(self) -> datetime:
        """End (UTC) of the last forecast hour."""
        return self.forecast.start + self.forecast.hours * HOUR

    def energy_between(self, start: datetime, end: datetime) -> float | None:
        """Expected energy (kWh, median) used from ``start`` to ``end``.

        An hour partly inside the interval counts pro rata. None when the
        interval reaches outside the forecast.
        """
        if start < self.forecast.start or end > self.end:
            return None
        if end <= start:
            return 0.0
        begin = (start - self.forecast.start) / HOUR
        stop = (end - self.forecast.start) / HOUR
        total = 0.0
        for index in range(math.floor(begin), math.ceil(stop)):
            share = min(stop, index + 1) - max(begin, index)
            total += share * float(self.forecast.p50[index])
        return total

    def next_local_midnight(self, days: int = 1) -> datetime:
        """Start (UTC) of the local day ``days`` after the day of ``as_of``."""
        local_day = dt_util.as_local(self.as_of).date() + timedelta(days=days)
        return dt_util.as_utc(dt_util.start_of_local_day(local_day))

    def hourly(self) -> list[dict[str, Any]]:
        """The hours the forecast sensor covers, as JSON-safe dicts (local ISO)."""
        fc = self.forecast
        return [
            {
                "start": dt_util.as_local(fc.hour_start(i)).isoformat(),
                "kwh": round(float(fc.p50[i]), 3),
                "p10": round(float(fc.p10[i]), 3),
                "p90": round(float(fc.p90[i]), 3),
            }
            for i in range(min(self.forecast_hours, fc.hours))
        ]

    def total(self) -> float:
        """Expected energy (kWh, median) over the hours the sensor covers."""
        return float(np.sum(self.forecast.p50[: self.forecast_hours]))


def next_refresh(now: datetime, offset: timedelta = timedelta(0)) -> datetime:
    """The next refresh slot after ``now``: ``REFRESH_MINUTE`` + ``offset`` past an hour.

    Once an hour's statistics are compiled (``REFRESH_MINUTE`` past it), that
    hour's slot is skipped: a refresh made then already saw them.
    """
    compiled = now.astimezone(UTC).replace(
        minute=REFRESH_MINUTE, second=0, microsecond=0
    )
    if compiled <= now:
        compiled += HOUR
    return compiled + offset


def _entry_number(entry_id: str, salt: str) -> int:
    """A stable pseudo-random number for an entry (the same across restarts)."""
    digest = hashlib.sha256(f"{salt}:{entry_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def refresh_offset(entry_id: str) -> timedelta:
    """A stable delay in ``[0, REFRESH_SPREAD)`` for one entry.

    Many entries in one Home Assistant (a block of flats, a neighbourhood hub)
    then refresh spread over a few minutes instead of in the same second,
    and each keeps its slot across restarts.
    """
    seconds = int(REFRESH_SPREAD.total_seconds())
    return timedelta(seconds=_entry_number(entry_id, "refresh") % seconds)


def full_read_hour(entry_id: str) -> int:
    """The UTC hour of day at which an entry reads its whole history again.

    Spread like the refresh slots, so that many entries set up at the same
    time do not all read their full history in the same hour.
    """
    return _entry_number(entry_id, "full read") % 24


class KilowiseCoordinator(DataUpdateCoordinator[KilowiseForecast]):
    """Reads the source's statistics and forecasts once an hour.

    The refresh runs at ``REFRESH_MINUTE`` past every hour, once the
    recorder has compiled the hourly statistics of the hour that just ended.
    If that hour is still missing then, the statistics are read once more
    ``LATE_STATISTICS_RETRY`` later. Reading runs in the recorder's executor;
    the forecast itself is a few numpy operations and runs in the event loop.
    """

    config_entry: KilowiseConfigEntry

    def __init__(
        self, hass: HomeAssistant, config_entry: KilowiseConfigEntry, artifact: Artifact
    ) -> None:
        """Prepare a coordinator for one source; nothing is read yet."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=config_entry,
            name=f"{DOMAIN} {config_entry.data[CONF_SOURCE_ENTITY]}",
            update_interval=None,
        )
        self.artifact = artifact
        self.source_entity: str = config_entry.data[CONF_SOURCE_ENTITY]
        self.forecast_hours: int = int(
            config_entry.options.get(CONF_FORECAST_HOURS, DEFAULT_FORECAST_HOURS)
        )
        self.refresh_offset = refresh_offset(config_entry.entry_id)
        self._full_read_hour = full_read_hour(config_entry.entry_id)
        self._history: HourlyHistory | None = None
        self._calibration: tuple[str, Calibration] | None = None
        self._unsub_hourly: Callable[[], None] | None = None
        self._unsub_retry: Callable[[], None] | None = None
        self._stopped = False

    @callback
    def use_calibration(self, calibration: Calibration | None, model_id: str) -> None:
        """Adjust forecasts with a home's calibration, fitted for ``model_id``.

        It applies only while ``model_id`` is the model in use: a calibration
        fitted on another model's errors means nothing for this one.
        """
        self._calibration = None if calibration is None else (model_id, calibration)

    @property
    def calibration(self) -> Calibration | None:
        """The calibration that adjusts the next forecast, if any."""
        if self._calibration is None:
            return None
        model_id, calibration = self._calibration
        return calibration if model_id == self.artifact.model_id else None

    @callback
    def async_schedule_hourly(self) -> None:
        """Refresh at ``REFRESH_MINUTE`` past every UTC hour from now on."""
        if self._stopped:
            return
        self._unsub_hourly = async_track_point_in_utc_time(
            self.hass,
            self._async_scheduled_refresh,
            next_refresh(dt_util.utcnow(), self.refresh_offset),
        )

    async def async_shutdown(self) -> None:
        """Stop the schedule when the entry unloads."""
        await super().async_shutdown()
        self._stopped = True
        if self._unsub_hourly is not None:
            self._unsub_hourly()
            self._unsub_hourly = None
        self._cancel_retry()

    @callback
    def _cancel_retry(self) -> None:
        if self._unsub_retry is not None:
            self._unsub_retry()
            self._unsub_retry = None

    async def _async_scheduled_refresh(self, _now: datetime) -> None:
        self.async_schedule_hourly()
        self._cancel_retry()
        await self.async_refresh()
        if (
            self.last_update_success
            and (self.data.history.hours_since_last_value or 0) > 0
        ):
            LOGGER.debug(
                "Statistics of %s for the hour that just ended are not there yet; "
                "reading again in %s",
                self.source_entity,
                LATE_STATISTICS_RETRY,
            )
            self._unsub_retry = async_call_later(
                self.hass, LATE_STATISTICS_RETRY, self._async_late_refresh
            )

    async def _async_late_refresh(self, _now: datetime) -> None:
        self._unsub_retry = None
        await self.async_refresh()

    async def _async_update_data(self) -> KilowiseForecast:
        """Read the statistics and forecast the next hours."""
        now = dt_util.utcnow()
        end = now.replace(minute=0, second=0, microsecond=0)
        try:
            history = await self._async_read_history(end)
        except SQLAlchemyError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="statistics_unavailable",
                translation_placeholders={"error": str(err)},
            ) from err
        self._async_update_source_issues(history)
        if history.kind is None:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="no_statistics",
                translation_placeholders={"entity_id": self.source_entity},
            )
        if history.valid_hours == 0:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="no_history",
                translation_placeholders={"entity_id": self.source_entity},
            )
        calibration = self.calibration
        try:
            result = forecast(
                self.artifact,
                history.kwh,
                end,
                dt_util.get_default_time_zone(),
                adjust=None if calibration is None else calibration.adjust,
            )
        except InsufficientHistoryError as err:
            recent = int(np.count_nonzero(~np.isnan(history.kwh[-LEVEL_WINDOW:])))
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="not_enough_history",
                translation_placeholders={
                    "entity_id": self.source_entity,
                    "hours": str(recent),
                    "needed": str(MIN_LEVEL_HOURS),
                },
            ) from err
        if result.history_hours < FULL_HISTORY_HOURS:
            LOGGER.debug(
                "Forecast for %s from %d of %d hours of history",
                self.source_entity,
                result.history_hours,
                FULL_HISTORY_HOURS,
            )
        return KilowiseForecast(
            forecast=result,
            history=history,
            as_of=now,
            forecast_hours=self.forecast_hours,
            adapted=calibration is not None,
        )

    async def _async_read_history(self, end: datetime) -> HourlyHistory:
        """The source's hourly use up to ``end``, read in part where it can be.

        The whole history (``HISTORY_HOURS``) is read at set-up and once a
        day at the entry's own hour; in between only the newest
        ``RECENT_HOURS`` (plus the hours since the last read) are read and
        joined to the previous read. Recent corrections and late hours are
        thus seen at once, older ones within a day, and a hundred entries
        cost little each hour. A change of the source's unit or kind, or a
        gap longer than the recent read, reads everything again.
        """
        previous = self._history
        if previous is not None and end.hour != self._full_read_hour:
            shift = round((end - previous.end) / HOUR)
            if 0 <= shift <= HISTORY_HOURS - RECENT_HOURS - 1:
                recent = await async_read_history(
                    self.hass, self.source_entity, end, RECENT_HOURS + shift
                )
                if (history := previous.updated(recent)) is not None:
                    self._history = history
                    return history
        history = await async_read_history(self.hass, self.source_entity, end)
        self._history = history
        return history

    @callback
    def _async_update_source_issues(self, history: HourlyHistory) -> None:
        """Raise or clear the repair issues about the source sensor.

        Skipped while Home Assistant starts: the source's integration may not
        have set up its entities yet.
        """
        if not self.hass.is_running:
            return
        entry = self.config_entry
        placeholders = {"entity_id": self.source_entity, "title": entry.title}
        state = self.hass.states.get(self.source_entity)
        registered = er.async_get(self.hass).async_get(self.source_entity) is not None
        missing = state is None and not registered
        stale_hours = history.hours_since_last_value
        reporting = state is not None and state.state not in (
            STATE_UNAVAILABLE,
            STATE_UNKNOWN,
        )
        unavailable = (
            not missing
            and not reporting
            and (stale_hours is None or stale_hours >= SOURCE_STALE_HOURS)
        )
        # A source whose unit or state class changed (a meter integration
        # that now reports power, a template edited by hand) keeps reporting,
        # but its new hours no longer give energy: the user must act.
        unsuitable = state is not None and reporting and source_error(state) is not None
        for issue, active, severity in (
            (ISSUE_SOURCE_MISSING, missing, ir.IssueSeverity.ERROR),
            (ISSUE_SOURCE_UNAVAILABLE, unavailable, ir.IssueSeverity.WARNING),
            (ISSUE_SOURCE_UNSUITABLE, unsuitable, ir.IssueSeverity.ERROR),
        ):
            issue_id = f"{issue}_{entry.entry_id}"
            if active:
                ir.async_create_issue(
                    self.hass,
                    DOMAIN,
                    issue_id,
                    is_fixable=issue in FIXABLE_SOURCE_ISSUES,
                    data={"entry_id": entry.entry_id},
                    severity=severity,
                    translation_key=issue,
                    translation_placeholders=placeholders
                    if issue != ISSUE_SOURCE_UNSUITABLE or state is None
                    else {**placeholders, **source_description(state)},
                )
            else:
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)
