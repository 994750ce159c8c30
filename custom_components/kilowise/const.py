"""Constants of the Kilowise integration."""

from __future__ import annotations

from datetime import time, timedelta
import logging
from pathlib import Path
from typing import Final

DOMAIN: Final = "kilowise"
LOGGER: Final = logging.getLogger(__package__)

CONF_SOURCE_ENTITY: Final = "source_entity"
"""Config entry data: the sensor whose long-term statistics are forecast."""

CONF_FORECAST_HOURS: Final = "forecast_hours"
"""Option: hours covered by the forecast sensor (its total and hourly list)."""

DEFAULT_FORECAST_HOURS: Final = 48
MIN_FORECAST_HOURS: Final = 6

BUNDLED_MODEL: Final = Path(__file__).parent / "models" / "kilowise_global.json"

REFRESH_MINUTE: Final = 5
REFRESH_SPREAD: Final = timedelta(minutes=4)
"""Refreshes of different entries are spread over this span after REFRESH_MINUTE."""
"""Minute past every UTC hour at which the forecast is refreshed.

The recorder compiles the hourly long-term statistics of the hour that just
ended in its five-minute run at HH:00:10; on a healthy system they are in the
database seconds later. Five minutes leaves room for a recorder queue that is
behind, without leaving the sensors an hour out of date for long.
"""

LATE_STATISTICS_RETRY: Final = timedelta(minutes=10)
"""When the hour that just ended is still missing at the refresh, read again
this much later (after two more five-minute statistics runs), once."""

SOURCE_STALE_HOURS: Final = 3
"""A source that is unavailable and has produced no statistics for this many
hours gets a repair issue; shorter outages are ordinary gaps."""

ISSUE_MODEL_UNUSABLE: Final = "model_unusable"
ISSUE_SOURCE_MISSING: Final = "source_missing"
ISSUE_SOURCE_UNAVAILABLE: Final = "source_unavailable"
ISSUE_SOURCE_UNSUITABLE: Final = "source_unsuitable"
"""Repair issue (per entry): the source reports but no longer measures energy
or power the way Kilowise needs (its unit or state class changed)."""

KEYS_DIR: Final = Path(__file__).parent / "keys"
"""Public keys shipped with Kilowise (``*.pub``): always trusted."""

CONF_ALLOW_UNSIGNED: Final = "allow_unsigned"
"""Option: accept models without a signature by a trusted key."""

CONF_TRUSTED_KEYS: Final = "trusted_keys"
"""Option: more trusted Ed25519 public keys, base64, each optionally after a name."""

CONF_ALLOWED_DIRS: Final = "allowed_dirs"
"""Option: folders outside the configuration folder that load_model may read."""

MODELS_FOLDER: Final = "kilowise/models"
"""Under the configuration folder: one folder per entry with its loaded models."""

EXPORTS_FOLDER: Final = "kilowise/exports"
"""Under the configuration folder: where export_model writes."""

MODEL_STORAGE_VERSION: Final = 1

DOWNLOAD_TIMEOUT_SECONDS: Final = 60
"""Longest time load_model may spend downloading a model's files."""

ISSUE_MODEL_REFUSED: Final = "model_refused"
"""Repair issue (per entry): the loaded model failed its checks at set-up."""

LEARNING_STORAGE_VERSION: Final = 1
"""Version of the stored learning state (calibration and forecast log)."""

ADAPTATION_INTERVAL: Final = timedelta(days=7)
"""How often the home's calibration is fitted and checked again."""

ADAPTATION_RETRY: Final = timedelta(days=1)
"""When the last attempt lacked history (a new install), try again this soon."""

ADAPTATION_FIRST_DELAY: Final = timedelta(minutes=10)
"""A fit never runs sooner than this after set-up, so it never slows start-up."""

ADAPTATION_TIME: Final = time(3, 30)
"""Local time of day of the fits: the night, after the day's first forecast."""

LEARNING_SAVE_DELAY: Final = 60
"""Seconds to gather changes of the learning state before writing it."""

ACCURACY_WINDOWS: Final = (7, 30)
"""Days over which the live accuracy of the forecasts is reported."""

SERVICE_RETRAIN: Final = "retrain"


def learning_storage_key(entry_id: str) -> str:
    """Storage key of an entry's learning state."""
    return f"{DOMAIN}.{entry_id}.learning"


# Recommendations: prices, appliances, peaks (see recommendations.py).
CONF_PRICE_ENTITY: Final = "price_entity"
"""Option: a sensor whose attributes publish today's and tomorrow's prices."""

CONF_TARIFF: Final = "tariff"
"""Option: a time-of-use tariff, lines of ``DAYS HH:MM-HH:MM PRICE`` (per kWh)."""

CONF_PEAK_WARNING_MINUTES: Final = "peak_warning_minutes"
"""Option: how long before a predicted peak the peak warning event fires."""

DEFAULT_PEAK_WARNING_MINUTES: Final = 30

SUBENTRY_APPLIANCE: Final = "appliance"
"""Config subentry type of an appliance to schedule."""

CONF_NAME: Final = "name"
CONF_DURATION_MINUTES: Final = "duration_minutes"
CONF_ENERGY_KWH: Final = "energy_kwh"
CONF_POWER_PROFILE: Final = "power_profile"
CONF_SWITCH_ENTITY: Final = "switch_entity"
CONF_ENERGY_ENTITY: Final = "energy_entity"
CONF_EARLIEST_START: Final = "earliest_start"
CONF_LATEST_END: Final = "latest_end"

EVENT_RECOMMENDATION: Final = "kilowise_recommendation"
EVENT_PEAK_WARNING: Final = "kilowise_peak_warning"

SERVICE_RECOMMEND: Final = "recommend"
SERVICE_GET_FORECAST: Final = "get_forecast"

RECOMMENDATION_TICK: Final = timedelta(minutes=15)
"""Recommendations are recomputed at every quarter hour (prices change then)."""

CYCLE_LEARNING_INTERVAL: Final = timedelta(days=1)
"""How often an appliance's typical cycle is learned again from its sub-meter."""

CYCLE_HISTORY_HOURS: Final = 24 * 90
"""Hours of a sub-meter's statistics read to learn the appliance's cycle."""

# Occupancy-aware control: zones are config subentries of an entry.
SUBENTRY_ZONE: Final = "zone"

CONF_ZONE_NAME: Final = "name"
CONF_DRY_RUN: Final = "dry_run"
CONF_SOURCES: Final = "sources"
CONF_HOLD_MINUTES: Final = "hold_minutes"
CONF_STUCK_HOURS: Final = "stuck_hours"
CONF_PRIOR: Final = "prior"
CONF_CLIMATES: Final = "climates"
CONF_COMFORT: Final = "comfort_temperature"
CONF_ECO: Final = "eco_temperature"
CONF_AWAY: Final = "away_temperature"
CONF_FROST: Final = "frost_temperature"
CONF_COMFORT_PRESET: Final = "comfort_preset"
CONF_ECO_PRESET: Final = "eco_preset"
CONF_AWAY_PRESET: Final = "away_preset"
CONF_PREHEAT_HOURS: Final = "preheat_max_hours"
CONF_PREHEAT_PROBABILITY: Final = "preheat_probability"
CONF_LIGHTS: Final = "lights"
CONF_LIGHTS_OFF_MINUTES: Final = "lights_off_minutes"
CONF_LIGHTS_ON_ARRIVAL: Final = "lights_on_arrival"
CONF_SWITCHES: Final = "switches"
CONF_RUN_START: Final = "run_window_start"
CONF_RUN_END: Final = "run_window_end"
CONF_RUN_MINUTES: Final = "run_minutes"
CONF_OVERRIDE_MINUTES: Final = "override_minutes"
CONF_MIN_ON_MINUTES: Final = "min_on_minutes"
CONF_MIN_OFF_MINUTES: Final = "min_off_minutes"
CONF_MAX_ACTIONS: Final = "max_actions_per_hour"

EVENT_ACTION: Final = "kilowise_action"
"""Fired for every action of control (taken, or only logged in a dry run)."""

EVENT_OVERRIDE: Final = "kilowise_override"
"""Fired when a manual change pauses control of an entity, and when it resumes."""

CONTROL_STORAGE_VERSION: Final = 1
CONTROL_SAVE_DELAY: Final = 30
"""Seconds to gather changes of the control state before writing it."""

CONTROL_TICK: Final = timedelta(minutes=1)
"""How often every zone is evaluated (state changes of its sources evaluate it at once)."""

CONTROL_START_GRACE: Final = timedelta(minutes=2)
"""After Home Assistant has started, control waits this long for the states
restored at start-up to be replaced by fresh ones."""

LEARN_MINUTE: Final = 2
"""Minute past every hour at which each zone learns the hour that ended."""

THERMAL_REREAD: Final = timedelta(hours=12)
"""The thermostat's history is read again from this long before what was
learned, so that a heating run cut by the last read is counted when it ends."""

FORECAST_STALE: Final = timedelta(days=2)
"""An occupancy forecast not updated for this long is not used to preheat."""


ISSUE_ZONE_ENTITY_MISSING: Final = "zone_entity_missing"
"""A zone's source or driven entity that Home Assistant no longer has."""


def zone_issue_id(subentry_id: str, entity_id: str) -> str:
    """Id of the repair issue about one entity of one zone."""
    return f"{ISSUE_ZONE_ENTITY_MISSING}_{subentry_id}_{entity_id}"


def control_storage_key(entry_id: str) -> str:
    """Storage key of an entry's control state (zones' forecasts, overrides)."""
    return f"{DOMAIN}.{entry_id}.control"
