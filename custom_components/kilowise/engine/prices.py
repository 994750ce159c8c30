"""Electricity prices from a price sensor's attributes, or from a fixed tariff.

Plain Python (no Home Assistant import). The price integrations publish
today's and tomorrow's prices in a few shapes; all of them become one
:class:`PriceSeries` of UTC slots with prices in *currency per kWh*:

- Nord Pool (custom integration): ``raw_today`` / ``raw_tomorrow`` lists of
  ``{start, end, value}``, ``today`` / ``tomorrow`` lists of bare numbers
  (slots of equal length from local midnight), ``tomorrow_valid``,
  ``currency``, ``unit`` (kWh, MWh, Wh) and ``price_in_cents``.
- ENTSO-e: ``prices_today`` / ``prices_tomorrow`` / ``prices`` lists of
  ``{time, price}``.
- Tibber (the API's ``priceInfo`` as attributes): ``today`` / ``tomorrow``
  lists of ``{total, energy, tax, startsAt, level}``, currency in
  ``current.currency``.
- EnergyZero and others: ``prices`` lists of ``{timestamp, price}``, or of
  ``{start_time, price}``.

Per-hour and per-15-minute lists are both read: a slot ends where the next
begins, or after the list's usual spacing. Units such as ``EUR/kWh``,
``€/kWh``, ``ct/kWh``, ``EUR/MWh``, ``öre/kWh`` or ``p/kWh`` are normalised;
a unit or currency that cannot be understood raises :class:`PriceError`,
never a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
import re
from typing import Any

import numpy as np

from .schedule import Rate

START_KEYS = (
    "start",
    "startsAt",
    "starts_at",
    "start_time",
    "time",
    "timestamp",
    "from",
)
END_KEYS = ("end", "endsAt", "ends_at", "end_time", "till", "to")
VALUE_KEYS = ("value", "price", "total")

DAY_PAIRS = (
    ("raw_today", "raw_tomorrow", "nordpool"),
    ("prices_today", "prices_tomorrow", "entsoe"),
    ("today", "tomorrow", "tibber"),
)
SINGLE_LISTS = ("prices", "data")

CURRENCY_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY", "zł": "PLN"}
SUBUNITS: dict[str, tuple[str | None, float]] = {
    # subunit -> (currency it belongs to, or None for "the home's"; factor)
    "ct": (None, 0.01),
    "c": (None, 0.01),
    "cent": (None, 0.01),
    "cents": (None, 0.01),
    "¢": (None, 0.01),
    "öre": ("SEK", 0.01),
    "øre": ("NOK", 0.01),
    "ore": ("SEK", 0.01),
    "p": ("GBP", 0.01),
    "pence": ("GBP", 0.01),
    "gr": ("PLN", 0.01),
}
KRONA = ("SEK", "NOK", "DKK", "ISK")
ENERGY_UNITS = {"wh": 1000.0, "kwh": 1.0, "mwh": 0.001}
"""Multiply a price per <unit> by this to get the price per kWh."""

TARIFF_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TARIFF_STEP = timedelta(minutes=15)
QUARTERS_PER_DAY = 96
_TARIFF_LINE = re.compile(
    r"^\s*(?P<days>[a-z,\-]+)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})"
    r"\s+(?P<price>-?\d+(?:[.,]\d+)?)\s*$"
)


class PriceError(ValueError):
    """Prices that cannot be used; ``key`` names the reason for translations."""

    def __init__(self, key: str, **placeholders: str) -> None:
        """Keep the reason's key and what to show with it."""
        super().__init__(f"{key}: {placeholders}")
        self.key = key
        self.placeholders = placeholders


@dataclass(frozen=True, slots=True)
class PriceUnit:
    """How to turn a published price into currency per kWh."""

    currency: str
    factor: float
    unit: str
    assumed_currency: bool = False
    """True when the unit named no currency and the home's was taken."""


@dataclass(frozen=True, slots=True)
class PriceSeries:
    """Prices in ``currency`` per kWh for UTC slots ``[starts, ends)`` (seconds)."""

    starts: list[float]
    ends: list[float]
    prices: list[float]
    currency: str
    source_format: str
    unit: str
    notes: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        """True without any slot."""
        return not self.starts

    @property
    def last_end(self) -> float | None:
        """End of the last priced slot (UTC s)."""
        return self.ends[-1] if self.ends else None

    def rate(self) -> Rate:
        """The prices as a rate for the optimiser."""
        return Rate.from_lists(self.starts, self.ends, self.prices)

    def price_at(self, moment: float) -> float | None:
        """Price of the slot holding ``moment``, if any."""
        for start, end, price in zip(self.starts, self.ends, self.prices, strict=True):
            if start <= moment < end:
                return price
        return None

    def resolution_seconds(self) -> float | None:
        """The most common slot length (s)."""
        if not self.starts:
            return None
        lengths = np.round(np.subtract(self.ends, self.starts))
        values, counts = np.unique(lengths, return_counts=True)
        return float(values[np.argmax(counts)])


def parse_price_unit(
    unit: str | None,
    *,
    home_currency: str,
    currency_hint: str | None = None,
    energy_hint: str | None = None,
    in_cents: bool = False,
) -> PriceUnit:
    """Read a unit such as ``EUR/kWh``, ``€/MWh``, ``ct/kWh`` or ``öre/kWh``.

    ``currency_hint`` and ``energy_hint`` are what a source states elsewhere
    (Nord Pool's ``currency`` and ``unit`` attributes); ``in_cents`` is its
    ``price_in_cents``. A subunit without a stated currency (``ct``) is taken
    as the home's currency, and the result says so.
    """
    text = (unit or "").replace(" ", "")
    money, _, energy = text.partition("/")
    if not energy and energy_hint:
        energy = energy_hint
    if not money and currency_hint:
        money = currency_hint
    factor_energy = ENERGY_UNITS.get(energy.lower())
    if factor_energy is None:
        raise PriceError("price_unit_unknown", unit=unit or "")
    hint = currency_hint.upper() if currency_hint else None
    assumed = False
    if money.upper() == money and re.fullmatch(r"[A-Z]{3}", money):
        currency, factor_money = money, 1.0
    elif money in CURRENCY_SYMBOLS:
        currency, factor_money = CURRENCY_SYMBOLS[money], 1.0
    elif money.lower() in ("kr", "kr."):
        currency = hint if hint in KRONA else home_currency
        if currency not in KRONA:
            raise PriceError("price_currency_unknown", unit=unit or "")
        factor_money = 1.0
    elif money.lower() in SUBUNITS or money in SUBUNITS:
        owner, factor_money = SUBUNITS.get(
            money, SUBUNITS.get(money.lower(), (None, 1))
        )
        if owner is not None and hint is not None and hint != owner:
            # öre of NOK or DKK: the source's own currency wins.
            owner = hint if hint in KRONA else owner
        currency = owner or hint or home_currency
        assumed = owner is None and hint is None
    else:
        raise PriceError("price_currency_unknown", unit=unit or "")
    if in_cents and money.lower() not in SUBUNITS and money not in SUBUNITS:
        # Nord Pool's price_in_cents: the numbers are hundredths of the unit.
        factor_money *= 0.01
    return PriceUnit(
        currency=currency,
        factor=factor_money * factor_energy,
        unit=unit or f"{money}/{energy}",
        assumed_currency=assumed,
    )


def _to_datetime(value: Any, tz: tzinfo) -> datetime | None:
    """A timestamp from an attribute: datetime, ISO text or epoch (s or ms)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value) / 1000.0 if value > 1e11 else float(value)
        moment = datetime.fromtimestamp(seconds, UTC)
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _first_key(item: Mapping[str, Any], keys: Sequence[str]) -> Any:
    for key in keys:
        if key in item:
            return item[key]
    return None


def _items_from_dicts(
    items: Iterable[Any], tz: tzinfo
) -> list[tuple[float, float | None, float]]:
    """(start, end or None, price) of each list item that has both."""
    parsed = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        start = _to_datetime(_first_key(item, START_KEYS), tz)
        price = _number(_first_key(item, VALUE_KEYS))
        if start is None or price is None:
            continue
        end = _to_datetime(_first_key(item, END_KEYS), tz)
        parsed.append(
            (start.timestamp(), None if end is None else end.timestamp(), price)
        )
    return parsed


def _items_from_numbers(
    values: Sequence[Any], day: date, tz: tzinfo
) -> list[tuple[float, float | None, float]]:
    """Bare numbers for one local day: equal slots from local midnight.

    A day has 23 or 25 hours at a daylight-saving change, so the slot length
    is the day's real length divided by the count (24 or 96 on most days).
    """
    first = datetime.combine(day, time(0), tz).astimezone(UTC)
    last = datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(UTC)
    count = len(values)
    if count == 0:
        return []
    length = (last - first).total_seconds() / count
    if length not in (900.0, 1800.0, 3600.0):
        return []
    start = first.timestamp()
    parsed: list[tuple[float, float | None, float]] = []
    for index, value in enumerate(values):
        price = _number(value)
        if price is not None:
            begin = start + index * length
            parsed.append((begin, begin + length, price))
    return parsed


def _slots(
    items: list[tuple[float, float | None, float]],
) -> tuple[list[float], list[float], list[float]]:
    """Sorted, distinct slots; a missing end is the next start or the usual spacing."""
    by_start: dict[float, tuple[float | None, float]] = {}
    for start, end, price in items:
        by_start.setdefault(start, (end, price))
    starts = sorted(by_start)
    if not starts:
        return [], [], []
    gaps = np.diff(starts)
    spacing = float(np.median(gaps)) if len(gaps) else 3600.0
    ends: list[float] = []
    prices: list[float] = []
    for index, start in enumerate(starts):
        end, price = by_start[start]
        if end is None or end <= start:
            following = starts[index + 1] if index + 1 < len(starts) else None
            end = (
                following
                if following is not None and following - start <= spacing
                else start + spacing
            )
        if index + 1 < len(starts):
            end = min(end, starts[index + 1])
        ends.append(end)
        prices.append(price)
    return starts, ends, prices


def parse_price_attributes(
    state: str | None,
    attributes: Mapping[str, Any],
    *,
    tz: tzinfo,
    now: datetime,
    home_currency: str,
) -> PriceSeries:
    """Today's and tomorrow's prices published by a price sensor.

    Raises :class:`PriceError` when the sensor is unavailable, publishes no
    price list, or states a unit or currency that cannot be understood.
    """
    if state in (None, "unavailable", "unknown"):
        raise PriceError("price_sensor_unavailable")
    currency_hint = attributes.get("currency")
    tibber_current = attributes.get("current")
    if currency_hint is None and isinstance(tibber_current, Mapping):
        currency_hint = tibber_current.get("currency")
    unit = parse_price_unit(
        attributes.get("unit_of_measurement"),
        home_currency=home_currency,
        currency_hint=currency_hint if isinstance(currency_hint, str) else None,
        energy_hint=attributes.get("unit")
        if isinstance(attributes.get("unit"), str)
        else None,
        in_cents=bool(attributes.get("price_in_cents", False)),
    )
    local_today = now.astimezone(tz).date()
    items: list[tuple[float, float | None, float]] = []
    source_format = "generic"
    notes: list[str] = []
    tomorrow_valid = attributes.get("tomorrow_valid") is not False
    for today_key, tomorrow_key, pair_format in DAY_PAIRS:
        days = (
            (local_today, attributes.get(today_key)),
            (
                local_today + timedelta(days=1),
                attributes.get(tomorrow_key) if tomorrow_valid else None,
            ),
        )
        for day, values in days:
            if not isinstance(values, list) or not values:
                continue
            if all(isinstance(value, Mapping) for value in values):
                parsed = _items_from_dicts(values, tz)
                found_format = _format_name(pair_format, values)
            elif today_key == "today" and "raw_today" not in attributes:
                # Nord Pool's bare lists, read only when it publishes no
                # raw lists with their times.
                parsed = _items_from_numbers(values, day, tz)
                found_format = "nordpool"
            else:
                continue
            if parsed:
                items += parsed
                if source_format == "generic":
                    source_format = found_format
    for key in SINGLE_LISTS:
        values = attributes.get(key)
        if isinstance(values, list) and values:
            parsed = _items_from_dicts(values, tz)
            if parsed and source_format == "generic":
                source_format = _format_name("generic", values)
            items += parsed
    if not items:
        raise PriceError("price_list_missing")
    starts, ends, prices = _slots(items)
    if unit.assumed_currency:
        notes.append("currency_assumed")
    return PriceSeries(
        starts=starts,
        ends=ends,
        prices=[price * unit.factor for price in prices],
        currency=unit.currency,
        source_format=source_format,
        unit=unit.unit,
        notes=tuple(notes),
    )


def _format_name(name: str, values: Any) -> str:
    """Which integration's shape a list has, for the response and diagnostics."""
    first = values[0] if isinstance(values, list) and values else None
    if isinstance(first, Mapping):
        if "startsAt" in first:
            return "tibber"
        if "timestamp" in first:
            return "energyzero"
        if "time" in first:
            return "entsoe"
        if "value" in first and "start" in first:
            return "nordpool"
    return name


@dataclass(frozen=True, slots=True)
class Tariff:
    """A time-of-use tariff: price per kWh for each quarter hour of each weekday."""

    prices: tuple[tuple[float, ...], ...]
    """7 rows (Monday first) of 96 quarter-hour prices, local time."""

    def series(
        self, start: datetime, end: datetime, tz: tzinfo, currency: str
    ) -> PriceSeries:
        """The tariff's prices over ``[start, end)``, as UTC quarter-hour slots.

        Stepping through UTC quarter hours visits every real instant once;
        the local time of each decides its price. A day of 23 or 25 hours
        (daylight saving) therefore gets 92 or 100 quarters, correctly priced.
        """
        first = start.astimezone(UTC)
        first -= timedelta(
            minutes=first.minute % 15,
            seconds=first.second,
            microseconds=first.microsecond,
        )
        starts: list[float] = []
        prices: list[float] = []
        moment = first
        while moment < end:
            local = moment.astimezone(tz)
            quarter = (local.hour * 60 + local.minute) // 15
            starts.append(moment.timestamp())
            prices.append(self.prices[local.weekday()][quarter])
            moment += TARIFF_STEP
        step = TARIFF_STEP.total_seconds()
        return PriceSeries(
            starts=starts,
            ends=[value + step for value in starts],
            prices=prices,
            currency=currency,
            source_format="tariff",
            unit=f"{currency}/kWh",
        )


def _days(text: str) -> list[int]:
    if text in ("all", "daily", "mon-sun"):
        return list(range(7))
    days: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        if first not in TARIFF_DAYS or (last and last not in TARIFF_DAYS):
            raise ValueError(part)
        begin = TARIFF_DAYS.index(first)
        stop = TARIFF_DAYS.index(last) if last else begin
        day = begin
        while True:
            days.append(day)
            if day == stop:
                break
            day = (day + 1) % 7
    return days


def _quarter(text: str) -> int:
    hours, minutes = (int(part) for part in text.split(":"))
    if minutes % 15 or not (0 <= hours <= 24) or minutes >= 60:
        raise ValueError(text)
    quarter = hours * 4 + minutes // 15
    if quarter > QUARTERS_PER_DAY:
        raise ValueError(text)
    return quarter


def parse_tariff(lines: Sequence[str]) -> Tariff:
    """A tariff from lines ``DAYS HH:MM-HH:MM PRICE`` (price per kWh).

    ``DAYS`` is ``all``, a day (``mon``), a range (``mon-fri``) or a list
    (``sat,sun``); times are local, on quarter hours; ``24:00`` ends a day,
    and a range past midnight (``22:00-06:00``) wraps into the next day.
    Later lines override earlier ones. Every quarter hour of the week must
    get a price. Raises :class:`PriceError` (``tariff_line_invalid`` with the
    line, or ``tariff_incomplete``).
    """
    grid: list[list[float | None]] = [[None] * QUARTERS_PER_DAY for _ in range(7)]
    for line in lines:
        text = line.strip().lower()
        if not text:
            continue
        match = _TARIFF_LINE.match(text)
        try:
            if match is None:
                raise ValueError(text)
            days = _days(match["days"])
            begin, stop = _quarter(match["start"]), _quarter(match["end"])
            price = float(match["price"].replace(",", "."))
        except ValueError:
            raise PriceError("tariff_line_invalid", line=line.strip()) from None
        if begin in (stop, QUARTERS_PER_DAY):
            raise PriceError("tariff_line_invalid", line=line.strip())
        for day in days:
            weekday, quarter = day, begin
            while True:
                grid[weekday][quarter] = price
                quarter += 1
                if quarter == QUARTERS_PER_DAY:
                    # Past midnight: on into the next day, unless 24:00 ends it.
                    weekday, quarter = (weekday + 1) % 7, 0
                    if stop == QUARTERS_PER_DAY:
                        break
                if quarter == stop:
                    break
    if any(value is None for row in grid for value in row):
        raise PriceError("tariff_incomplete")
    return Tariff(prices=tuple(tuple(float(v or 0.0) for v in row) for row in grid))
