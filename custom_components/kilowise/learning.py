"""What Kilowise learns about one home: its calibration and its live accuracy.

Both live in one ``Store`` per entry (written atomically, a minute after the
last change), loaded in the background after set-up so that start-up never
waits for it. The calibration is fitted in the executor, a few minutes after
start-up, then every week and on the ``kilowise.retrain`` action.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util
from sqlalchemy.exc import SQLAlchemyError

from .const import (
    ACCURACY_WINDOWS,
    ADAPTATION_FIRST_DELAY,
    ADAPTATION_INTERVAL,
    ADAPTATION_RETRY,
    ADAPTATION_TIME,
    LEARNING_SAVE_DELAY,
    LEARNING_STORAGE_VERSION,
    LOGGER,
    learning_storage_key,
)
from .engine.accuracy import Accuracy, ForecastLog
from .engine.adaptation import (
    ADAPTATION_HOURS,
    AdaptationResult,
    Calibration,
    Reason,
    Score,
    adapt,
)
from .history import async_read_history
from .local_time import local_iso
from .stores import EntryStore, async_read_store, async_remove_store, open_store

if TYPE_CHECKING:
    from .coordinator import KilowiseCoordinator
    from .data import KilowiseConfigEntry

HOUR = timedelta(hours=1)

NOT_CHECKED: Final = "bundled_not_checked"
"""No calibration has been checked for the model in use yet."""

STATUSES: Final = (
    Reason.ADAPTED,
    Reason.NOT_BETTER,
    Reason.NOT_ENOUGH_HISTORY,
    NOT_CHECKED,
)
"""Which model is in use and why: the states of the adaptation sensor."""


def _time(text: Any) -> datetime | None:
    if text is None:
        return None
    when = dt_util.parse_datetime(str(text))
    if when is None:
        raise ValueError(f"not a time: {text!r}")
    return dt_util.as_utc(when)


def next_local_time(after: datetime, at: time = ADAPTATION_TIME) -> datetime:
    """The first moment strictly after ``after`` when local time reads ``at`` (UTC)."""
    local = dt_util.as_local(after)
    for days in range(3):
        day = local.date() + timedelta(days=days)
        candidate = dt_util.as_utc(
            datetime.combine(day, at, tzinfo=dt_util.get_default_time_zone())
        )
        if candidate > after:
            return candidate
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class AdaptationState:
    """The outcome of the last fit, as kept in storage.

    ``model_id`` names the model whose errors were fitted; ``calibration``
    is the one in use (None: the bundled model), ``candidate`` the one that
    was fitted, kept or not. ``before``/``after`` score the bundled model and
    the candidate on the check week. Times are UTC.
    """

    reason: str = NOT_CHECKED
    model_id: str | None = None
    calibration: Calibration | None = None
    candidate: Calibration | None = None
    checked_at: datetime | None = None
    before: Score | None = None
    after: Score | None = None
    fit_start: datetime | None = None
    check_start: datetime | None = None
    check_end: datetime | None = None
    fit_hours: int = 0

    @classmethod
    def from_result(
        cls, result: AdaptationResult, model_id: str, checked_at: datetime
    ) -> AdaptationState:
        """The state after :func:`adapt` decided."""
        return cls(
            reason=result.reason,
            model_id=model_id,
            calibration=result.calibration,
            candidate=result.candidate,
            checked_at=checked_at,
            before=result.before,
            after=result.after,
            fit_start=result.fit_start,
            check_start=result.check_start,
            check_end=result.check_end,
            fit_hours=result.fit_hours,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form for storage (UTC ISO times)."""

        def utc(when: datetime | None) -> str | None:
            return None if when is None else when.isoformat()

        return {
            "reason": self.reason,
            "fitted_for": self.model_id,
            "calibration": None
            if self.calibration is None
            else self.calibration.as_dict(),
            "candidate": None if self.candidate is None else self.candidate.as_dict(),
            "checked_at": utc(self.checked_at),
            "before": None if self.before is None else self.before.as_dict(),
            "after": None if self.after is None else self.after.as_dict(),
            "fit_start": utc(self.fit_start),
            "check_start": utc(self.check_start),
            "check_end": utc(self.check_end),
            "fit_hours": self.fit_hours,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AdaptationState:
        """Read :meth:`as_dict`'s form back; ``ValueError`` when it is not valid."""
        try:
            reason = str(data["reason"])
            if reason not in STATUSES:
                raise ValueError(f"unknown reason {reason!r}")
            calibration = data.get("calibration")
            candidate = data.get("candidate")
            before = data.get("before")
            after = data.get("after")
            model_id = data.get("fitted_for")
            return cls(
                reason=reason,
                model_id=None if model_id is None else str(model_id),
                calibration=None
                if calibration is None
                else Calibration.from_dict(calibration),
                candidate=None
                if candidate is None
                else Calibration.from_dict(candidate),
                checked_at=_time(data.get("checked_at")),
                before=None if before is None else Score.from_dict(before),
                after=None if after is None else Score.from_dict(after),
                fit_start=_time(data.get("fit_start")),
                check_start=_time(data.get("check_start")),
                check_end=_time(data.get("check_end")),
                fit_hours=int(data.get("fit_hours", 0)),
            )
        except (KeyError, TypeError, AttributeError) as err:
            raise ValueError(f"not an adaptation state: {err}") from err


@dataclass
class KilowiseLearning:
    """The calibration and the forecast log of one entry, and their schedule."""

    hass: HomeAssistant
    entry: KilowiseConfigEntry
    coordinator: KilowiseCoordinator
    adaptation: AdaptationState = field(default_factory=AdaptationState)
    log: ForecastLog = field(default_factory=ForecastLog)
    accuracy: dict[int, Accuracy | None] = field(
        default_factory=lambda: dict.fromkeys(ACCURACY_WINDOWS)
    )
    loaded: bool = False
    next_check: datetime | None = None
    _store: EntryStore = field(init=False)
    _lock: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)
    _unsub_check: Callable[[], None] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        """Open (not yet read) the entry's store."""
        self._store = open_store(
            self.hass,
            LEARNING_STORAGE_VERSION,
            learning_storage_key(self.entry.entry_id),
        )

    @property
    def status(self) -> str:
        """Which model is in use and why (one of ``STATUSES``)."""
        state = self.adaptation
        if (
            state.checked_at is None
            or state.model_id != self.coordinator.artifact.model_id
        ):
            return NOT_CHECKED
        return state.reason

    @callback
    def async_start(self) -> None:
        """Follow the forecasts, and load the stored state in the background."""
        self.entry.async_on_unload(
            self.coordinator.async_add_listener(self._async_forecast_updated)
        )
        self.entry.async_on_unload(self._async_cancel_check)
        self.entry.async_on_unload(self._async_flush)
        self.entry.async_create_background_task(
            self.hass, self._async_load(), f"kilowise load {self.entry.entry_id}"
        )

    async def _async_load(self) -> None:
        stored = await async_read_store(self._store, "what Kilowise learned")
        if stored is not None:
            self._restore(stored)
        self.loaded = True
        self.coordinator.use_calibration(
            self.adaptation.calibration, self.adaptation.model_id or ""
        )
        self._async_schedule_check()
        if self.coordinator.calibration is not None:
            await self.coordinator.async_request_refresh()
        else:
            self.coordinator.async_update_listeners()

    def _restore(self, stored: Mapping[str, Any]) -> None:
        for key, parse in (
            ("adaptation", AdaptationState.from_dict),
            ("forecast_log", ForecastLog.from_dict),
        ):
            data = stored.get(key)
            if data is None:
                continue
            try:
                value = parse(data)
            except ValueError as err:
                LOGGER.warning(
                    "The stored %s of %s is not usable (%s); starting it afresh",
                    key.replace("_", " "),
                    self.entry.title,
                    err,
                )
                continue
            if key == "adaptation":
                assert isinstance(value, AdaptationState)
                self.adaptation = value
            else:
                assert isinstance(value, ForecastLog)
                self.log = value

    def _data_to_save(self) -> dict[str, Any]:
        return {
            "adaptation": self.adaptation.as_dict(),
            "forecast_log": self.log.as_dict(),
        }

    async def _async_flush(self) -> None:
        """Write now what waits for its delayed write (the entry unloads)."""
        if self.loaded:
            await self._store.async_save(self._data_to_save())

    @callback
    def _async_save(self) -> None:
        self._store.async_delay_save(self._data_to_save, LEARNING_SAVE_DELAY)

    @staticmethod
    async def async_remove_store(hass: HomeAssistant, entry_id: str) -> None:
        """Delete an entry's stored state (the entry is being removed)."""
        await async_remove_store(
            hass, LEARNING_STORAGE_VERSION, learning_storage_key(entry_id)
        )

    @callback
    def _async_forecast_updated(self) -> None:
        """Log the new forecast's hours and score the hours that arrived."""
        coordinator = self.coordinator
        if not self.loaded or not coordinator.last_update_success:
            return
        data = coordinator.data
        if data is None:
            return
        fc = data.forecast
        end = data.history.end
        changed = self.log.record(
            fc.start,
            fc.p10,
            fc.p50,
            fc.p90,
            until=data.next_local_midnight(1),
            issued=data.as_of,
        )
        changed += self.log.score(end, data.history.kwh)
        changed += self.log.prune(end)
        self.accuracy = {
            days: self.log.accuracy(end, days) for days in ACCURACY_WINDOWS
        }
        if changed:
            self._async_save()
        if (
            self.status == NOT_CHECKED
            and self.next_check is not None
            and self.next_check > dt_util.utcnow() + ADAPTATION_FIRST_DELAY
        ):
            # The model in use changed: check a calibration for it soon.
            self._async_schedule_check()

    @callback
    def _async_cancel_check(self) -> None:
        if self._unsub_check is not None:
            self._unsub_check()
            self._unsub_check = None

    @callback
    def _async_schedule_check(self, due: datetime | None = None) -> None:
        """Plan the next fit, at ``ADAPTATION_TIME`` local time.

        The first night after set-up (or after the model changed), a day
        after an attempt that lacked history, a week after the last fit;
        never sooner than ``ADAPTATION_FIRST_DELAY`` from now.
        """
        self._async_cancel_check()
        now = dt_util.utcnow()
        if due is None:
            state = self.adaptation
            slack = timedelta(hours=1)  # a fit run late keeps its time of day
            if self.status == NOT_CHECKED or state.checked_at is None:
                after = now
            elif state.reason == Reason.NOT_ENOUGH_HISTORY:
                after = state.checked_at + ADAPTATION_RETRY - slack
            else:
                after = state.checked_at + ADAPTATION_INTERVAL - slack
            due = next_local_time(max(after, now + ADAPTATION_FIRST_DELAY))
        self.next_check = due
        self._unsub_check = async_track_point_in_utc_time(
            self.hass, self._async_scheduled_check, due
        )

    async def _async_scheduled_check(self, _now: datetime) -> None:
        self._unsub_check = None
        try:
            await self.async_adapt()
        except SQLAlchemyError as err:
            LOGGER.warning(
                "Could not read the statistics of %s to adapt the forecast: %s; "
                "trying again in %s",
                self.coordinator.source_entity,
                err,
                ADAPTATION_RETRY,
            )
            self._async_schedule_check(dt_util.utcnow() + ADAPTATION_RETRY)

    async def async_adapt(self) -> AdaptationState:
        """Fit the home's calibration and keep it if it wins its check week.

        Reads the statistics in the recorder's executor and fits in the
        executor; raises ``SQLAlchemyError`` when the database cannot be
        read. The forecast is refreshed when the model in use changed.
        """
        async with self._lock:
            now = dt_util.utcnow()
            end = now.replace(minute=0, second=0, microsecond=0)
            history = await async_read_history(
                self.hass, self.coordinator.source_entity, end, ADAPTATION_HOURS
            )
            artifact = self.coordinator.artifact
            result = await self.hass.async_add_executor_job(
                adapt,
                artifact.ensemble.predict,
                history.kwh,
                end - len(history.kwh) * HOUR,
                dt_util.get_default_time_zone(),
            )
            was_adapted = self.coordinator.calibration is not None
            state = AdaptationState.from_result(result, artifact.model_id, now)
            self.adaptation = state
            self.coordinator.use_calibration(state.calibration, artifact.model_id)
            self._async_save()
            self._async_schedule_check()
        LOGGER.info(
            "Adaptation of %s: %s (check week MAE %s kWh bundled, %s adapted)",
            self.entry.title,
            state.reason,
            None if state.before is None else round(state.before.mae_kwh, 4),
            None if state.after is None else round(state.after.mae_kwh, 4),
        )
        if was_adapted or state.calibration is not None:
            await self.coordinator.async_refresh()
        else:
            self.coordinator.async_update_listeners()
        return state

    def response(self) -> dict[str, Any]:
        """The outcome of the last fit, JSON-safe, local ISO times (the action's)."""
        state = self.adaptation
        status = self.status

        def scores(score: Score | None) -> dict[str, Any] | None:
            if score is None:
                return None
            data = score.as_dict()
            return {
                key: data[key]
                for key in ("mae_kwh", "mase_weekly", "coverage_p10_p90", "hours")
            }

        return {
            "model_in_use": "adapted" if status == Reason.ADAPTED else "bundled",
            "accepted": status == Reason.ADAPTED,
            "reason": status,
            "model_id": state.model_id,
            "checked_at": local_iso(state.checked_at),
            "next_check": local_iso(self.next_check),
            "fit": {
                "start": local_iso(state.fit_start),
                "end": local_iso(state.check_start),
                "hours": state.fit_hours,
            },
            "check_week": {
                "start": local_iso(state.check_start),
                "end": local_iso(state.check_end),
            },
            "before": scores(state.before),
            "after": scores(state.after),
        }

    def diagnostics(self) -> dict[str, Any]:
        """Everything learned, for the entry's diagnostics."""
        log = self.log
        return {
            "status": self.status,
            "loaded": self.loaded,
            "next_check": local_iso(self.next_check),
            "adaptation": self.adaptation.as_dict(),
            "forecast_log": {
                "hours": len(log),
                "scored": int(log.scored.sum()),
                "pending": int((~log.scored).sum()),
                "given_up": log.dropped,
            },
            "accuracy": {
                f"{days}_days": None if value is None else asdict(value)
                for days, value in self.accuracy.items()
            },
        }
