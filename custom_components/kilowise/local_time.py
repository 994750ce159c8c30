"""Times as Kilowise's entities, events and diagnostics show them."""

from __future__ import annotations

from datetime import datetime

from homeassistant.util import dt as dt_util


def local_iso(moment: datetime | None) -> str | None:
    """A UTC moment as the home's local ISO time (None stays None)."""
    return None if moment is None else dt_util.as_local(moment).isoformat()
