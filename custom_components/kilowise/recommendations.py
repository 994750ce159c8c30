"""Recommendations: when to run appliances, which peaks to expect, what a day costs.

One :class:`KilowiseRecommendations` per entry turns the forecast and the
prices into decisions. It recomputes when the forecast is refreshed, when the
price sensor changes and at every quarter hour; it feeds the appliance and
peak entities, has the ``kilowise_recommendation`` and
``kilowise_peak_warning`` events fired at their moments
(``recommendation_events``), and answers the ``kilowise.recommend`` action.
The parts: ``recommendation_appliance`` (appliances from their subentries),
``recommendation_planner`` (the best start of one run; the optimiser itself
is ``engine.schedule``), ``recommendation_home`` (peaks and costs of the
day), ``recommendation_results`` (what is produced, and its JSON forms).

Other parts of Kilowise ask for a window with
:meth:`KilowiseRecommendations.recommended_window`; control places a zone's
deferrable switches with :meth:`KilowiseRecommendations.deferrable_window`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
)
from homeassistant.util import dt as dt_util

from .const import (
    CONF_ENERGY_ENTITY,
    CONF_PEAK_WARNING_MINUTES,
    CONF_PRICE_ENTITY,
    CONF_TARIFF,
    CYCLE_HISTORY_HOURS,
    CYCLE_LEARNING_INTERVAL,
    DEFAULT_PEAK_WARNING_MINUTES,
    LOGGER,
    RECOMMENDATION_TICK,
)
from .engine.control import DeferrableRun
from .engine.cycles import Cycle, learn_cycle
from .engine.prices import PriceError, PriceSeries, parse_price_attributes, parse_tariff
from .engine.schedule import Profile
from .history import async_read_history
from .recommendation_appliance import Appliance, appliance_from_subentry, is_appliance
from .recommendation_events import RecommendationEvents
from .recommendation_home import compute_peaks, day_cost
from .recommendation_planner import (
    DEFAULT_ALTERNATIVES,
    Conditions,
    plan_appliance,
    plan_run,
)
from .recommendation_results import (
    DayCost,
    Recommendation,
    RecommendationError,
    RecommendedWindow,
    Snapshot,
)

if TYPE_CHECKING:
    from .coordinator import KilowiseCoordinator, KilowiseForecast
    from .data import KilowiseConfigEntry

__all__ = [
    "DEFAULT_ALTERNATIVES",
    "DayCost",
    "KilowiseRecommendations",
    "Recommendation",
    "RecommendationError",
    "RecommendedWindow",
    "Snapshot",
]

type Prices = tuple[PriceSeries | None, PriceError | None]
"""The prices in use, or why there are none (None, None: no price source)."""


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
        self.events = RecommendationEvents(hass, entry, self.peak_lead)
        self._listeners: list[Callable[[], None]] = []
        self._unsubs: list[Callable[[], None]] = []
        self._learning = False
        self._unsub_tick: Callable[[], None] | None = None

    # ------------------------------------------------------------------
    # life cycle
    @callback
    def async_start(self) -> None:
        """Compute now, then follow the forecast, the prices and the clock."""
        self._unsubs.append(self.coordinator.async_add_listener(self.async_update))
        if self.price_entity:
            self._unsubs.append(
                async_track_state_change_event(
                    self.hass, self.price_entity, self._async_price_changed
                )
            )
        self._schedule_tick()
        self.async_update()
        if any(a.energy_entity for a in self.appliances()):
            self._learn_in_background()

    @callback
    def async_stop(self) -> None:
        """Stop every listener and timer (the entry unloads)."""
        if self._unsub_tick is not None:
            self._unsub_tick()
            self._unsub_tick = None
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        self.events.async_cancel()
        self._listeners.clear()

    @callback
    def async_add_listener(self, update: Callable[[], None]) -> Callable[[], None]:
        """Call ``update`` after each recomputation; returns the remover."""
        self._listeners.append(update)
        return lambda: self._listeners.remove(update)

    @callback
    def _schedule_tick(self) -> None:
        step = RECOMMENDATION_TICK.total_seconds()
        following = (dt_util.utcnow().timestamp() // step + 1) * step
        self._unsub_tick = async_track_point_in_utc_time(
            self.hass, self._async_tick, dt_util.utc_from_timestamp(following)
        )

    @callback
    def _async_tick(self, _now: datetime) -> None:
        self._schedule_tick()
        # Prices change by the quarter and an appliance's best start moves
        # with the clock; without either, only a new hour changes anything
        # (the peak now): the quarters in between are skipped. Many entries
        # in one Home Assistant then cost little between their refreshes.
        now = dt_util.utcnow()
        hour = now.replace(minute=0, second=0, microsecond=0)
        if (
            self.price_entity
            or self.tariff_lines
            or any(is_appliance(sub) for sub in self.entry.subentries.values())
            or self.snapshot.as_of < hour
        ):
            self.async_update()
        if (
            self._cycles_learned_at is not None
            and dt_util.utcnow() - self._cycles_learned_at >= CYCLE_LEARNING_INTERVAL
        ):
            self._learn_in_background()

    @callback
    def _async_price_changed(self, _event: Event[EventStateChangedData]) -> None:
        self.async_update()

    @callback
    def _learn_in_background(self) -> None:
        self.entry.async_create_background_task(
            self.hass, self.async_learn_cycles(), "kilowise learn appliance cycles"
        )

    # ------------------------------------------------------------------
    # inputs
    def appliances(self) -> list[Appliance]:
        """The entry's appliances, with their learned cycles where there are."""
        return [
            appliance_from_subentry(sub, self.cycles.get(sub.subentry_id))
            for sub in self.entry.subentries.values()
            if is_appliance(sub)
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
                if not is_appliance(sub) or not entity:
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

    def read_prices(self, now: datetime) -> Prices:
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

    def conditions(self, now: datetime, prices: Prices | None = None) -> Conditions:
        """What a plan made now rests on (the prices read now unless given)."""
        series, error = prices if prices is not None else self.read_prices(now)
        return Conditions(
            forecast=self.forecast,
            prices=series,
            price_error=error,
            peaks=self.snapshot.peaks,
            home_currency=self.hass.config.currency,
        )

    # ------------------------------------------------------------------
    # answers
    def recommend(
        self,
        profile: Profile,
        window_start: datetime | None,
        window_end: datetime | None,
        *,
        alternatives: int = DEFAULT_ALTERNATIVES,
        now: datetime | None = None,
    ) -> Recommendation:
        """The best start of an ad-hoc run within a window (see ``plan_run``)."""
        now = now or dt_util.utcnow()
        return plan_run(
            self.conditions(now),
            profile,
            window_start,
            window_end,
            now=now,
            alternatives=alternatives,
        )

    def recommend_appliance(
        self,
        appliance: Appliance,
        *,
        window_start: datetime | None = None,
        window_end: datetime | None = None,
        alternatives: int = DEFAULT_ALTERNATIVES,
        now: datetime | None = None,
    ) -> Recommendation:
        """Recommend a configured appliance, in its own daily window by default."""
        now = now or dt_util.utcnow()
        return plan_appliance(
            self.conditions(now),
            appliance,
            now=now,
            window_start=window_start,
            window_end=window_end,
            alternatives=alternatives,
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

    def deferrable_window(self, run: DeferrableRun) -> tuple[datetime, datetime] | None:
        """Where to place a zone's deferrable switch run; None: use the schedule.

        A switch that is also a configured appliance's switch runs with that
        appliance's profile; any other runs at constant power, whose size does
        not change which start is best. Nothing is placed when no
        recommendation can be made in the run's bounds (no forecast nor
        prices there, or a run longer than them).
        """
        appliance = next(
            (a for a in self.appliances() if a.switch_entity == run.entity_id), None
        )
        hours = run.duration / timedelta(hours=1)
        try:
            window = self.recommended_window(
                None if appliance is None else appliance.subentry_id,
                duration=None if appliance is not None else run.duration,
                energy_kwh=None if appliance is not None else hours,
                earliest=run.earliest,
                latest_end=run.latest_end,
            )
        except RecommendationError as err:
            LOGGER.debug(
                "No recommended window for %s (%s); it runs on its schedule",
                run.entity_id,
                err.key,
            )
            return None
        return window.start, window.end

    # ------------------------------------------------------------------
    # recomputation
    @callback
    def async_update(self) -> None:
        """Recompute everything the entities show and reschedule the events."""
        now = dt_util.utcnow()
        prices = self.read_prices(now)
        snapshot = Snapshot(as_of=now, prices=prices[0], price_error=prices[1])
        compute_peaks(snapshot, self.forecast, now)
        self.snapshot = snapshot
        conditions = self.conditions(now, prices)
        for appliance in self.appliances():
            try:
                plan: Recommendation | RecommendationError = plan_appliance(
                    conditions, appliance, now=now
                )
            except RecommendationError as err:
                plan = err
            snapshot.plans[appliance.subentry_id] = plan
        snapshot.today = day_cost(snapshot.prices, self.forecast, now, 0)
        snapshot.tomorrow = day_cost(snapshot.prices, self.forecast, now, 1)
        self.events.async_schedule(snapshot, now)
        for update in list(self._listeners):
            update()
