"""Appliances to schedule: read from their config subentries, with their windows.

An appliance's run is the learned cycle of its sub-meter when one was learned,
else the power profile entered, else the energy entered spread evenly over
the duration entered. Its daily window (earliest start, latest end) is local
time and may run past midnight.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from homeassistant.config_entries import ConfigSubentry

from .const import (
    CONF_DURATION_MINUTES,
    CONF_EARLIEST_START,
    CONF_ENERGY_ENTITY,
    CONF_ENERGY_KWH,
    CONF_LATEST_END,
    CONF_NAME,
    CONF_POWER_PROFILE,
    CONF_SWITCH_ENTITY,
    SUBENTRY_APPLIANCE,
)
from .engine.cycles import Cycle
from .engine.daily import daily_windows, time_of_day
from .engine.schedule import Profile


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

    @property
    def has_window(self) -> bool:
        """Whether the appliance has a daily window of its own."""
        return self.earliest is not None or self.latest_end is not None


def is_appliance(subentry: ConfigSubentry) -> bool:
    """Whether a subentry of a Kilowise entry is an appliance."""
    return subentry.subentry_type == SUBENTRY_APPLIANCE


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
        earliest=time_of_day(data.get(CONF_EARLIEST_START)),
        latest_end=time_of_day(data.get(CONF_LATEST_END)),
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
    for start, end in daily_windows(now, tz, earliest, latest_end):
        if end - max(start, now) >= duration:
            return max(start, now), end
    return None
