"""Diagnostics of a Kilowise entry: the model, the history and the forecast."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant
import numpy as np

from .const import CONF_ALLOWED_DIRS, CONF_SOURCE_ENTITY, CONF_TRUSTED_KEYS
from .data import KilowiseConfigEntry
from .engine import FULL_HISTORY_HOURS
from .recommendation_diagnostics import recommendation_diagnostics

TO_REDACT = {
    "latitude",
    "longitude",
    "location",
    "address",
    CONF_ALLOWED_DIRS,
    CONF_TRUSTED_KEYS,
}
"""Anything that could place a household, wherever it appears (the model's
training sources and the source's attributes included), and what could name
its people: folder paths (often under a user's home) and the names given to
trusted keys."""


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: KilowiseConfigEntry
) -> dict[str, Any]:
    """Return what helps to understand a forecast, without personal data."""
    coordinator = entry.runtime_data.coordinator
    artifact = entry.runtime_data.artifact
    source = hass.states.get(entry.data[CONF_SOURCE_ENTITY])
    manifest = artifact.manifest
    diagnostics: dict[str, Any] = {
        "entry": {
            "title": entry.title,
            "data": dict(entry.data),
            "options": dict(entry.options),
        },
        "source": {
            "state": source.state if source else None,
            "attributes": dict(source.attributes) if source else None,
        },
        "model_in_use": entry.runtime_data.models.current.record.info(),
        "previous_model": None
        if (previous := entry.runtime_data.models.previous) is None
        else previous.info(),
        "model": {
            "model_id": artifact.model_id,
            "sha256": artifact.sha256,
            "created": manifest.get("created"),
            "format_version": manifest.get("format_version"),
            "quantiles": manifest.get("quantiles"),
            "trees": manifest.get("trees"),
            "libraries": manifest.get("libraries"),
            "training": manifest.get("training"),
            "metrics": manifest.get("metrics"),
        },
        "coordinator": {
            "last_update_success": coordinator.last_update_success,
            "last_exception": repr(coordinator.last_exception)
            if coordinator.last_exception
            else None,
        },
        "history": None,
        "forecast": None,
        "learning": entry.runtime_data.learning.diagnostics(),
        "recommendations": None
        if (recommendations := entry.runtime_data.recommendations) is None
        else recommendation_diagnostics(recommendations),
        "control": None
        if (control := entry.runtime_data.control) is None
        else control.diagnostics(),
    }
    if coordinator.last_update_success and coordinator.data is not None:
        data = coordinator.data
        history = data.history
        recent = history.kwh[-FULL_HISTORY_HOURS:]
        diagnostics["history"] = {
            "end": history.end.isoformat(),
            "kind": history.kind,
            "statistics_unit": history.unit,
            "hours_read": len(history.kwh),
            "valid_hours": history.valid_hours,
            "dropped_hours": history.dropped_hours,
            "hours_since_last_value": history.hours_since_last_value,
            "mean_kwh_per_hour": round(float(np.nanmean(recent)), 4)
            if np.any(~np.isnan(recent))
            else None,
        }
        diagnostics["forecast"] = {
            "as_of": data.as_of.isoformat(),
            "start": data.forecast.start.isoformat(),
            "level_kwh": round(data.forecast.level_kwh, 4),
            "history_hours": data.forecast.history_hours,
            "notes": list(data.forecast.notes),
            "adapted": data.adapted,
            "hours": data.hourly(),
        }
    return async_redact_data(diagnostics, TO_REDACT)
