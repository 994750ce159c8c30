"""Logbook entries for Kilowise's control: each action with its reason, and overrides."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.components.logbook.models import LazyEventPartialState
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util

from .const import DOMAIN, EVENT_ACTION, EVENT_OVERRIDE


def describe_action(data: Mapping[str, Any]) -> str:
    """``was set to 17 °C (eco: the zone is empty)``; marked when only logged."""
    message = str(data.get("message", ""))
    if data.get("dry_run"):
        return f"would be {message} [dry run, nothing was changed]"
    return f"was {message}"


def describe_override(data: Mapping[str, Any]) -> str:
    """A pause after a manual change, or the end of it."""
    if data.get("paused"):
        until = dt_util.parse_datetime(str(data.get("until")))
        when = "" if until is None else f" until {dt_util.as_local(until):%H:%M}"
        return f"was changed by hand: Kilowise leaves it alone{when}"
    return "is driven by Kilowise again (the manual override ended)"


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[
        [str, str, Callable[[LazyEventPartialState], dict[str, Any]]], None
    ],
) -> None:
    """Describe Kilowise's events in the logbook: on the driven entity, in
    the zone's name."""

    def entry(
        message: Callable[[Mapping[str, Any]], str],
    ) -> Callable[[LazyEventPartialState], dict[str, Any]]:
        @callback
        def describe(event: LazyEventPartialState) -> dict[str, Any]:
            return {
                LOGBOOK_ENTRY_NAME: f"Kilowise {event.data.get('zone', '')}".strip(),
                LOGBOOK_ENTRY_MESSAGE: message(event.data),
                LOGBOOK_ENTRY_ENTITY_ID: event.data[ATTR_ENTITY_ID],
            }

        return describe

    async_describe_event(DOMAIN, EVENT_ACTION, entry(describe_action))
    async_describe_event(DOMAIN, EVENT_OVERRIDE, entry(describe_override))
