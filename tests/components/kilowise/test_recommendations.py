"""Recommendations on the real house's forecast with prices in real formats.

The household history is the real Sceaux house (see conftest.py); the
dishwasher's sub-meter is the real Konstanz dishwasher counter, moved to end
where the household data ends, so its learned cycle is a real one. Prices are
illustrative day-ahead-shaped numbers in each integration's attribute shape
(tests/fixtures/prices).
"""

from __future__ import annotations

from datetime import datetime, timedelta
import json
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)
from syrupy.assertion import SnapshotAssertion
from syrupy.matchers import path_type

from custom_components.kilowise.const import (
    CONF_DURATION_MINUTES,
    CONF_ENERGY_ENTITY,
    CONF_ENERGY_KWH,
    CONF_NAME,
    CONF_POWER_PROFILE,
    CONF_PRICE_ENTITY,
    CONF_TARIFF,
    DOMAIN,
    EVENT_PEAK_WARNING,
    EVENT_RECOMMENDATION,
    SUBENTRY_APPLIANCE,
)
from custom_components.kilowise.engine.control import DeferrableRun
from custom_components.kilowise.engine.prices import parse_price_attributes
from custom_components.kilowise.engine.schedule import Profile, run_costs, schedule
from custom_components.kilowise.recommendations import RecommendationError

from .conftest import (
    ENTRY_TITLE,
    PRICE_SENSOR,
    SOURCE,
    WASHER,
    make_entry,
    set_price_sensor,
    setup_entry,
    subentry_id,
)
from .control_helpers import PARIS

STRINGS = json.loads(
    (
        Path(__file__).parents[3] / "custom_components" / "kilowise" / "strings.json"
    ).read_text()
)
RESPONSE_MATCHER = path_type(
    {
        # Load-based numbers come from the model's forecast; structure only.
        r".*\.(expected_load_kw|saving_kw|p10|p50|p90)": (float, int),
        # Subentry ids are new for every test.
        r".*\.subentry_id": (str,),
    },
    regex=True,
)


async def recommend(
    hass: HomeAssistant, entry: MockConfigEntry, **data: Any
) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN,
        "recommend",
        {"config_entry_id": entry.entry_id, **data},
        blocking=True,
        return_response=True,
    )
    assert isinstance(response, dict)
    return response


def utc_seconds(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


async def test_recommend_appliance(
    hass: HomeAssistant, priced_entry: MockConfigEntry, snapshot: SnapshotAssertion
) -> None:
    """The dishwasher's learned cycle, placed exactly in its night window."""
    response = await recommend(hass, priced_entry, appliance="Dishwasher")
    assert response == snapshot(matcher=RESPONSE_MATCHER)
    assert response["basis"] == "prices"
    assert response["appliance"]["profile_source"] == "learned"
    # The same run, priced by brute force on every start of a 1-minute grid:
    # none is cheaper than the recommended one.
    recommendations = priced_entry.runtime_data.recommendations
    appliance = recommendations.appliance("dishwasher")
    price_state = hass.states.get(PRICE_SENSOR)
    series = parse_price_attributes(
        price_state.state,
        price_state.attributes,
        tz=dt_util.get_default_time_zone(),
        now=dt_util.utcnow(),
        home_currency="EUR",
    )
    window = response["window"]
    start, end = utc_seconds(window["start"]), utc_seconds(window["end"])
    grid = np.arange(start, end - appliance.profile.duration_seconds + 1e-6, 60.0)
    costs, uncovered = run_costs(series.rate(), appliance.profile, grid)
    assert np.all(uncovered <= 1e-6)
    assert response["best"]["cost"] == pytest.approx(costs.min(), abs=1e-4)
    assert response["saving"] == pytest.approx(
        response["start_now"]["cost"] - response["best"]["cost"], abs=1e-3
    )
    for alternative in response["alternatives"]:
        assert alternative["cost"] >= response["best"]["cost"]


async def test_recommend_ad_hoc_with_power_profile(
    hass: HomeAssistant, priced_entry: MockConfigEntry, snapshot: SnapshotAssertion
) -> None:
    """An ad-hoc run by power profile, within an explicit window."""
    response = await recommend(
        hass,
        priced_entry,
        duration={"hours": 1, "minutes": 30},
        power_profile=[2.0, 0.2, 1.0],
        window_start="2027-02-08 14:00:00",
        window_end="2027-02-09 10:00:00",
        alternatives=2,
    )
    assert response == snapshot(matcher=RESPONSE_MATCHER)
    assert response["energy_kwh"] == pytest.approx(1.6)
    assert len(response["alternatives"]) == 2


@pytest.mark.parametrize(
    "name",
    ["nordpool_hourly", "entsoe", "energyzero", "eur_per_mwh"],
)
async def test_every_hourly_format_gives_the_same_answer(
    hass: HomeAssistant, priced_entry: MockConfigEntry, name: str
) -> None:
    """The same hourly prices, published in four shapes and units."""
    set_price_sensor(hass, name)
    await hass.async_block_till_done()
    response = await recommend(
        hass, priced_entry, duration="02:00:00", energy_kwh=2.0, alternatives=0
    )
    assert response["basis"] == "prices"
    assert response["currency"] == "EUR"
    # Two hours at 1 kW from 03:00 tomorrow: 66 + 64 EUR/MWh.
    assert response["best"]["start"] == "2027-02-09T03:00:00+01:00"
    assert response["best"]["cost"] == pytest.approx(0.130)


@pytest.mark.parametrize("name", ["tibber_15min", "nordpool_15min_cents"])
async def test_quarter_hour_formats(
    hass: HomeAssistant, priced_entry: MockConfigEntry, name: str
) -> None:
    """15-minute prices: starts on the quarter hour, priced exactly."""
    set_price_sensor(hass, name)
    await hass.async_block_till_done()
    response = await recommend(
        hass, priced_entry, duration="00:45:00", energy_kwh=0.75, alternatives=1
    )
    assert response["basis"] == "prices"
    start = datetime.fromisoformat(response["best"]["start"])
    assert start.minute % 15 == 0
    state = hass.states.get(PRICE_SENSOR)
    series = parse_price_attributes(
        state.state,
        state.attributes,
        tz=dt_util.get_default_time_zone(),
        now=dt_util.utcnow(),
        home_currency="EUR",
    )
    result = schedule(
        series.rate(),
        Profile.flat(0.75, 2700),
        dt_util.utcnow().timestamp(),
        series.ends[-1],
    )
    assert response["best"]["cost"] == pytest.approx(
        float(result.costs.min()), abs=1e-4
    )


async def test_without_prices_the_lowest_load_wins(
    hass: HomeAssistant,
    source_statistics: None,
    dishwasher_meter: np.ndarray,
    snapshot: SnapshotAssertion,
) -> None:
    """No price source: the run goes where the home's expected use is lowest."""
    entry = await setup_entry(hass, make_entry({}, [WASHER]))
    response = await recommend(hass, entry, appliance="Washing machine")
    assert response == snapshot(matcher=RESPONSE_MATCHER)
    assert response["basis"] == "load"
    assert response["reason"]["fallback"] is None
    coordinator = entry.runtime_data.coordinator
    p50 = coordinator.data.forecast.p50
    # The washer's heavy first quarter falls in the lowest hours of the load.
    hour = int(
        (
            utc_seconds(response["best"]["start"])
            - coordinator.data.forecast.start.timestamp()
        )
        // 3600
    )
    assert p50[hour] <= np.median(p50)
    assert (
        response["best"]["expected_load_kw"]
        <= response["start_now"]["expected_load_kw"]
    )


@pytest.mark.parametrize(
    ("state", "attributes", "fallback"),
    [
        ("unavailable", {}, "price_sensor_unavailable"),
        ("0.2", {"unit_of_measurement": "°C"}, "price_unit_unknown"),
        ("0.2", {"unit_of_measurement": "bananas/kWh"}, "price_currency_unknown"),
        ("0.2", {"unit_of_measurement": "EUR/kWh"}, "price_list_missing"),
    ],
)
async def test_unusable_prices_fall_back_and_say_so(
    hass: HomeAssistant,
    priced_entry: MockConfigEntry,
    state: str,
    attributes: dict[str, Any],
    fallback: str,
) -> None:
    """A price sensor that cannot be used: load-based, with the reason stated."""
    hass.states.async_set(PRICE_SENSOR, state, attributes)
    await hass.async_block_till_done()
    response = await recommend(hass, priced_entry, duration="01:00:00", energy_kwh=1)
    assert response["basis"] == "load"
    assert response["reason"]["fallback"] == fallback
    assert response["currency"] is None
    # The cost sensors stop showing a number rather than a wrong one.
    cost = hass.states.get("sensor.kilowise_home_energy_expected_cost_today")
    assert cost.state == "unknown"


async def test_other_currency_is_kept_and_noted(
    hass: HomeAssistant, priced_entry: MockConfigEntry
) -> None:
    """Prices in SEK for a home in EUR: costs in SEK, noted, never converted."""
    set_price_sensor(
        hass, "nordpool_hourly", currency="SEK", unit_of_measurement="SEK/kWh"
    )
    await hass.async_block_till_done()
    response = await recommend(hass, priced_entry, duration="02:00:00", energy_kwh=2)
    assert response["currency"] == "SEK"
    assert "currency_not_home" in response["notes"]
    assert response["best"]["cost"] == pytest.approx(0.130)
    cost = hass.states.get("sensor.kilowise_home_energy_expected_cost_tomorrow")
    assert cost.attributes["unit_of_measurement"] == "SEK"


async def test_missing_tomorrow_prices(
    hass: HomeAssistant, priced_entry: MockConfigEntry
) -> None:
    """Without tomorrow's prices a window reaching tomorrow is cut, or falls back."""
    set_price_sensor(hass, "nordpool_hourly", tomorrow_valid=False)
    await hass.async_block_till_done()
    response = await recommend(hass, priced_entry, duration="01:00:00", energy_kwh=1)
    assert response["basis"] == "prices"
    assert "window_cut_to_known_prices" in response["notes"]
    assert response["best"]["end"] <= "2027-02-09T00:00:00+01:00"
    tomorrow = await recommend(
        hass,
        priced_entry,
        duration="01:00:00",
        energy_kwh=1,
        window_start="2027-02-09T02:00:00+01:00",
        window_end="2027-02-09T08:00:00+01:00",
    )
    assert tomorrow["basis"] == "load"
    assert tomorrow["reason"]["fallback"] == "prices_end_before_window"
    state = hass.states.get("sensor.kilowise_home_energy_expected_cost_tomorrow")
    assert state.state == "unknown"
    assert state.attributes["missing"] == "prices_missing"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"appliance": "Toaster"}, "unknown_appliance"),
        ({"appliance": "Dishwasher", "energy_kwh": 1}, "appliance_or_run_needed"),
        ({}, "appliance_or_run_needed"),
        ({"duration": "01:00:00"}, "appliance_or_run_needed"),
        (
            {"duration": "01:00:00", "energy_kwh": 1, "power_profile": [1.0]},
            "appliance_or_run_needed",
        ),
        (
            {"duration": "01:00:00", "energy_kwh": 1, "window_end": "2027-02-08 10:00"},
            "window_in_past",
        ),
        (
            {
                "duration": "03:00:00",
                "energy_kwh": 1,
                "window_start": "2027-02-08 11:00",
                "window_end": "2027-02-08 14:30",
            },
            "window_too_short",
        ),
        (
            {
                "duration": "01:00:00",
                "energy_kwh": 1,
                "window_start": "2027-02-08 18:00",
                "window_end": "2027-02-08 17:00",
            },
            "window_order",
        ),
    ],
)
async def test_bad_input(
    hass: HomeAssistant, priced_entry: MockConfigEntry, data: dict[str, Any], key: str
) -> None:
    """Bad arguments: a translated ServiceValidationError naming the reason."""
    with pytest.raises(ServiceValidationError) as err:
        await recommend(hass, priced_entry, **data)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    assert key in STRINGS["exceptions"]


async def test_unknown_entry(
    hass: HomeAssistant, priced_entry: MockConfigEntry
) -> None:
    """An entry that does not exist is refused for both actions."""
    for service, data in (
        ("recommend", {"duration": "01:00:00", "energy_kwh": 1}),
        ("get_forecast", {}),
    ):
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(
                DOMAIN,
                service,
                {"config_entry_id": "nope", **data},
                blocking=True,
                return_response=True,
            )
        assert err.value.translation_key == "entry_not_found"


async def test_get_forecast(
    hass: HomeAssistant, priced_entry: MockConfigEntry, snapshot: SnapshotAssertion
) -> None:
    """The hourly forecast with its band, JSON-safe, local ISO times."""
    response = await hass.services.async_call(
        DOMAIN,
        "get_forecast",
        {"config_entry_id": priced_entry.entry_id, "hours": 6},
        blocking=True,
        return_response=True,
    )
    assert response == snapshot(matcher=RESPONSE_MATCHER)
    json.dumps(response)
    fc = priced_entry.runtime_data.coordinator.data.forecast
    assert [hour["p50"] for hour in response["forecast"]] == pytest.approx(
        fc.p50[:6].tolist(), abs=1e-4
    )
    for hour in response["forecast"]:
        assert hour["p10"] <= hour["p50"] <= hour["p90"]


async def test_entities(
    hass: HomeAssistant,
    priced_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Per appliance a start and a good-time sensor; for the home peaks and costs."""
    dishwasher = subentry_id(priced_entry, "Dishwasher")
    response = await recommend(hass, priced_entry, appliance="Dishwasher")
    start = hass.states.get("sensor.dishwasher_recommended_start")
    assert start is not None
    assert datetime.fromisoformat(start.state) == datetime.fromisoformat(
        response["best"]["start"]
    )
    assert start.attributes["device_class"] == "timestamp"
    assert start.attributes["expected_cost"] == response["best"]["cost"]
    assert start.attributes["profile_source"] == "learned"
    good = hass.states.get("binary_sensor.dishwasher_good_time_to_run")
    # Noon is outside the dishwasher's 20:00-07:00 window.
    assert good.state == "off"
    washer = hass.states.get("binary_sensor.washing_machine_good_time_to_run")
    assert washer.state in ("on", "off")
    peak = hass.states.get("binary_sensor.kilowise_home_energy_peak_expected_now")
    assert peak.state in ("on", "off")
    peak_hour = hass.states.get("sensor.kilowise_home_energy_peak_hour_today")
    assert dt_util.as_local(datetime.fromisoformat(peak_hour.state)).date() == (
        dt_util.as_local(dt_util.utcnow()).date()
    )
    for day in ("today", "tomorrow"):
        cost = hass.states.get(f"sensor.kilowise_home_energy_expected_cost_{day}")
        assert cost.attributes["unit_of_measurement"] == "EUR"
        assert cost.attributes["device_class"] == "monetary"
        assert 0 < float(cost.state) < cost.attributes["expected_kwh"] * 0.2
    # The appliance's entities belong to its subentry and its own device.
    entity = entity_registry.async_get("sensor.dishwasher_recommended_start")
    assert entity.config_subentry_id == dishwasher
    assert entity.unique_id == f"{priced_entry.entry_id}_{dishwasher}_recommended_start"
    device = device_registry.async_get(entity.device_id)
    assert device.identifiers == {(DOMAIN, dishwasher)}
    assert device.name == "Dishwasher"


async def test_expected_cost_today_adds_up(
    hass: HomeAssistant, priced_entry: MockConfigEntry
) -> None:
    """Today's cost: measured hours and the expected rest, each at its price."""
    recommendations = priced_entry.runtime_data.recommendations
    data = priced_entry.runtime_data.coordinator.data
    fc = data.forecast
    mean = 0.3 * fc.p10 + 0.4 * fc.p50 + 0.3 * fc.p90
    local = dt_util.as_local(dt_util.utcnow())
    midnight = dt_util.as_utc(dt_util.start_of_local_day(local))
    prices = recommendations.snapshot.prices
    total = 0.0
    for hour in range(24):
        start = midnight + timedelta(hours=hour)
        offset = int((start - fc.start) / timedelta(hours=1))
        kwh = mean[offset] if offset >= 0 else data.history.kwh[offset]
        total += kwh * prices.price_at(start.timestamp())
    state = hass.states.get("sensor.kilowise_home_energy_expected_cost_today")
    assert float(state.state) == pytest.approx(total, abs=0.006)


async def test_tariff_prices(
    hass: HomeAssistant, source_statistics: None, dishwasher_meter: np.ndarray
) -> None:
    """A time-of-use tariff from the options: costs in the home's currency."""
    entry = make_entry(
        {CONF_TARIFF: ["all 00:00-24:00 0.30", "all 01:00-06:00 0.15"]}, [WASHER]
    )
    await setup_entry(hass, entry)
    response = await recommend(hass, entry, duration="02:00:00", energy_kwh=2)
    assert response["basis"] == "prices"
    assert response["currency"] == "EUR"
    assert response["best"]["cost"] == pytest.approx(0.30)
    assert response["best"]["start"] == "2027-02-09T01:00:00+01:00"
    cost = hass.states.get("sensor.kilowise_home_energy_expected_cost_tomorrow")
    assert cost.attributes["price_format"] == "tariff"


async def test_recommendation_event_when_the_window_begins(
    hass: HomeAssistant, priced_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """kilowise_recommendation fires once, at the recommended start."""
    events = async_capture_events(hass, EVENT_RECOMMENDATION)
    response = await recommend(hass, priced_entry, appliance="Dishwasher")
    best = datetime.fromisoformat(response["best"]["start"])
    moment = dt_util.utcnow()
    while moment < best - timedelta(minutes=15):
        moment += timedelta(hours=1)
        freezer.move_to(min(moment, best - timedelta(minutes=1)))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    assert [e for e in events if e.data["appliance"] == "Dishwasher"] == []
    freezer.move_to(best)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    fired = [e.data for e in events if e.data["appliance"] == "Dishwasher"]
    assert len(fired) == 1
    payload = fired[0]
    assert payload == {
        "config_entry_id": priced_entry.entry_id,
        "subentry_id": subentry_id(priced_entry, "Dishwasher"),
        "appliance": "Dishwasher",
        "switch_entity": "switch.dishwasher",
        "start": response["best"]["start"],
        "end": response["best"]["end"],
        "basis": "prices",
        "expected_cost": response["best"]["cost"],
        "currency": "EUR",
        "expected_load_kw": None,
        "saving": payload["saving"],
    }
    # Not again in this window, though the best start of what is left of it
    # is now each quarter hour.
    window_end = datetime.fromisoformat(response["window"]["end"])
    for moment in (best + timedelta(minutes=30), window_end - timedelta(minutes=5)):
        freezer.move_to(moment)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    assert len([e for e in events if e.data["appliance"] == "Dishwasher"]) == 1


async def test_peak_warning_fires_the_lead_time_before(
    hass: HomeAssistant, priced_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """kilowise_peak_warning fires 30 minutes (the option) before a peak."""
    events = async_capture_events(hass, EVENT_PEAK_WARNING)
    recommendations = priced_entry.runtime_data.recommendations
    peak = recommendations.snapshot.peaks[0]
    peak_start, kwh, p90 = peak.start, peak.kwh, peak.p90_kwh
    assert peak_start > dt_util.utcnow()
    freezer.move_to(peak_start - timedelta(minutes=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert events == []
    freezer.move_to(peak_start - timedelta(minutes=30))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert len(events) == 1
    # The forecast was refreshed on the way: the peak's numbers are today's.
    now_peak = recommendations.snapshot.peaks[0]
    assert now_peak.start == peak_start
    assert events[0].data == {
        "config_entry_id": priced_entry.entry_id,
        "title": ENTRY_TITLE,
        "peak_start": dt_util.as_local(peak_start).isoformat(),
        "peak_end": dt_util.as_local(now_peak.end).isoformat(),
        "expected_kwh": round(now_peak.kwh, 3),
        "p90_kwh": round(now_peak.p90_kwh, 3),
        "lead_time_minutes": 30,
    }
    assert 0 < kwh <= p90
    freezer.move_to(peak_start + timedelta(minutes=5))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert len(events) == 1
    state = hass.states.get("binary_sensor.kilowise_home_energy_peak_expected_now")
    assert state.state == "on"


async def test_peak_now_and_the_next_peak_agree(
    hass: HomeAssistant, priced_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Hour by hour for a day: on in a peak period, and only then."""
    recommendations = priced_entry.runtime_data.recommendations
    seen = set()
    for _ in range(24):
        freezer.tick(timedelta(hours=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        now = dt_util.utcnow()
        snapshot = recommendations.snapshot
        upcoming = snapshot.peaks[0] if snapshot.peaks else None
        in_peak = upcoming is not None and upcoming.start <= now < upcoming.end
        assert snapshot.peak_now is in_peak, (now, upcoming)
        state = hass.states.get("binary_sensor.kilowise_home_energy_peak_expected_now")
        assert state.state == ("on" if in_peak else "off")
        seen.add(in_peak)
    assert seen == {True, False}


async def test_recommended_window_for_other_parts(
    hass: HomeAssistant, priced_entry: MockConfigEntry
) -> None:
    """The documented call for deferrable loads: appliance or ad-hoc run."""
    recommendations = priced_entry.runtime_data.recommendations
    window = recommendations.recommended_window("Dishwasher")
    response = await recommend(hass, priced_entry, appliance="Dishwasher")
    assert dt_util.as_local(window.start).isoformat() == response["best"]["start"]
    assert window.basis == "prices"
    assert window.currency == "EUR"
    ad_hoc = recommendations.recommended_window(
        duration=timedelta(hours=2), energy_kwh=2.0
    )
    assert dt_util.as_local(ad_hoc.start).isoformat() == "2027-02-09T03:00:00+01:00"
    assert ad_hoc.end - ad_hoc.start == timedelta(hours=2)
    with pytest.raises(RecommendationError) as err:
        recommendations.recommended_window("Toaster")
    assert err.value.key == "unknown_appliance"
    with pytest.raises(RecommendationError) as err:
        recommendations.recommended_window(duration=timedelta(hours=1))
    assert err.value.key == "appliance_or_run_needed"


async def test_deferrable_window_for_zone_switches(
    hass: HomeAssistant, priced_entry: MockConfigEntry
) -> None:
    """Control's window provider: a zone's switch runs where a run is cheapest.

    A switch that is an appliance's switch runs with that appliance's
    profile; any other at constant power. A run that cannot fit in its
    bounds gives None, so control keeps to its schedule.
    """
    recommendations = priced_entry.runtime_data.recommendations
    control = priced_entry.runtime_data.control
    assert control is not None
    assert control.window_provider == recommendations.deferrable_window
    earliest = dt_util.as_utc(datetime(2027, 2, 8, 20, 0, tzinfo=PARIS))
    latest_end = earliest + timedelta(hours=11)
    plain = DeferrableRun(
        "switch.water_heater", timedelta(hours=2), earliest, latest_end
    )
    assert recommendations.deferrable_window(plain) == (
        (
            ad_hoc := recommendations.recommended_window(
                duration=timedelta(hours=2),
                energy_kwh=2.0,
                earliest=earliest,
                latest_end=latest_end,
            )
        ).start,
        ad_hoc.end,
    )
    start, end = recommendations.deferrable_window(plain) or (None, None)
    assert start is not None
    assert end is not None
    assert earliest <= start
    assert end <= latest_end
    assert end - start == timedelta(hours=2)
    dishwasher = recommendations.recommended_window(
        "Dishwasher", earliest=earliest, latest_end=latest_end
    )
    assert recommendations.deferrable_window(
        DeferrableRun("switch.dishwasher", timedelta(hours=2), earliest, latest_end)
    ) == (dishwasher.start, dishwasher.end)
    too_short = DeferrableRun(
        "switch.water_heater",
        timedelta(hours=2),
        earliest,
        earliest + timedelta(hours=1),
    )
    assert recommendations.deferrable_window(too_short) is None


async def test_appliance_subentry_flow(
    hass: HomeAssistant, priced_entry: MockConfigEntry
) -> None:
    """Add an appliance through its flow; errors are the form's, translated."""
    result = await hass.config_entries.subentries.async_init(
        (priced_entry.entry_id, SUBENTRY_APPLIANCE),
        context={"source": "user"},
    )
    assert result["type"] is FlowResultType.FORM
    base = {CONF_NAME: "Dryer", CONF_DURATION_MINUTES: 60, CONF_ENERGY_KWH: 2.5}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {**base, CONF_POWER_PROFILE: "2, lots", CONF_ENERGY_ENTITY: SOURCE + "x"},
    )
    assert result["errors"] == {
        CONF_POWER_PROFILE: "power_profile_invalid",
        CONF_ENERGY_ENTITY: "entity_not_found",
    }
    errors = STRINGS["config_subentries"]["appliance"]["error"]
    assert set(result["errors"].values()) <= set(errors)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**base, CONF_POWER_PROFILE: "2.4, 0.6"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    dryer = subentry_id(priced_entry, "Dryer")
    assert priced_entry.subentries[dryer].data[CONF_POWER_PROFILE] == [2.4, 0.6]
    state = hass.states.get("sensor.dryer_recommended_start")
    assert state is not None
    assert state.attributes["profile_source"] == "power_profile"
    assert state.attributes["energy_kwh"] == pytest.approx(1.5)

    result = await hass.config_entries.subentries.async_init(
        (priced_entry.entry_id, SUBENTRY_APPLIANCE),
        context={"source": "reconfigure", "subentry_id": dryer},
    )
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**base, CONF_DURATION_MINUTES: 45}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    state = hass.states.get("sensor.dryer_recommended_start")
    assert state.attributes["duration_minutes"] == 45
    assert state.attributes["profile_source"] == "configured"


@pytest.mark.parametrize(
    ("fields", "errors", "profile"),
    [
        ({CONF_NAME: "  "}, {CONF_NAME: "name_empty"}, None),
        (
            {CONF_POWER_PROFILE: "2, -1"},
            {CONF_POWER_PROFILE: "power_profile_invalid"},
            None,
        ),
        (
            {CONF_POWER_PROFILE: "2, inf"},
            {CONF_POWER_PROFILE: "power_profile_invalid"},
            None,
        ),
        (
            {CONF_POWER_PROFILE: " , "},
            {CONF_POWER_PROFILE: "power_profile_invalid"},
            None,
        ),
        ({CONF_POWER_PROFILE: "2; 0.5 1"}, {}, [2.0, 0.5, 1.0]),
    ],
)
async def test_appliance_flow_checks_its_fields(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    fields: dict[str, Any],
    errors: dict[str, str],
    profile: list[float] | None,
) -> None:
    """A blank name or a profile that is not kW values >= 0 is refused, field by field."""
    result = await hass.config_entries.subentries.async_init(
        (init_integration.entry_id, SUBENTRY_APPLIANCE), context={"source": "user"}
    )
    base = {CONF_NAME: "Oven", CONF_DURATION_MINUTES: 45, CONF_ENERGY_KWH: 1.2}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**base, **fields}
    )
    if errors:
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == errors
        return
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_POWER_PROFILE] == profile


@pytest.mark.parametrize(
    ("options", "field", "error"),
    [
        (
            {CONF_PRICE_ENTITY: PRICE_SENSOR, CONF_TARIFF: ["all 00:00-24:00 0.3"]},
            CONF_PRICE_ENTITY,
            "price_source_both",
        ),
        ({CONF_TARIFF: ["mon 00:00-24:00 0.3"]}, CONF_TARIFF, "tariff_incomplete"),
        ({CONF_TARIFF: ["all day long 0.3"]}, CONF_TARIFF, "tariff_line_invalid"),
        (
            {CONF_PRICE_ENTITY: "sensor.temperature"},
            CONF_PRICE_ENTITY,
            "price_unit_unknown",
        ),
        (
            {CONF_PRICE_ENTITY: "sensor.no_list"},
            CONF_PRICE_ENTITY,
            "price_list_missing",
        ),
    ],
)
async def test_price_options_are_checked(
    hass: HomeAssistant,
    priced_entry: MockConfigEntry,
    options: dict[str, Any],
    field: str,
    error: str,
) -> None:
    """The options flow refuses price sources that cannot be used."""
    hass.states.async_set("sensor.temperature", "21", {"unit_of_measurement": "°C"})
    hass.states.async_set("sensor.no_list", "0.2", {"unit_of_measurement": "EUR/kWh"})
    result = await hass.config_entries.options.async_init(priced_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"forecast_hours": 48, **options}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: error}
    assert error in STRINGS["options"]["error"]


async def test_unload_stops_everything(
    hass: HomeAssistant, priced_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """After unloading no event fires and no timer is left."""
    events = async_capture_events(hass, EVENT_PEAK_WARNING)
    assert await hass.config_entries.async_unload(priced_entry.entry_id)
    freezer.move_to(dt_util.utcnow() + timedelta(days=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert events == []
