"""Recommendations: when to run appliances, which peaks to expect, what a day costs.

One :class:`KilowiseRecommendations` per entry turns the forecast and the
prices into decisions. It recomputes when the forecast is refreshed, when the
price sensor changes and at every quarter hour; it feeds the appliance and
peak entities, fires the ``kilowise_recommendation`` and
``kilowise_peak_warning`` events at their moments, and answers the
``kilowise.recommend`` action. The optimiser itself is ``engine.schedule``.

Other parts of Kilowise (control of deferrable switches) ask for a window with
:meth:`KilowiseRecommendations.recommended_window`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
)
from homeassistant.util import dt as dt_util
import numpy as np

from .const import (
    CONF_DURATION_MINUTES,
    CONF_EARLIEST_START,
    CONF_ENERGY_ENTITY,
    CONF_ENERGY_KWH,
    CONF_LATEST_END,
    CONF_NAME,
    CONF_PEAK_WARNING_MINUTES,
    CONF_POWER_PROFILE,
    CONF_PRICE_ENTITY,
    CONF_SWITCH_ENTITY,
    CONF_TARIFF,
    CYCLE_HISTORY_HOURS,
    CYCLE_LEARNING_INTERVAL,
    DEFAULT_PEAK_WARNING_MINUTES,
    EVENT_PEAK_WARNING,
    EVENT_RECOMMENDATION,
    LOGGER,
    RECOMMENDATION_TICK,
    SUBENTRY_APPLIANCE,
)
from .engine.cycles import Cycle, learn_cycle
from .engine.features import FloatArray
from .engine.forecasting import expected_energy
from .engine.peaks import day_peak, peak_mask, peak_periods
from .engine.prices import PriceError, PriceSeries, parse_price_attributes, parse_tariff
from .engine.schedule import Profile, Rate, Schedule, run_costs, schedule
from .history import async_read_history

if TYPE_CHECKING:
    from .coordinator import KilowiseCoordinator, KilowiseForecast
    from .data import KilowiseConfigEntry

HOUR = timedelta(hours=1)
DEFAULT_ALTERNATIVES = 3
GOOD_SHARE = 0.1
"""Starting now is a good time when it costs at most this share of the spread
between the best and the worst start above the best."""

REFIRE_GAP = timedelta(hours=12)
"""An appliance without a window gets at most one recommendation event per run
and this much time after it."""

BASIS_PRICES = "prices"
BASIS_LOAD = "load"


class RecommendationError(Exception):
    """A request that cannot be answered; ``key`` is its translation key."""

    def __init__(self, key: str, **placeholders: str) -> None:
        """Keep the translation key and its placeholders."""
        super().__init__(key)
        self.key = key
        self.placeholders = placeholders


@dataclass(frozen=True, slots=True)
class Appliance:
    """An appliance to schedule, from its config subentry.

    ``profile`` is what the optimiser uses: the learned cycle when the
    sub-meter taught one, else the entered power profile, else the entered
    energy spread evenly over the entered duration (``profile_source``).
    """

    subentry_id: str
    name: str
    profile: Profile
    profile_source: str
    switch_entity: str | None
    energy_entity: str | None
    earliest: time | None
    latest_end: time | None
    cycle: Cycle | None = None


def _time(value: Any) -> time | None:
    if value in (None, ""):
        return None
    if isinstance(value, time):
        return value
    return time.fromisoformat(str(value))


def configured_profile(data: Mapping[str, Any]) -> tuple[Profile, str]:
    """The profile a subentry states: a power profile, or energy over a duration."""
    duration_s = float(data[CONF_DURATION_MINUTES]) * 60.0
    powers = [float(value) for value in data.get(CONF_POWER_PROFILE) or []]
    if powers:
        return Profile.from_power(powers, duration_s), "power_profile"
    return Profile.flat(float(data[CONF_ENERGY_KWH]), duration_s), "configured"


def appliance_from_subentry(subentry: ConfigSubentry, cycle: Cycle | None) -> Appliance:
    """An appliance from its subentry and, if one was learned, its typical cycle."""
    data = subentry.data
    profile, source = configured_profile(data)
    if cycle is not None:
        profile = Profile(cycle.profile_kwh, cycle.step_seconds)
        source = "learned"
    return Appliance(
        subentry_id=subentry.subentry_id,
        name=str(data.get(CONF_NAME) or subentry.title),
        profile=profile,
        profile_source=source,
        switch_entity=data.get(CONF_SWITCH_ENTITY) or None,
        energy_entity=data.get(CONF_ENERGY_ENTITY) or None,
        earliest=_time(data.get(CONF_EARLIEST_START)),
        latest_end=_time(data.get(CONF_LATEST_END)),
        cycle=cycle,
    )


def daily_window(
    now: datetime,
    earliest: time | None,
    latest_end: time | None,
    duration: timedelta,
    tz: tzinfo,
) -> tuple[datetime, datetime] | None:
    """The next local-time window ``[earliest, latest_end)`` in which a run fits.

    With only one of the two times, the window is the 24 hours after (or
    before) it. None when neither is set (the caller uses its own horizon).
    A window past midnight (22:00 to 07:00) ends the next day.
    """
    if earliest is None and latest_end is None:
        return None
    earliest = earliest if earliest is not None else latest_end
    latest_end = latest_end if latest_end is not None else earliest
    assert earliest is not None
    assert latest_end is not None
    today = now.astimezone(tz).date()
    for offset in (-1, 0, 1, 2):
        day = today + timedelta(days=offset)
        start = datetime.combine(day, earliest, tz)
        end_day = day if latest_end > earliest else day + timedelta(days=1)
        end = datetime.combine(end_day, latest_end, tz)
        start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
        if end_utc - max(start_utc, now) >= duration:
            return max(start_utc, now), end_utc
    return None


@dataclass(frozen=True, slots=True)
class Option:
    """One start of a run: when, until when, and its cost (or load)."""

    start: datetime
    end: datetime
    value: float

    def as_dict(self, basis: str, energy_kwh: float) -> dict[str, Any]:
        """JSON-safe, local ISO times."""
        result: dict[str, Any] = {
            "start": dt_util.as_local(self.start).isoformat(),
            "end": dt_util.as_local(self.end).isoformat(),
        }
        if basis == BASIS_PRICES:
            result["cost"] = round(self.value, 4)
        else:
            result["expected_load_kw"] = round(_mean_load(self.value, energy_kwh), 3)
        return result


def _mean_load(weighted: float, energy_kwh: float) -> float:
    """Household load (kW) during a run, weighted by the run's energy."""
    return weighted / energy_kwh if energy_kwh > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Recommendation:
    """The answer for one run: the best start, starting now, alternatives, why."""

    basis: str
    currency: str | None
    energy_kwh: float
    duration: timedelta
    window_start: datetime
    window_end: datetime
    best: Option
    now: Option | None
    alternatives: list[Option]
    worst_value: float
    starts_evaluated: int
    as_of: datetime
    peak_start: datetime | None
    peak_end: datetime | None
    fallback: str | None = None
    notes: list[str] = field(default_factory=list)
    appliance: Appliance | None = None

    @property
    def saving(self) -> float | None:
        """What the best start saves against starting as soon as allowed.

        That is now, or the window's start when the window begins later.
        """
        if self.now is None:
            return None
        return self.now.value - self.best.value

    @property
    def good_now(self) -> bool:
        """Starting now costs little more than the best start (``GOOD_SHARE``)."""
        if self.now is None or self.window_start > self.as_of:
            return False
        spread = self.worst_value - self.best.value
        return self.now.value - self.best.value <= GOOD_SHARE * spread + 1e-12

    @property
    def avoids_peak(self) -> bool | None:
        """True when the best run does not overlap the predicted peak period."""
        if self.peak_start is None or self.peak_end is None:
            return None
        return self.best.end <= self.peak_start or self.best.start >= self.peak_end

    def as_dict(self) -> dict[str, Any]:
        """The action's response: JSON-safe, local ISO times."""
        basis, energy = self.basis, self.energy_kwh
        saving = self.saving
        result: dict[str, Any] = {
            "basis": basis,
            "currency": self.currency if basis == BASIS_PRICES else None,
            "energy_kwh": round(energy, 3),
            "duration_minutes": round(self.duration.total_seconds() / 60, 1),
            "window": {
                "start": dt_util.as_local(self.window_start).isoformat(),
                "end": dt_util.as_local(self.window_end).isoformat(),
            },
            "best": self.best.as_dict(basis, energy),
            "start_now": None if self.now is None else self.now.as_dict(basis, energy),
            "alternatives": [
                option.as_dict(basis, energy) for option in self.alternatives
            ],
            "starts_evaluated": self.starts_evaluated,
            "reason": {
                "basis": basis,
                "fallback": self.fallback,
                "predicted_peak_start": None
                if self.peak_start is None
                else dt_util.as_local(self.peak_start).isoformat(),
                "predicted_peak_end": None
                if self.peak_end is None
                else dt_util.as_local(self.peak_end).isoformat(),
                "avoids_predicted_peak": self.avoids_peak,
            },
            "notes": list(self.notes),
        }
        if basis == BASIS_PRICES:
            result["saving"] = None if saving is None else round(saving, 4)
        else:
            result["saving_kw"] = (
                None if saving is None else round(_mean_load(saving, energy), 3)
            )
        if self.appliance is not None:
            result["appliance"] = {
                "subentry_id": self.appliance.subentry_id,
                "name": self.appliance.name,
                "profile_source": self.appliance.profile_source,
                "switch_entity": self.appliance.switch_entity,
            }
        return result


@dataclass(frozen=True, slots=True)
class RecommendedWindow:
    """A window to run a deferrable load in (see ``recommended_window``).

    ``value`` is the run's cost in ``currency`` when ``basis`` is
    ``prices``, else the household's expected load (kW) during the run.
    """

    start: datetime
    end: datetime
    basis: str
    value: float
    currency: str | None


@dataclass(frozen=True, slots=True)
class DayCost:
    """Expected cost of a local day, or why there is none."""

    cost: float | None
    energy_kwh: float | None
    missing: str | None


@dataclass(slots=True)
class Snapshot:
    """What the entities show, computed at ``as_of``."""

    as_of: datetime
    prices: PriceSeries | None = None
    price_error: PriceError | None = None
    plans: dict[str, Recommendation | RecommendationError] = field(default_factory=dict)
    peak_now: bool | None = None
    peak_hour: datetime | None = None
    peak_hour_kwh: float | None = None
    peak_hour_measured: bool = False
    peaks: list[tuple[datetime, datetime, float, float]] = field(default_factory=list)
    """Future peak periods: (start, end, highest expected kWh, its p90)."""
    today: DayCost | None = None
    tomorrow: DayCost | None = None


def _seconds(moment: datetime) -> float:
    return moment.timestamp()


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(float(seconds), UTC)


class KilowiseRecommendations:
    """Recommendations of one entry: computed, scheduled, and published."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: KilowiseConfigEntry,
        coordinator: KilowiseCoordinator,
    ) -> None:
        """Prepare; nothing is computed until ``async_start``."""
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator
        options = entry.options
        self.price_entity: str | None = options.get(CONF_PRICE_ENTITY) or None
        self.tariff_lines: list[str] = list(options.get(CONF_TARIFF) or [])
        self.peak_lead = timedelta(
            minutes=float(
                options.get(CONF_PEAK_WARNING_MINUTES, DEFAULT_PEAK_WARNING_MINUTES)
            )
        )
        self.cycles: dict[str, Cycle | None] = {}
        self.cycle_notes: dict[str, str] = {}
        self._cycles_learned_at: datetime | None = None
        self.snapshot = Snapshot(as_of=dt_util.utcnow())
        self._listeners: list[Callable[[], None]] = []
        self._unsubs: list[Callable[[], None]] = []
        self._timers: list[Callable[[], None]] = []
        self._fired_recommendations: dict[str, datetime] = {}
        """Per appliance: no new recommendation event before this moment."""
        self._fired_peaks: set[datetime] = set()
        self._learning = False
        self._unsub_tick: Callable[[], None] | None = None

    # ------------------------------------------------------------------
    # life cycle
    @callback
    def async_start(self) -> None:
        """Compute now, then follow the forecast, the prices and the clock."""
        self._unsubs.append(self.coordinator.async_add_listener(self._async_changed))
        if self.price_entity:
            self._unsubs.append(
                async_track_state_change_event(
                    self.hass, self.price_entity, self._async_price_changed
                )
            )
        self._schedule_tick()
        self.async_update()
        if any(a.energy_entity for a in self.appliances()):
            self.entry.async_create_background_task(
                self.hass, self.async_learn_cycles(), "kilowise learn appliance cycles"
            )

    @callback
    def async_stop(self) -> None:
        """Stop every listener and timer (the entry unloads)."""
        if self._unsub_tick is not None:
            self._unsub_tick()
            self._unsub_tick = None
        for unsub in (*self._unsubs, *self._timers):
            unsub()
        self._unsubs.clear()
        self._timers.clear()
        self._listeners.clear()

    @callback
    def async_add_listener(self, update: Callable[[], None]) -> Callable[[], None]:
        """Call ``update`` after each recomputation; returns the remover."""
        self._listeners.append(update)
        return lambda: self._listeners.remove(update)

    @callback
    def _schedule_tick(self) -> None:
        now = dt_util.utcnow()
        step = RECOMMENDATION_TICK.total_seconds()
        following = _utc((now.timestamp() // step + 1) * step)
        self._unsub_tick = async_track_point_in_utc_time(
            self.hass, self._async_tick, following
        )

    @callback
    def _async_tick(self, _now: datetime) -> None:
        self._schedule_tick()
        self.async_update()
        if (
            self._cycles_learned_at is not None
            and dt_util.utcnow() - self._cycles_learned_at >= CYCLE_LEARNING_INTERVAL
        ):
            self.entry.async_create_background_task(
                self.hass, self.async_learn_cycles(), "kilowise learn appliance cycles"
            )

    @callback
    def _async_changed(self) -> None:
        self.async_update()

    @callback
    def _async_price_changed(self, _event: Event[EventStateChangedData]) -> None:
        self.async_update()

    # ------------------------------------------------------------------
    # inputs
    def appliances(self) -> list[Appliance]:
        """The entry's appliances, with their learned cycles where there are."""
        return [
            appliance_from_subentry(sub, self.cycles.get(sub.subentry_id))
            for sub in self.entry.subentries.values()
            if sub.subentry_type == SUBENTRY_APPLIANCE
        ]

    def appliance(self, key: str) -> Appliance:
        """An appliance by subentry id or by name (case-insensitive)."""
        wanted = key.strip().casefold()
        for appliance in self.appliances():
            if key == appliance.subentry_id or wanted == appliance.name.casefold():
                return appliance
        raise RecommendationError("unknown_appliance", appliance=key)

    async def async_learn_cycles(self) -> None:
        """Learn each appliance's typical cycle from its sub-meter's statistics."""
        if self._learning:
            return
        self._learning = True
        try:
            end = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
            for sub in list(self.entry.subentries.values()):
                entity = sub.data.get(CONF_ENERGY_ENTITY)
                if sub.subentry_type != SUBENTRY_APPLIANCE or not entity:
                    continue
                history = await async_read_history(
                    self.hass, entity, end, hours=CYCLE_HISTORY_HOURS
                )
                cycle = None if history.kind is None else learn_cycle(history.kwh)
                self.cycles[sub.subentry_id] = cycle
                if history.kind is None:
                    self.cycle_notes[sub.subentry_id] = "no_statistics"
                elif cycle is None:
                    self.cycle_notes[sub.subentry_id] = "too_few_cycles"
                else:
                    self.cycle_notes.pop(sub.subentry_id, None)
                LOGGER.debug(
                    "Cycle of %s learned from %s: %s", sub.title, entity, cycle
                )
            self._cycles_learned_at = dt_util.utcnow()
        finally:
            self._learning = False
        self.async_update()

    def read_prices(
        self, now: datetime
    ) -> tuple[PriceSeries | None, PriceError | None]:
        """The prices in use now, or why there are none (None, None: no source)."""
        tz = dt_util.get_default_time_zone()
        if self.price_entity:
            state = self.hass.states.get(self.price_entity)
            try:
                # A sensor that does not exist reads as unavailable (engine's rule).
                series = parse_price_attributes(
                    None if state is None else state.state,
                    {} if state is None else state.attributes,
                    tz=tz,
                    now=now,
                    home_currency=self.hass.config.currency,
                )
            except PriceError as err:
                return None, err
            return series, None
        if self.tariff_lines:
            try:
                tariff = parse_tariff(self.tariff_lines)
            except PriceError as err:
                return None, err
            midnight = dt_util.start_of_local_day(dt_util.as_local(now))
            return (
                tariff.series(
                    midnight,
                    midnight + timedelta(days=3),
                    tz,
                    self.hass.config.currency,
                ),
                None,
            )
        return None, None

    @property
    def forecast(self) -> KilowiseForecast | None:
        """The latest forecast, if there ever was one."""
        return self.coordinator.data

    # ------------------------------------------------------------------
    # the optimiser, for one run
    def recommend(
        self,
        profile: Profile,
        window_start: datetime | None,
        window_end: datetime | None,
        *,
        alternatives: int = DEFAULT_ALTERNATIVES,
        appliance: Appliance | None = None,
        now: datetime | None = None,
        prices: tuple[PriceSeries | None, PriceError | None] | None = None,
    ) -> Recommendation:
        """The best start of a run within a window, exactly, with alternatives.

        With usable prices the cost of every admissible start is computed
        (``engine.schedule``); without prices, or when they cannot be used
        (the response's ``reason.fallback`` says why), the run goes where the
        household's expected load is lowest. Raises ``RecommendationError``.
        """
        # Whole seconds: a start is never meant to the microsecond.
        now = (now or dt_util.utcnow()).replace(microsecond=0)
        duration = timedelta(seconds=profile.duration_seconds)
        forecast = self.forecast
        notes: list[str] = []
        if window_end is not None and window_end <= now:
            raise RecommendationError(
                "window_in_past", end=dt_util.as_local(window_end).isoformat()
            )
        if window_start is None or window_start < now:
            if window_start is not None:
                notes.append("window_start_moved_to_now")
            window_start = now
        series, price_error = prices if prices is not None else self.read_prices(now)
        horizon_ends = [forecast.end] if forecast is not None else []
        if series is not None and series.last_end is not None:
            horizon_ends.append(_utc(series.last_end))
        if window_end is None:
            if not horizon_ends:
                raise RecommendationError("no_forecast_no_prices")
            window_end = max(horizon_ends)
        if window_end - window_start < duration:
            raise RecommendationError(
                "window_too_short",
                window=str(window_end - window_start),
                duration=str(duration),
            )
        fallback: str | None = None if price_error is None else price_error.key
        result: Schedule | None = None
        basis = BASIS_PRICES
        if series is not None:
            result = schedule(
                series.rate(), profile, _seconds(window_start), _seconds(window_end)
            )
            if result.empty:
                fallback = (
                    "prices_end_before_window"
                    if series.last_end is not None
                    and series.last_end
                    < _seconds(window_start) + profile.duration_seconds
                    else "prices_missing_in_window"
                )
                result = None
            elif series.last_end is not None and series.last_end < _seconds(window_end):
                notes.append("window_cut_to_known_prices")
            notes.extend(series.notes)
            if result is not None and series.currency != self.hass.config.currency:
                # Costs stay in the source's currency; never converted.
                notes.append("currency_not_home")
        if result is None:
            basis = BASIS_LOAD
            if forecast is None:
                raise RecommendationError("no_forecast_no_prices")
            load = Rate.hourly(_seconds(forecast.forecast.start), forecast.forecast.p50)
            result = schedule(
                load, profile, _seconds(window_start), _seconds(window_end)
            )
            if result.empty:
                raise RecommendationError(
                    "window_outside_forecast",
                    end=dt_util.as_local(forecast.end).isoformat(),
                )
            if forecast.end < window_end:
                notes.append("window_cut_to_forecast")
        run = profile.duration_seconds
        ranked = result.ranked(1 + max(alternatives, 0), separation=run)

        def option(index: int) -> Option:
            start = float(result.starts[index])
            return Option(_utc(start), _utc(start + run), float(result.costs[index]))

        now_value = result.cost_at(_seconds(window_start))
        peak = self._window_peak(window_start, window_end)
        return Recommendation(
            basis=basis,
            currency=series.currency if basis == BASIS_PRICES and series else None,
            energy_kwh=profile.total_kwh,
            duration=duration,
            window_start=window_start,
            window_end=window_end,
            best=option(ranked[0]),
            now=None
            if now_value is None
            else Option(window_start, window_start + duration, now_value),
            alternatives=[option(index) for index in ranked[1:]],
            worst_value=float(np.max(result.costs)),
            starts_evaluated=len(result.starts),
            as_of=now,
            peak_start=None if peak is None else peak[0],
            peak_end=None if peak is None else peak[1],
            fallback=fallback if basis == BASIS_LOAD else None,
            notes=notes,
            appliance=appliance,
        )

    def _window_peak(
        self, start: datetime, end: datetime
    ) -> tuple[datetime, datetime] | None:
        """The highest predicted peak period overlapping a window."""
        best: tuple[datetime, datetime, float] | None = None
        for peak_start, peak_end, kwh, _p90 in self.snapshot.peaks:
            if (
                peak_end > start
                and peak_start < end
                and (best is None or kwh > best[2])
            ):
                best = (peak_start, peak_end, kwh)
        return None if best is None else (best[0], best[1])

    def recommend_appliance(
        self,
        appliance: Appliance,
        *,
        window_start: datetime | None = None,
        window_end: datetime | None = None,
        alternatives: int = DEFAULT_ALTERNATIVES,
        now: datetime | None = None,
        prices: tuple[PriceSeries | None, PriceError | None] | None = None,
    ) -> Recommendation:
        """Recommend a configured appliance, in its own daily window by default."""
        now = now or dt_util.utcnow()
        if window_start is None and window_end is None:
            duration = timedelta(seconds=appliance.profile.duration_seconds)
            window = daily_window(
                now,
                appliance.earliest,
                appliance.latest_end,
                duration,
                dt_util.get_default_time_zone(),
            )
            if window is not None:
                window_start, window_end = window
        return self.recommend(
            appliance.profile,
            window_start,
            window_end,
            alternatives=alternatives,
            appliance=appliance,
            now=now,
            prices=prices,
        )

    def recommended_window(
        self,
        appliance: str | None = None,
        *,
        duration: timedelta | None = None,
        energy_kwh: float | None = None,
        earliest: datetime | None = None,
        latest_end: datetime | None = None,
    ) -> RecommendedWindow:
        """The recommended window for an appliance, or for an ad-hoc run.

        For other parts of Kilowise that run deferrable loads: give a
        configured appliance (subentry id or name), or a ``duration`` and the
        ``energy_kwh`` it uses (spread evenly), and optionally a window
        (``earliest`` start, ``latest_end``; by default the appliance's own
        window, else from now to the end of the forecast or the prices).
        Uses prices when there are usable ones, else the household's expected
        load. Raises ``RecommendationError`` (``key`` names the reason).
        """
        if appliance is not None:
            plan = self.recommend_appliance(
                self.appliance(appliance),
                window_start=earliest,
                window_end=latest_end,
                alternatives=0,
            )
        else:
            if duration is None or duration <= timedelta(0) or energy_kwh is None:
                raise RecommendationError("appliance_or_run_needed")
            plan = self.recommend(
                Profile.flat(energy_kwh, duration.total_seconds()),
                earliest,
                latest_end,
                alternatives=0,
            )
        return RecommendedWindow(
            start=plan.best.start,
            end=plan.best.end,
            basis=plan.basis,
            value=plan.best.value,
            currency=plan.currency,
        )

    # ------------------------------------------------------------------
    # recomputation
    @callback
    def async_update(self) -> None:
        """Recompute everything the entities show and reschedule the events."""
        now = dt_util.utcnow()
        prices = self.read_prices(now)
        snapshot = Snapshot(as_of=now, prices=prices[0], price_error=prices[1])
        self._compute_peaks(snapshot, now)
        self.snapshot = snapshot
        for appliance in self.appliances():
            try:
                plan: Recommendation | RecommendationError = self.recommend_appliance(
                    appliance, now=now, prices=prices
                )
            except RecommendationError as err:
                plan = err
            snapshot.plans[appliance.subentry_id] = plan
        snapshot.today = self._day_cost(snapshot, now, 0)
        snapshot.tomorrow = self._day_cost(snapshot, now, 1)
        self._schedule_events(snapshot, now)
        for update in list(self._listeners):
            update()

    def _day_hours(
        self, now: datetime, days: int, expected: FloatArray | None = None
    ) -> tuple[datetime, list[float]] | None:
        """A local day's hours: measured kWh before the forecast, forecast after.

        ``expected`` is the forecast's kWh per hour to use (p50 by default);
        NaN where nothing is known.
        """
        forecast = self.forecast
        if forecast is None:
            return None
        local_day = dt_util.as_local(now).date() + timedelta(days=days)
        start = dt_util.as_utc(dt_util.start_of_local_day(local_day))
        end = dt_util.as_utc(dt_util.start_of_local_day(local_day + timedelta(days=1)))
        fc = forecast.forecast
        ahead = fc.p50 if expected is None else expected
        history = forecast.history.kwh
        values: list[float] = []
        moment = start
        while moment < end:
            offset = round((moment - fc.start) / HOUR)
            if offset >= 0:
                values.append(float(ahead[offset]) if offset < fc.hours else np.nan)
            else:
                index = len(history) + offset
                values.append(float(history[index]) if index >= 0 else np.nan)
            moment += HOUR
        return start, values

    def _compute_peaks(self, snapshot: Snapshot, now: datetime) -> None:
        """Today's peak hour, the peak now, and the future peak periods."""
        forecast = self.forecast
        if forecast is None:
            return
        fc = forecast.forecast
        today = self._day_hours(now, 0)
        if today is not None:
            start, values = today
            day = np.array(values)
            top = day_peak(day)
            if top is not None:
                snapshot.peak_hour = start + top * HOUR
                snapshot.peak_hour_kwh = round(values[top], 3)
                snapshot.peak_hour_measured = snapshot.peak_hour < fc.start
            current = int((now - start) / HOUR)
            mask = peak_mask(day, np.zeros(len(day), dtype=np.int64))
            snapshot.peak_now = (
                bool(mask[current]) if 0 <= current < len(mask) else None
            )
        hours = [fc.hour_start(i) for i in range(fc.hours)]
        days = np.array(
            [dt_util.as_local(hour).date().toordinal() for hour in hours],
            dtype=np.int64,
        )
        for period in peak_periods(fc.p50, days):
            start = hours[period.first]
            end = hours[period.stop - 1] + HOUR
            if end <= now:
                continue
            snapshot.peaks.append(
                (start, end, float(fc.p50[period.top]), float(fc.p90[period.top]))
            )

    def _day_cost(self, snapshot: Snapshot, now: datetime, days: int) -> DayCost | None:
        """Expected cost of today (``days=0``) or tomorrow, where prices exist."""
        if snapshot.prices is None:
            return None
        forecast = self.forecast
        if forecast is None:
            return DayCost(None, None, "no_forecast")
        fc = forecast.forecast
        # A cost is an expectation: the mean estimated from p10/p50/p90.
        hours = self._day_hours(now, days, expected_energy(fc.p10, fc.p50, fc.p90))
        if hours is None:
            return DayCost(None, None, "no_forecast")
        start, values = hours
        if any(np.isnan(values)):
            return DayCost(None, None, "energy_unknown")
        starts = np.array([_seconds(start + i * HOUR) for i in range(len(values))])
        mean_price, uncovered = run_costs(
            snapshot.prices.rate(), Profile.flat(1.0, 3600.0), starts
        )
        if np.any(uncovered > 1e-6):
            return DayCost(None, float(np.sum(values)), "prices_missing")
        return DayCost(float(np.dot(mean_price, values)), float(np.sum(values)), None)

    # ------------------------------------------------------------------
    # events
    @callback
    def _schedule_events(self, snapshot: Snapshot, now: datetime) -> None:
        for unsub in self._timers:
            unsub()
        self._timers.clear()
        for subentry_id, plan in snapshot.plans.items():
            if not isinstance(plan, Recommendation):
                continue
            blocked_until = self._fired_recommendations.get(subentry_id)
            if blocked_until is not None and plan.best.start < blocked_until:
                continue
            self._at(plan.best.start, now, self._recommendation_fire(subentry_id, plan))
        self._fired_peaks = {
            p for p in self._fired_peaks if p > now - timedelta(days=1)
        }
        for start, end, kwh, p90 in snapshot.peaks:
            if start in self._fired_peaks or start <= now:
                continue
            self._at(start - self.peak_lead, now, self._peak_fire(start, end, kwh, p90))

    @callback
    def _at(
        self, moment: datetime, now: datetime, action: Callable[[datetime], None]
    ) -> None:
        """Run ``action`` at ``moment``, or at once if that moment has passed."""
        if moment <= now:
            action(now)
            return
        self._timers.append(async_track_point_in_utc_time(self.hass, action, moment))

    def _recommendation_fire(
        self, subentry_id: str, plan: Recommendation
    ) -> Callable[[datetime], None]:
        @callback
        def fire(_moment: datetime) -> None:
            # One event per window: none again until the appliance's window
            # ends; without a window of its own, not within REFIRE_GAP after
            # this run (else a cheap hour would start it again and again).
            appliance = plan.appliance
            has_window = appliance is not None and (
                appliance.earliest is not None or appliance.latest_end is not None
            )
            self._fired_recommendations[subentry_id] = (
                plan.window_end if has_window else plan.best.end + REFIRE_GAP
            )
            data = recommendation_event_data(self.entry.entry_id, plan)
            LOGGER.debug(
                "Recommended window of %s begins", appliance and appliance.name
            )
            self.hass.bus.async_fire(EVENT_RECOMMENDATION, data)

        return fire

    def _peak_fire(
        self, start: datetime, end: datetime, kwh: float, p90: float
    ) -> Callable[[datetime], None]:
        @callback
        def fire(_moment: datetime) -> None:
            self._fired_peaks.add(start)
            self.hass.bus.async_fire(
                EVENT_PEAK_WARNING,
                {
                    "config_entry_id": self.entry.entry_id,
                    "title": self.entry.title,
                    "peak_start": dt_util.as_local(start).isoformat(),
                    "peak_end": dt_util.as_local(end).isoformat(),
                    "expected_kwh": round(kwh, 3),
                    "p90_kwh": round(p90, 3),
                    "lead_time_minutes": round(self.peak_lead.total_seconds() / 60),
                },
            )

        return fire


def recommendation_event_data(entry_id: str, plan: Recommendation) -> dict[str, Any]:
    """Payload of ``kilowise_recommendation``: the run that should start now."""
    appliance = plan.appliance
    response = plan.as_dict()
    best = response["best"]
    return {
        "config_entry_id": entry_id,
        "subentry_id": appliance.subentry_id if appliance else None,
        "appliance": appliance.name if appliance else None,
        "switch_entity": appliance.switch_entity if appliance else None,
        "start": best["start"],
        "end": best["end"],
        "basis": plan.basis,
        "expected_cost": best.get("cost"),
        "currency": response["currency"],
        "expected_load_kw": best.get("expected_load_kw"),
        "saving": response.get("saving"),
    }
