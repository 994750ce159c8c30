"""Price lists in the shapes the price integrations publish, and their units."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.kilowise.engine.prices import (
    PriceError,
    parse_price_attributes,
    parse_price_unit,
    parse_tariff,
)

PRICES = Path(__file__).parent.parent / "fixtures" / "prices"
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2027, 2, 8, 11, 5, tzinfo=UTC)
MIDNIGHT = datetime(2027, 2, 8, tzinfo=PARIS).timestamp()
NOON_TODAY_EUR_KWH = 0.092
"""The illustrative price of 12:00-13:00 local on 2027-02-08 (92 EUR/MWh)."""


def fixture(name: str) -> dict[str, Any]:
    return dict(json.loads((PRICES / f"{name}.json").read_text()))


def parse(name: str, **overrides: Any) -> Any:
    data = fixture(name)
    attributes = {**data["attributes"], **overrides}
    return parse_price_attributes(
        data["state"], attributes, tz=PARIS, now=NOW, home_currency="EUR"
    )


@pytest.mark.parametrize(
    ("name", "source_format", "slots", "resolution", "noon"),
    [
        ("nordpool_hourly", "nordpool", 48, 3600, NOON_TODAY_EUR_KWH),
        ("nordpool_15min_cents", "nordpool", 96, 900, 0.089),
        ("entsoe", "entsoe", 48, 3600, NOON_TODAY_EUR_KWH),
        ("tibber_15min", "tibber", 192, 900, 0.089 + 0.18),
        ("energyzero", "energyzero", 48, 3600, NOON_TODAY_EUR_KWH),
        ("eur_per_mwh", "generic", 48, 3600, NOON_TODAY_EUR_KWH),
    ],
)
def test_formats(
    name: str, source_format: str, slots: int, resolution: int, noon: float
) -> None:
    """Each format gives the same kind of series: UTC slots, EUR per kWh."""
    series = parse(name)
    assert series.source_format == source_format
    assert series.currency == "EUR"
    assert len(series.starts) == slots
    assert series.resolution_seconds() == resolution
    assert series.starts[0] == MIDNIGHT
    # Contiguous slots, each ending where the next begins.
    assert series.ends[:-1] == series.starts[1:]
    assert series.price_at(MIDNIGHT + 12 * 3600) == pytest.approx(noon)
    assert series.rate().last == series.ends[-1]


def test_nordpool_tomorrow_not_valid_is_ignored() -> None:
    """tomorrow_valid: false means the tomorrow lists are stale copies."""
    series = parse("nordpool_hourly", tomorrow_valid=False)
    assert len(series.starts) == 24
    assert series.last_end == MIDNIGHT + 24 * 3600


def test_nordpool_bare_lists_on_a_daylight_saving_day() -> None:
    """Without raw lists, bare numbers fill the local day: 23 hours in March."""
    now = datetime(2027, 3, 28, 9, tzinfo=UTC)
    series = parse_price_attributes(
        "0.1",
        {
            "today": [0.1 + i / 1000 for i in range(23)],
            "tomorrow": [],
            "currency": "EUR",
            "unit": "kWh",
            "unit_of_measurement": "EUR/kWh",
        },
        tz=PARIS,
        now=now,
        home_currency="EUR",
    )
    assert len(series.starts) == 23
    first = datetime.fromtimestamp(series.starts[0], PARIS)
    third = datetime.fromtimestamp(series.starts[2], PARIS)
    assert first.isoformat() == "2027-03-28T00:00:00+01:00"
    assert third.isoformat() == "2027-03-28T03:00:00+02:00"
    assert series.ends[-1] - series.starts[0] == 23 * 3600


@pytest.mark.parametrize(
    ("unit", "hints", "currency", "factor"),
    [
        ("EUR/kWh", {}, "EUR", 1.0),
        ("€/kWh", {}, "EUR", 1.0),
        ("€ / kWh", {}, "EUR", 1.0),
        ("EUR/MWh", {}, "EUR", 0.001),
        ("ct/kWh", {}, "EUR", 0.01),
        ("c/kWh", {"currency_hint": "EUR"}, "EUR", 0.01),
        ("öre/kWh", {}, "SEK", 0.01),
        ("øre/kWh", {"currency_hint": "DKK"}, "DKK", 0.01),
        ("kr/kWh", {"currency_hint": "NOK"}, "NOK", 1.0),
        ("SEK/kWh", {}, "SEK", 1.0),
        ("p/kWh", {}, "GBP", 0.01),
        ("£/MWh", {}, "GBP", 0.001),
        ("EUR/Wh", {}, "EUR", 1000.0),
        (None, {"currency_hint": "EUR", "energy_hint": "MWh"}, "EUR", 0.001),
        ("EUR/kWh", {"in_cents": True}, "EUR", 0.01),
    ],
)
def test_units(
    unit: str | None, hints: dict[str, Any], currency: str, factor: float
) -> None:
    """Units are normalised to currency per kWh."""
    parsed = parse_price_unit(unit, home_currency="EUR", **hints)
    assert parsed.currency == currency
    assert parsed.factor == pytest.approx(factor)


def test_cents_without_currency_take_the_homes_and_say_so() -> None:
    """ct/kWh names no currency: the home's is taken and the series notes it."""
    parsed = parse_price_unit("ct/kWh", home_currency="CHF")
    assert (parsed.currency, parsed.assumed_currency) == ("CHF", True)
    series = parse("entsoe", unit_of_measurement="ct/kWh")
    assert "currency_assumed" in series.notes
    assert series.price_at(MIDNIGHT + 12 * 3600) == pytest.approx(
        NOON_TODAY_EUR_KWH / 100
    )


@pytest.mark.parametrize(
    ("unit", "key"),
    [
        ("EUR", "price_unit_unknown"),
        ("EUR/m³", "price_unit_unknown"),
        ("°C", "price_unit_unknown"),
        ("bananas/kWh", "price_currency_unknown"),
        ("kr/kWh", "price_currency_unknown"),
        (None, "price_unit_unknown"),
    ],
)
def test_unknown_units_raise(unit: str | None, key: str) -> None:
    """A unit or currency that cannot be understood is an error, never a guess."""
    with pytest.raises(PriceError) as err:
        parse_price_unit(unit, home_currency="EUR")
    assert err.value.key == key


def test_unavailable_and_listless_sensors_raise() -> None:
    """An unavailable sensor, or one without a price list, gives no prices."""
    for state in ("unavailable", "unknown", None):
        with pytest.raises(PriceError) as err:
            parse_price_attributes(state, {}, tz=PARIS, now=NOW, home_currency="EUR")
        assert err.value.key == "price_sensor_unavailable"
    with pytest.raises(PriceError) as err:
        parse_price_attributes(
            "0.25",
            {"unit_of_measurement": "EUR/kWh", "today": "not a list"},
            tz=PARIS,
            now=NOW,
            home_currency="EUR",
        )
    assert err.value.key == "price_list_missing"


def test_missing_hours_stay_gaps() -> None:
    """A null price is a gap, not zero (Nord Pool before publication)."""
    data = fixture("nordpool_hourly")
    attributes = dict(data["attributes"])
    raw = [dict(item) for item in attributes["raw_tomorrow"]]
    for item in raw:
        item["value"] = None
    attributes["raw_tomorrow"] = raw
    attributes["tomorrow"] = [None] * 24
    series = parse_price_attributes(
        data["state"], attributes, tz=PARIS, now=NOW, home_currency="EUR"
    )
    assert len(series.starts) == 24
    assert series.price_at(MIDNIGHT + 30 * 3600) is None


def test_tariff_by_weekday_and_hour() -> None:
    """Later lines override earlier ones; ranges past midnight wrap."""
    tariff = parse_tariff(
        ["all 00:00-24:00 0.25", "mon-fri 07:00-23:00 0,32", "sat,sun 22:00-06:00 0.18"]
    )
    monday = tariff.prices[0]
    assert monday[6 * 4] == 0.25
    assert monday[7 * 4] == 0.32
    assert monday[2 * 4] == 0.18  # Sunday 22:00 to Monday 06:00
    assert tariff.prices[5][23 * 4] == 0.18  # Saturday 23:00
    assert tariff.prices[4][23 * 4] == 0.25  # Friday 23:00
    start = datetime(2027, 2, 8, tzinfo=PARIS)
    series = tariff.series(start, start + timedelta(days=1), PARIS, "EUR")
    assert len(series.starts) == 96
    assert series.source_format == "tariff"


@pytest.mark.parametrize(
    ("lines", "key"),
    [
        (["mon-fri 07:00-23:00 0.32"], "tariff_incomplete"),
        (["all 00:00-24:00"], "tariff_line_invalid"),
        (["every day 0.3"], "tariff_line_invalid"),
        (["all 07:10-08:00 0.3"], "tariff_line_invalid"),
        (["funday 00:00-24:00 0.3"], "tariff_line_invalid"),
        (["all 05:00-05:00 0.3"], "tariff_line_invalid"),
    ],
)
def test_bad_tariffs_raise(lines: list[str], key: str) -> None:
    """A tariff line that cannot be read, or a week with unpriced hours."""
    with pytest.raises(PriceError) as err:
        parse_tariff(lines)
    assert err.value.key == key
