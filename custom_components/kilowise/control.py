"""Occupancy-aware control of a Kilowise entry's zones.

``KilowiseControl`` holds an entry's zones (its ``zone`` subentries), their
store and the entry's master switch. Each ``ZoneController`` watches its
occupancy sources and driven entities, evaluates the engine's rules at every
source change and every minute, and applies what passes the safety rules:

- nothing at all while Home Assistant is starting (and for
  ``CONTROL_START_GRACE`` after), before the zone's stored state is loaded, or
  while the entry's or the zone's master switch is off;
- in dry run, every action is logged (logbook and ``kilowise_action``) once
  and no service is called;
- otherwise each action is a service call made with a ``Context`` of
  Kilowise's own, and is logged and fired the same way. A change of a driven
  entity made in any other context is a manual override: control of that
  entity pauses for the zone's override time.

Temperatures are °C inside Kilowise and converted from and to Home
Assistant's unit at the edge.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.climate.const import ClimateEntityFeature
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_SUPPORTED_FEATURES,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    UnitOfTemperature,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Context,
    CoreState,
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.event import (
    async_track_entity_registry_updated_event,
    async_track_state_change_event,
    async_track_time_interval,
    async_track_utc_time_change,
)
from homeassistant.helpers.start import async_at_started
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import TemperatureConverter
from sqlalchemy.exc import SQLAlchemyError

from .const import (
    CONTROL_SAVE_DELAY,
    CONTROL_START_GRACE,
    CONTROL_STORAGE_VERSION,
    CONTROL_TICK,
    DOMAIN,
    EVENT_ACTION,
    EVENT_OVERRIDE,
    FORECAST_STALE,
    ISSUE_ZONE_ENTITY_MISSING,
    LEARN_MINUTE,
    LOGGER,
    SUBENTRY_ZONE,
    control_storage_key,
    zone_issue_id,
)
from .engine.control import (
    ClimateState,
    Decision,
    Guard,
    LastAction,
    Mode,
    Outlook,
    Preheat,
    SwitchState,
    WindowProvider,
    decide_climate,
    decide_light,
    decide_switch,
    describe,
    explain,
    guard,
    plan_preheat,
    plan_run,
)
from .engine.occupancy import OccupancyModel, SourceReading, ZoneReading, zone_status
from .engine.thermal import ThermalModel
from .local_time import local_iso
from .occupancy import async_learn_occupancy, async_learn_thermal, to_celsius
from .stores import async_read_store, async_remove_store, open_store
from .zone_config import ZoneConfig, renamed

if TYPE_CHECKING:
    from .data import KilowiseConfigEntry

HOUR = timedelta(hours=1)
OUTLOOK_HOURS: Final = 26
"""The hour before the current one, the current one and 24 more."""
CONTEXT_MEMORY: Final = timedelta(minutes=10)
"""How long Kilowise recognises its own contexts in state changes."""
REPLAN: Final = timedelta(minutes=30)
"""How often a deferrable run that has not started is planned again."""
UNUSABLE: Final = frozenset({STATE_UNAVAILABLE, STATE_UNKNOWN})
CONTROLLED_ATTRIBUTES: Final = {
    "climate": ("temperature", "target_temp_low", "target_temp_high", "preset_mode"),
}
"""The attributes whose change is a change of what Kilowise drives (with the
state itself: on/off, or the thermostat's mode)."""


def _json_safe(value: Any) -> Any:
    """JSON-safe: datetimes as local ISO times, anything else as it is."""
    return local_iso(value) if isinstance(value, datetime) else value


def _controlled_change(old: State, new: State) -> bool:
    if old.state != new.state:
        return True
    return any(
        old.attributes.get(name) != new.attributes.get(name)
        for name in CONTROLLED_ATTRIBUTES.get(new.domain, ())
    )


class KilowiseControl:
    """The zones of one entry, their store and the entry's master switch."""

    def __init__(self, hass: HomeAssistant, entry: KilowiseConfigEntry) -> None:
        """Read the entry's zones; nothing runs before ``async_start``."""
        self.hass = hass
        self.entry = entry
        self.enabled = True
        self.loaded = False
        self.started_at: datetime | None = None
        self.window_provider: WindowProvider | None = None
        """Recommends run windows for deferrable loads; None: the schedule."""
        self.zones: dict[str, ZoneController] = {}
        # Set up while Home Assistant was starting: its restored states need
        # the grace to be replaced by fresh ones. After it started (a reload),
        # the states are fresh.
        self._set_up_while_starting = hass.state is not CoreState.running
        self._contexts: dict[str, datetime] = {}
        self._listeners: list[Callable[[], None]] = []
        self._store = open_store(
            hass, CONTROL_STORAGE_VERSION, control_storage_key(entry.entry_id)
        )
        for subentry in entry.subentries.values():
            if subentry.subentry_type != SUBENTRY_ZONE:
                continue
            try:
                config = ZoneConfig.from_data(subentry.title, subentry.data)
            except (TypeError, ValueError) as err:
                LOGGER.error(
                    "Zone %s of %s has unusable settings (%s); reconfigure it",
                    subentry.title,
                    entry.title,
                    err,
                )
                continue
            self.zones[subentry.subentry_id] = ZoneController(
                self, subentry.subentry_id, config
            )

    @callback
    def async_start(self) -> None:
        """Load the stored state in the background; start the zones once Home
        Assistant has started."""
        self.entry.async_on_unload(self._async_stop)
        self.entry.async_on_unload(self._async_flush)
        self.entry.async_create_background_task(
            self.hass, self._async_load(), f"kilowise control {self.entry.entry_id}"
        )

    async def _async_load(self) -> None:
        stored = await async_read_store(self._store, "Kilowise's control state")
        removed: list[str] = []
        if stored is not None:
            self.enabled = bool(stored.get("enabled", True))
            zones = stored.get("zones")
            if isinstance(zones, Mapping):
                for subentry_id, zone in self.zones.items():
                    data = zones.get(subentry_id)
                    if isinstance(data, Mapping):
                        zone.restore(data)
                removed = [key for key in zones if key not in self.zones]
        self.loaded = True
        if removed:
            # A zone was deleted (the entry reloaded without it): what it
            # learned goes with it, now rather than at the next change.
            LOGGER.debug("Forgetting the stored state of removed zones %s", removed)
            await self._store.async_save(self._data_to_save())
        self.async_update_listeners()
        self.entry.async_on_unload(async_at_started(self.hass, self._async_started))

    async def _async_started(self, _hass: HomeAssistant) -> None:
        """Home Assistant is running: start watching and learning."""
        now = dt_util.utcnow()
        self.started_at = (
            now if self._set_up_while_starting else now - CONTROL_START_GRACE
        )
        for zone in self.zones.values():
            zone.async_start()

    @callback
    def _async_stop(self) -> None:
        for zone in self.zones.values():
            zone.async_stop()

    async def _async_flush(self) -> None:
        """Write now what waits for its delayed write (the entry unloads)."""
        if self.loaded:
            await self._store.async_save(self._data_to_save())

    def active(self, now: datetime) -> bool:
        """Whether control may act: loaded, running for a while, switched on."""
        return (
            self.loaded
            and self.enabled
            and self.hass.state is CoreState.running
            and self.started_at is not None
            and now >= self.started_at + CONTROL_START_GRACE
        )

    # -- Kilowise's own contexts --------------------------------------------
    def new_context(self) -> Context:
        """A context for an action of Kilowise, remembered for a while."""
        context = Context()
        now = dt_util.utcnow()
        self._contexts = {
            key: until for key, until in self._contexts.items() if until > now
        }
        self._contexts[context.id] = now + CONTEXT_MEMORY
        return context

    def is_own(self, context: Context | None) -> bool:
        """Whether a state change comes from Kilowise's own action."""
        if context is None:
            return False
        return context.id in self._contexts or (
            context.parent_id is not None and context.parent_id in self._contexts
        )

    # -- master switch, listeners, store --------------------------------------
    @callback
    def async_set_enabled(self, enabled: bool) -> None:
        """The entry's master switch: stops (or resumes) every zone at once."""
        self.enabled = enabled
        LOGGER.info(
            "Kilowise control of %s switched %s",
            self.entry.title,
            "on" if enabled else "off",
        )
        self.async_save()
        self.async_update_listeners()
        if enabled:
            for zone in self.zones.values():
                zone.async_request_evaluation()

    @callback
    def async_add_listener(self, update: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``update`` when anything the entities show changes."""
        self._listeners.append(update)
        return lambda: self._listeners.remove(update)

    @callback
    def async_update_listeners(self) -> None:
        """Tell the entities to write their state."""
        for update in list(self._listeners):
            update()

    def _data_to_save(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "zones": {key: zone.as_dict() for key, zone in self.zones.items()},
        }

    @callback
    def async_save(self) -> None:
        """Write the control state a little later (changes are gathered)."""
        if self.loaded:
            self._store.async_delay_save(self._data_to_save, CONTROL_SAVE_DELAY)

    @staticmethod
    async def async_remove_store(hass: HomeAssistant, entry_id: str) -> None:
        """Delete an entry's control state (the entry is being removed)."""
        await async_remove_store(
            hass, CONTROL_STORAGE_VERSION, control_storage_key(entry_id)
        )

    def diagnostics(self) -> dict[str, Any]:
        """What control knows and does, for the entry's diagnostics."""
        return {
            "enabled": self.enabled,
            "loaded": self.loaded,
            "zones": {key: zone.diagnostics() for key, zone in self.zones.items()},
        }


@dataclass(slots=True)
class ZoneController:
    """Control of one zone: its sources, forecast, driven entities and memory."""

    control: KilowiseControl
    subentry_id: str
    config: ZoneConfig
    enabled: bool = True
    occupancy: OccupancyModel = field(init=False)
    thermal: dict[str, ThermalModel] = field(default_factory=dict)
    guards: dict[str, Guard] = field(default_factory=dict)
    reading: ZoneReading | None = None
    outlook: Outlook | None = None
    decisions: dict[str, Decision] = field(default_factory=dict)
    preheats: dict[str, Preheat | None] = field(default_factory=dict)
    _last_on: dict[str, datetime | None] = field(default_factory=dict)
    _seen: dict[str, State | None] = field(default_factory=dict)
    _planned_at: dict[str, datetime] = field(default_factory=dict)
    _unsubs: list[CALLBACK_TYPE] = field(default_factory=list)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _learn_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _again: bool = False
    _blocked_logged: dict[str, Any] = field(default_factory=dict)
    _missing: set[str] = field(default_factory=set)
    """Entities the zone uses that Home Assistant does not have (with an issue)."""

    def __post_init__(self) -> None:
        """A new zone: its prior, nothing learned yet."""
        self.occupancy = OccupancyModel(prior=self.config.prior)
        for entity_id in self.config.driven:
            self.guards[entity_id] = Guard()
        for entity_id in self.config.climates:
            self.thermal[entity_id] = ThermalModel()

    @property
    def hass(self) -> HomeAssistant:
        """The Home Assistant instance."""
        return self.control.hass

    # -- storage ----------------------------------------------------------------
    def restore(self, data: Mapping[str, Any]) -> None:
        """Take back what was stored; a damaged part starts afresh (and says so)."""
        self.enabled = bool(data.get("enabled", True))
        name = self.config.name
        if (model := data.get("occupancy")) is not None:
            try:
                self.occupancy = OccupancyModel.from_dict(model, self.config.prior)
            except ValueError as err:
                LOGGER.warning(
                    "The stored forecast of zone %s is not usable (%s); learning it afresh",
                    name,
                    err,
                )
        for key, kind, target in (
            ("thermal", ThermalModel.from_dict, self.thermal),
            ("guards", Guard.from_dict, self.guards),
        ):
            stored = data.get(key)
            if not isinstance(stored, Mapping):
                continue
            for entity_id in target:
                if (value := stored.get(entity_id)) is None:
                    continue
                try:
                    target[entity_id] = kind(value)  # type: ignore[assignment]
                except (ValueError, TypeError, AttributeError) as err:
                    LOGGER.warning(
                        "The stored %s of %s in zone %s is not usable (%s)",
                        key,
                        entity_id,
                        name,
                        err,
                    )

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON form of what must survive a restart."""
        return {
            "enabled": self.enabled,
            "occupancy": self.occupancy.as_dict(),
            "thermal": {key: model.as_dict() for key, model in self.thermal.items()},
            "guards": {key: memory.as_dict() for key, memory in self.guards.items()},
        }

    # -- life cycle ---------------------------------------------------------------
    @callback
    def async_start(self) -> None:
        """Watch the sources and driven entities; evaluate every minute; learn hourly."""
        hass = self.hass
        # When an off room sensor last saw motion is not known at start: no
        # hold. Taking its last change for one would switch an empty zone to
        # comfort for the hold after every restart, then back to eco.
        self._last_on = dict.fromkeys(self.config.sources)
        self._seen = {
            entity_id: hass.states.get(entity_id) for entity_id in self.config.driven
        }
        self._unsubs += [
            async_track_state_change_event(
                hass, list(self.config.sources), self._async_source_changed
            ),
            async_track_state_change_event(
                hass, list(self.config.driven), self._async_driven_changed
            ),
            async_track_entity_registry_updated_event(
                hass, list(self.config.entities), self._async_registry_updated
            ),
            async_track_time_interval(hass, self._async_tick, CONTROL_TICK),
            async_track_utc_time_change(
                hass, self._async_hourly, minute=LEARN_MINUTE, second=0
            ),
        ]
        self.control.entry.async_create_background_task(
            hass, self.async_learn(), f"kilowise learn zone {self.config.name}"
        )
        self.async_request_evaluation()

    @callback
    def async_stop(self) -> None:
        """Stop watching; the zone's repair issues go (set-up raises them again)."""
        while self._unsubs:
            self._unsubs.pop()()
        for entity_id in self._missing:
            ir.async_delete_issue(
                self.hass, DOMAIN, zone_issue_id(self.subentry_id, entity_id)
            )
        self._missing.clear()

    @callback
    def async_set_enabled(self, enabled: bool) -> None:
        """The zone's master switch. Switching it on clears manual overrides."""
        self.enabled = enabled
        if enabled:
            for memory in self.guards.values():
                memory.override_until = None
        LOGGER.info(
            "Kilowise control of zone %s switched %s",
            self.config.name,
            "on" if enabled else "off",
        )
        self.control.async_save()
        self.control.async_update_listeners()
        if enabled:
            self.async_request_evaluation()

    # -- observing ----------------------------------------------------------------
    @callback
    def _async_source_changed(self, event: Event[EventStateChangedData]) -> None:
        old = event.data["old_state"]
        new = event.data["new_state"]
        if old is not None and old.state == "on" and (new is None or new.state != "on"):
            self._last_on[event.data["entity_id"]] = (
                new.last_changed if new is not None else dt_util.utcnow()
            )
        self.async_request_evaluation()

    @callback
    def _async_driven_changed(self, event: Event[EventStateChangedData]) -> None:
        self._observe(event.data["entity_id"], event.data["new_state"])

    @callback
    def _observe(self, entity_id: str, new: State | None) -> None:
        """A change that Kilowise did not make pauses control of the entity.

        Called for each state change of a driven entity, and again before
        each evaluation: state-change listeners run one loop iteration late,
        and an evaluation in between must not undo a change made by hand.
        """
        old = self._seen.get(entity_id)
        self._seen[entity_id] = new
        if old is None or new is None or old is new:
            return
        if old.state in UNUSABLE or new.state in UNUSABLE:
            return
        if not _controlled_change(old, new) or self.control.is_own(new.context):
            return
        memory = self.guards.get(entity_id)
        if memory is None:
            return
        now = dt_util.utcnow()
        memory.override_until = now + self.config.limits.override
        memory.last_key = None
        LOGGER.info(
            "%s was changed by hand: Kilowise leaves it alone until %s",
            entity_id,
            dt_util.as_local(memory.override_until).isoformat(timespec="minutes"),
        )
        self._fire_override(entity_id, memory.override_until, new.context)
        self.control.async_save()
        self.control.async_update_listeners()

    @callback
    def _async_registry_updated(
        self, event: Event[er.EventEntityRegistryUpdatedData]
    ) -> None:
        """Follow an entity the zone uses when the user renames it."""
        data = event.data
        if data["action"] != "update" or "old_entity_id" not in data:
            return
        self.async_follow_rename(data["old_entity_id"], data["entity_id"])

    @callback
    def async_follow_rename(self, old: str, new: str) -> None:
        """Use ``new`` where the zone's settings say ``old``; the entry reloads.

        What was learned about the entity (its heating rates, its overrides
        and runs) goes with it: the store is written under the new id when
        the entry unloads.
        """
        entry = self.control.entry
        subentry = entry.subentries.get(self.subentry_id)
        if subentry is None:
            return
        for memory in (self.guards, self.thermal):
            if old in memory:
                memory[new] = memory.pop(old)  # type: ignore[assignment]
        LOGGER.info(
            "%s was renamed to %s; zone %s follows it", old, new, self.config.name
        )
        self.hass.config_entries.async_update_subentry(
            entry, subentry, data=renamed(subentry.data, old, new)
        )

    def _check_missing(self, now: datetime) -> None:
        """A repair issue for each entity the zone uses that Home Assistant no
        longer has (removed, disabled, or renamed while Kilowise was not
        running); withdrawn once it is back.

        Not while Home Assistant starts: integrations may still be adding
        their entities. An entity whose integration failed to load has a
        state (unavailable), so it is not missing.
        """
        started = self.control.started_at
        if started is None or now < started + CONTROL_START_GRACE:
            return
        for entity_id in self.config.entities:
            missing = self.hass.states.get(entity_id) is None
            if missing == (entity_id in self._missing):
                continue
            issue_id = zone_issue_id(self.subentry_id, entity_id)
            if not missing:
                self._missing.discard(entity_id)
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)
                continue
            self._missing.add(entity_id)
            LOGGER.warning(
                "Zone %s uses %s, which Home Assistant no longer has; "
                "reconfigure the zone",
                self.config.name,
                entity_id,
            )
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=ISSUE_ZONE_ENTITY_MISSING,
                translation_placeholders={
                    "zone": self.config.name,
                    "entity_id": entity_id,
                },
            )

    def _fire_override(
        self, entity_id: str, until: datetime | None, context: Context | None
    ) -> None:
        self.hass.bus.async_fire(
            EVENT_OVERRIDE,
            {
                "entry_id": self.control.entry.entry_id,
                "zone_id": self.subentry_id,
                "zone": self.config.name,
                ATTR_ENTITY_ID: entity_id,
                "paused": until is not None,
                "until": local_iso(until),
            },
            context=context,
        )

    def _readings(self) -> list[SourceReading]:
        now = dt_util.utcnow()
        readings = []
        for entity_id in self.config.sources:
            state = self.hass.states.get(entity_id)
            if state is None:
                readings.append(SourceReading(entity_id, None, now))
                continue
            readings.append(
                SourceReading(
                    entity_id,
                    state.state,
                    state.last_changed,
                    self._last_on.get(entity_id),
                )
            )
        return readings

    # -- learning ------------------------------------------------------------------
    async def _async_hourly(self, _now: datetime) -> None:
        await self.async_learn()

    async def async_learn(self) -> None:
        """Fold the hours that ended into the forecast, and the thermostats' runs."""
        async with self._learn_lock:
            await self._async_learn()

    async def _async_learn(self) -> None:
        if self.hass.is_stopping:
            return  # the recorder is closing: the next start reads these hours
        now = dt_util.utcnow()
        try:
            folded = await async_learn_occupancy(
                self.hass, self.config, self.occupancy, now
            )
            added = 0
            for entity_id, model in self.thermal.items():
                added += await async_learn_thermal(self.hass, entity_id, model, now)
        except (SQLAlchemyError, HomeAssistantError) as err:
            LOGGER.warning(
                "Could not read the history of zone %s: %s; trying again in an hour",
                self.config.name,
                err,
            )
            return
        LOGGER.debug(
            "Zone %s learned %s hours and %s heating/cooling runs",
            self.config.name,
            folded,
            added,
        )
        self.control.async_save()
        self.async_request_evaluation()

    def _outlook(self, now: datetime) -> Outlook | None:
        learned_until = self.occupancy.learned_until
        if learned_until is None or now - learned_until > FORECAST_STALE:
            return None
        start = now.replace(minute=0, second=0, microsecond=0) - HOUR
        probabilities = self.occupancy.forecast(
            start, OUTLOOK_HOURS, dt_util.get_default_time_zone()
        )
        return Outlook(start, tuple(probabilities))

    # -- deciding and acting --------------------------------------------------------
    @callback
    def _async_tick(self, _now: datetime) -> None:
        self.async_request_evaluation()

    @callback
    def async_request_evaluation(self) -> None:
        """Evaluate the zone now (or right after the evaluation under way)."""
        if self._lock.locked():
            self._again = True
            return
        self.control.entry.async_create_background_task(
            self.hass, self._async_evaluate(), f"kilowise zone {self.config.name}"
        )

    async def _async_evaluate(self) -> None:
        async with self._lock:
            self._again = True
            while self._again:
                self._again = False
                await self._async_evaluate_once()

    async def _async_evaluate_once(self) -> None:
        now = dt_util.utcnow()
        self._check_missing(now)
        zone = zone_status(
            self._readings(), now, self.config.hold, self.config.stale_after
        )
        self.reading = zone
        self.outlook = self._outlook(now)
        act = self.control.active(now) and self.enabled
        decisions: list[tuple[Decision, State | None]] = []
        for entity_id in self.config.climates:
            decisions.append(self._decide_climate(entity_id, now, zone))
        for entity_id in self.config.lights:
            state = self.hass.states.get(entity_id)
            decisions.append(
                (
                    decide_light(
                        entity_id, now, zone, self.config.light, _switch_state(state)
                    ),
                    state,
                )
            )
        for entity_id in self.config.switches:
            decisions.append(self._decide_switch(entity_id, now))
        for decision, state in decisions:
            self._observe(decision.entity_id, state)
            memory = self.guards[decision.entity_id]
            if memory.override_until is not None and now >= memory.override_until:
                memory.override_until = None
                LOGGER.info(
                    "Kilowise takes %s back (the override ended)", decision.entity_id
                )
                self._fire_override(decision.entity_id, None, None)
                self.control.async_save()
            checked = guard(
                decision,
                now,
                None if state is None else state.last_changed,
                memory,
                self.config.limits,
            )
            self.decisions[decision.entity_id] = checked
            if act:
                self._note_preheat(checked, memory, now)
                await self._async_apply(checked, memory, now, zone)
        self.control.async_update_listeners()

    def _note_preheat(self, decision: Decision, memory: Guard, now: datetime) -> None:
        """Remember the arrival a thermostat is preheated for, until its grace ends."""
        arrival = decision.detail.get("arrival")
        if decision.mode is Mode.PREHEAT and decision.blocked is None:
            if memory.preheating_for != arrival:
                memory.preheating_for = arrival
                self.control.async_save()
        elif (
            memory.preheating_for is not None
            and now >= memory.preheating_for + self.config.climate.arrival_grace
        ):
            memory.preheating_for = None
            self.control.async_save()

    def _decide_climate(
        self, entity_id: str, now: datetime, zone: ZoneReading
    ) -> tuple[Decision, State | None]:
        state = self.hass.states.get(entity_id)
        reading = _climate_state(state, self.hass.config.units.temperature_unit)
        model = self.thermal[entity_id]
        preheat = plan_preheat(
            now,
            zone,
            self.outlook,
            self.config.climate,
            current=reading.current,
            heating_rate=model.heating_rate,
            cooling_rate=model.cooling_rate,
            preheating_for=self.guards[entity_id].preheating_for,
        )
        self.preheats[entity_id] = preheat
        decision = decide_climate(
            entity_id,
            now,
            zone,
            preheat=preheat,
            settings=self.config.climate,
            state=reading,
        )
        return decision, state

    def _decide_switch(
        self, entity_id: str, now: datetime
    ) -> tuple[Decision, State | None]:
        state = self.hass.states.get(entity_id)
        reading = _switch_state(state)
        memory = self.guards[entity_id]
        before = memory.as_dict()
        memory.settle_run(now, reading.on)
        planned = memory.planned
        if planned is None or (
            now < planned.start
            and now - self._planned_at.get(entity_id, now - REPLAN) >= REPLAN
        ):
            memory.planned = plan_run(
                entity_id,
                now,
                dt_util.get_default_time_zone(),
                self.config.run,
                after=memory.last_run_end,
                provider=self.control.window_provider,
            )
            self._planned_at[entity_id] = now
        if memory.as_dict() != before:
            self.control.async_save()
        return decide_switch(entity_id, now, memory.planned, reading, memory), state

    async def _async_apply(
        self, decision: Decision, memory: Guard, now: datetime, zone: ZoneReading
    ) -> None:
        action = decision.action
        entity_id = decision.entity_id
        if action is None:
            memory.last_key = None
            return
        if decision.blocked is not None:
            seen = (action.key, decision.blocked)
            if self._blocked_logged.get(entity_id) != seen:
                self._blocked_logged[entity_id] = seen
                LOGGER.debug(
                    "%s: %s held back (%s)",
                    entity_id,
                    describe(decision),
                    decision.blocked,
                )
            return
        self._blocked_logged.pop(entity_id, None)
        dry_run = self.config.dry_run
        if dry_run and memory.last_key == action.key:
            return
        memory.last_key = action.key
        memory.note_action(now)
        if action.turns_on and memory.planned is not None and action.domain == "switch":
            memory.start_run(memory.planned)
            self.control.async_save()
        data = dict(action.data)
        unit = self.hass.config.units.temperature_unit
        if "temperature" in data and unit != UnitOfTemperature.CELSIUS:
            data["temperature"] = round(
                TemperatureConverter.convert(
                    data["temperature"], UnitOfTemperature.CELSIUS, unit
                ),
                1,
            )
        context = self.control.new_context()
        message = describe(decision, unit)
        memory.last_action = LastAction(now, message, dry_run)
        self.control.async_save()
        LOGGER.info("%s%s: %s", "[dry run] " if dry_run else "", entity_id, message)
        # Fired before the call, in the call's context: the logbook then shows
        # the entity's change as caused by this action and its reason.
        self.hass.bus.async_fire(
            EVENT_ACTION,
            {
                "entry_id": self.control.entry.entry_id,
                "zone_id": self.subentry_id,
                "zone": self.config.name,
                ATTR_ENTITY_ID: entity_id,
                "action": f"{action.domain}.{action.service}",
                "data": data,
                "reason": str(decision.reason),
                "mode": None if decision.mode is None else str(decision.mode),
                "occupancy": str(zone.status),
                "dry_run": dry_run,
                "message": message,
                "detail": {
                    key: _json_safe(value) for key, value in decision.detail.items()
                },
            },
            context=context,
        )
        if dry_run:
            return
        calls = [(action.service, data)]
        if action.domain == "climate" and "hvac_mode" in data:
            # Thermostats may ignore a mode given with a temperature (the
            # generic thermostat does): set the mode first, on its own.
            calls = [
                ("set_hvac_mode", {"hvac_mode": data["hvac_mode"]}),
                (action.service, {k: v for k, v in data.items() if k != "hvac_mode"}),
            ]
        try:
            for service, service_data in calls:
                await self.hass.services.async_call(
                    action.domain,
                    service,
                    {ATTR_ENTITY_ID: entity_id, **service_data},
                    blocking=True,
                    context=context,
                )
        # Any error, not only Home Assistant's: the entity's own integration
        # may raise anything, and one failing entity must not stop control of
        # the others. The action counts against the cap per hour, so a failing
        # entity is not called every minute.
        except Exception as err:
            LOGGER.warning(
                "Kilowise could not %s %s: %s",
                action.service,
                entity_id,
                str(err) or type(err).__name__,
            )

    # -- what the entities show -------------------------------------------------------
    def climate_modes(self) -> dict[str, str | None]:
        """The mode each thermostat is driven to now (None: left as it is)."""
        result: dict[str, str | None] = {}
        for entity_id in self.config.climates:
            decision = self.decisions.get(entity_id)
            result[entity_id] = (
                None
                if decision is None or decision.mode is None
                else str(decision.mode)
            )
        return result

    def summary(self) -> dict[str, Any]:
        """The zone's control state, JSON-safe (local ISO times)."""
        now = dt_util.utcnow()
        zone = self.reading
        unit = self.hass.config.units.temperature_unit
        return {
            "enabled": self.enabled,
            "dry_run": self.config.dry_run,
            "active": self.control.active(now) and self.enabled,
            "occupancy": None if zone is None else str(zone.status),
            "since": None if zone is None else local_iso(zone.since),
            "unusable_sources": [] if zone is None else list(zone.unusable),
            "climate_modes": self.climate_modes(),
            "preheat": {
                entity_id: None
                if plan is None
                else {
                    "arrival": local_iso(plan.arrival),
                    "start": local_iso(plan.start),
                }
                for entity_id, plan in self.preheats.items()
            },
            "heating_rates": {
                entity_id: {
                    "heating": round(model.heating_rate, 3),
                    "cooling": round(model.cooling_rate, 3),
                    "learned": model.learned,
                }
                for entity_id, model in self.thermal.items()
            },
            "overrides": {
                entity_id: local_iso(memory.override_until)
                for entity_id, memory in self.guards.items()
                if memory.overridden(now)
            },
            "planned_runs": {
                entity_id: None
                if memory.planned is None
                else {
                    "start": local_iso(memory.planned.start),
                    "end": local_iso(memory.planned.end),
                    "recommended": memory.planned.recommended,
                }
                for entity_id, memory in self.guards.items()
                if entity_id in self.config.switches
            },
            "decisions": {
                entity_id: {
                    "reason": str(decision.reason),
                    "blocked": None
                    if decision.blocked is None
                    else str(decision.blocked),
                    "action": None
                    if decision.action is None
                    else f"{decision.action.domain}.{decision.action.service}",
                    "message": self._explain(decision, unit),
                }
                for entity_id, decision in self.decisions.items()
            },
            "last_actions": {
                entity_id: {
                    "at": local_iso(memory.last_action.at),
                    "message": memory.last_action.message,
                    "dry_run": memory.last_action.dry_run,
                }
                for entity_id, memory in self.guards.items()
                if memory.last_action is not None
            },
        }

    def _explain(self, decision: Decision, unit: str) -> str:
        """What a decision does and why. In a dry run the entity keeps its
        state, so the action already logged comes back every minute, held back
        by the rules it set off itself: it is shown as what would be done."""
        action = decision.action
        if (
            self.config.dry_run
            and action is not None
            and self.guards[decision.entity_id].last_key == action.key
        ):
            return describe(decision, unit)
        return explain(decision, unit)

    def diagnostics(self) -> dict[str, Any]:
        """:meth:`summary` with every entity id replaced by its stand-in
        (``person.source_2``): entity ids often name people and rooms."""
        result: dict[str, Any] = _with_aliases(self.summary(), self.config.aliases())
        return result

    def forecast(self, hours: int = 24) -> list[dict[str, Any]]:
        """The occupancy probability of the current hour and the next ones."""
        now = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
        values = self.occupancy.forecast(now, hours, dt_util.get_default_time_zone())
        return [
            {"start": local_iso(now + index * HOUR), "probability": round(value, 3)}
            for index, value in enumerate(values)
        ]


def _with_aliases(value: Any, aliases: Mapping[str, str]) -> Any:
    """``value`` (JSON-like) with each string that is a key of ``aliases``,
    dictionary keys included, replaced by its alias."""
    if isinstance(value, Mapping):
        return {
            aliases.get(key, key): _with_aliases(item, aliases)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_with_aliases(item, aliases) for item in value]
    if isinstance(value, str):
        return aliases.get(value, value)
    return value


def _climate_state(state: State | None, unit: str) -> ClimateState:
    if state is None or state.state in UNUSABLE:
        return ClimateState(available=False)
    attributes = state.attributes
    features = int(attributes.get(ATTR_SUPPORTED_FEATURES) or 0)
    presets = attributes.get("preset_modes") or ()
    modes = attributes.get("hvac_modes") or ()
    return ClimateState(
        available=True,
        hvac_mode=state.state,
        target=to_celsius(attributes.get("temperature"), unit),
        preset=attributes.get("preset_mode"),
        presets=tuple(str(p) for p in presets),
        hvac_modes=tuple(str(m) for m in modes),
        current=to_celsius(attributes.get("current_temperature"), unit),
        supports_target=bool(features & ClimateEntityFeature.TARGET_TEMPERATURE),
        min_temp=to_celsius(attributes.get("min_temp"), unit),
        max_temp=to_celsius(attributes.get("max_temp"), unit),
    )


def _switch_state(state: State | None) -> SwitchState:
    if state is None:
        return SwitchState(None)
    on = {"on": True, "off": False}.get(state.state)
    return SwitchState(on, state.last_changed)
