"""The Kilowise dashboard in a real browser: what it shows is what the sensors say.

Run by ``scripts/browser_test`` inside the chroot, with the ``playwright``
package and Debian's chromium, against a demo Home Assistant that
``scripts/demo`` started (its ``kilowise_demo.json`` names the URL, user and
password):

    python browser_test.py --info kilowise_demo.json --out SCREENSHOT_DIR

1. Logs in through the frontend's login form, as a person would.
2. Opens the Kilowise dashboard (docs/dashboard.yaml) and reads what it shows:
   the tile cards' states, the markdown table of the 48 forecast hours, the
   table of the appliances' recommendations, and for each zone its occupancy,
   its chance of occupancy this hour and for each of the next 24 hours, its
   master switch and mode, each driven entity's last action and what control
   does now, and the next run of each deferrable load.
3. Reads the same entities through the REST API (``/api/states``) with the
   frontend's own access token, and checks each value shown against its
   state or attribute, to the precision shown: numbers, on and off, times
   (a tile shows a timestamp relative to now, a table in the home's time
   zone), and a text state in the words of ``translations/en.json``.
4. Saves screenshots: the dashboard, its zones' part, the config flow and the
   options dialog.

Exit status 0 when every value matches; the last line sums up.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
import json
from pathlib import Path
import re
import sys
import time
from typing import Any
from zoneinfo import ZoneInfo

from demo_screenshot import CHROMIUM_ARGS, log_in, navigate
from playwright.async_api import Page, async_playwright

DASHBOARD = "/dashboard-kilowise/forecast"
FORECAST = "sensor.kilowise_home_energy_next_48_hours"
PEAK_NOW = "binary_sensor.kilowise_home_energy_peak_expected_now"
EN_DASH = "\u2013"
"""Between p10 and p90 in the forecast table."""
NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")
APPLIANCES_HEADER = ["Appliance", "Start", "Until", "Cost", "Saving", "Now"]
ZONES_HEADER = ["Zone", "Occupancy", "This hour", "Control", "Mode"]
CONTROL_HEADER = ["Zone", "Entity", "Last action", "When", "Now"]
ZONE_FORECAST_HEADER = ["Hour", "Occupied", ""]
ENTRY_SWITCH = "switch.kilowise_home_energy_control"
ENGLISH = (
    Path(__file__).resolve().parents[2]
    / "custom_components"
    / "kilowise"
    / "translations"
    / "en.json"
)
RELATIVE = re.compile(
    r"\b(?:in (?P<ahead>\d+|an?|one) (?P<unit_ahead>second|minute|hour|day)s?"
    r"|(?P<ago>\d+|an?|one) (?P<unit_ago>second|minute|hour|day)s? ago)\b",
    re.IGNORECASE,
)
"""A time the frontend shows relative to now (en-GB), as in "in 9 hours"."""
UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
ON_OFF = {"on": "On", "off": "Off"}

# Collects every element matching a selector, through open shadow roots.
DEEP_QUERY = """
(root, selector) => {
  const found = [];
  const walk = (node) => {
    if (node.querySelectorAll) {
      for (const el of node.querySelectorAll(selector)) found.push(el);
      for (const el of node.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(root);
  if (root.shadowRoot) walk(root.shadowRoot);
  return found;
}
"""

READ_DASHBOARD = (
    """
() => {
  const deep = """
    + DEEP_QUERY
    + """;
  const text = (el) => {
    const parts = [];
    const walk = (node) => {
      if (node.nodeType === Node.TEXT_NODE) parts.push(node.textContent);
      if (node.shadowRoot) walk(node.shadowRoot);
      for (const child of node.childNodes) walk(child);
    };
    walk(el);
    return parts.join(' ').replace(/\\s+/g, ' ').trim();
  };
  const hass = document.querySelector('home-assistant').hass;
  const tiles = deep(document, 'hui-tile-card').map((card) => {
    const entity = card._config && card._config.entity;
    const entry = entity && hass.entities[entity];
    return {
      entity,
      text: text(card),
      translation_key: (entry && entry.translation_key) || null,
    };
  });
  const cells = (row) => Array.from(row.children).map((cell) => cell.textContent.trim());
  const tables = deep(document, 'hui-markdown-card').map((card) => ({
    text: text(card),
    rows: deep(card, 'tr').filter((row) => row.querySelector('td')).map((row) =>
      Array.from(row.children).map((cell) => cell.textContent.trim())),
    headers: deep(card, 'tr').filter((row) => row.querySelector('th')).map((row) =>
      Array.from(row.children).map((cell) => cell.textContent.trim())),
    tables: deep(card, 'table').map((table) => ({
      header: Array.from(table.querySelectorAll('tr')).filter((r) => r.querySelector('th')).map(cells)[0] || [],
      rows: Array.from(table.querySelectorAll('tr')).filter((r) => r.querySelector('td')).map(cells),
    })),
  }));
  return {tiles, tables};
}
"""
)


@dataclass
class Checks:
    """What was compared, and what did not match."""

    compared: int = 0
    problems: list[str] = field(default_factory=list)

    def number(self, what: str, shown: str, actual: float) -> None:
        """``shown`` (as displayed, any decimals) must be ``actual`` rounded."""
        self.compared += 1
        match = NUMBER.search(shown)
        if match is None:
            self.problems.append(f"{what}: no number in {shown!r} (state {actual})")
            return
        text = match.group(0).replace(",", ".")
        decimals = len(text.split(".")[1]) if "." in text else 0
        if abs(float(text) - actual) > 0.5 * 10**-decimals + 1e-9:
            self.problems.append(f"{what}: shows {text}, the sensor says {actual}")

    def equal(self, what: str, shown: str, expected: str) -> None:
        """Texts that must be identical."""
        self.compared += 1
        if shown != expected:
            self.problems.append(f"{what}: shows {shown!r}, expected {expected!r}")

    def relative(self, what: str, shown: str, moment: datetime, now: datetime) -> None:
        """``shown`` says ``moment`` relative to ``now``, in the unit it chose."""
        self.compared += 1
        match = RELATIVE.search(shown)
        if match is None:
            self.problems.append(f"{what}: no relative time in {shown!r} ({moment})")
            return
        count = (match["ahead"] or match["ago"]).lower()
        unit = (match["unit_ahead"] or match["unit_ago"]).lower()
        value = 1 if count in ("a", "an", "one") else int(count)
        seconds = (moment - now).total_seconds() * (1 if match["ahead"] else -1)
        # The frontend rounds to the unit it shows; the page and the API were
        # read a few seconds apart.
        if abs(seconds / UNIT_SECONDS[unit] - value) > 1:
            self.problems.append(f"{what}: shows {shown!r}, the sensor says {moment}")


async def api_get(page: Page, url: str, token: str, path: str) -> Any:
    """GET a REST API path with the frontend's token."""
    response = await page.context.request.get(
        f"{url}{path}", headers={"Authorization": f"Bearer {token}"}
    )
    if not response.ok:
        raise RuntimeError(f"GET {path}: HTTP {response.status}")
    return await response.json()


async def api_states(page: Page, url: str, token: str) -> dict[str, dict[str, Any]]:
    """Every state, read through the REST API with the frontend's token."""
    states = await api_get(page, url, token, "/api/states")
    return {state["entity_id"]: state for state in states}


def english() -> dict[str, Any]:
    """Kilowise's English strings (``translations/en.json``)."""
    strings: dict[str, Any] = json.loads(ENGLISH.read_text(encoding="utf-8"))
    return strings


def state_words(entity: str, translation_key: str | None, value: str) -> str | None:
    """The English words of a text state (an enum sensor's), or None."""
    if translation_key is None:
        return None
    domain = entity.partition(".")[0]
    entities = english().get("entity", {}).get(domain, {})
    words = entities.get(translation_key, {}).get("state", {}).get(value)
    return str(words) if words is not None else None


def check_tile(checks: Checks, tile: dict[str, Any], state: dict[str, Any]) -> None:
    """A tile shows its entity's state: a number, on or off, a time, the
    translated words of a text state, or why not."""
    entity, text = tile["entity"], tile["text"]
    value = state["state"]
    words = {"unknown": "Unknown", "unavailable": "Unavailable"}
    if value in words:
        checks.equal(
            f"{entity} (tile)",
            words[value] if words[value] in text else text,
            words[value],
        )
        return
    if entity.startswith(("binary_sensor.", "switch.")):
        shown = next((w for w in ON_OFF.values() if re.search(rf"\b{w}\b", text)), text)
        checks.equal(f"{entity} (tile)", shown, ON_OFF[value])
        return
    translated = state_words(entity, tile.get("translation_key"), value)
    if translated is not None:
        checks.equal(
            f"{entity} (tile)", translated if translated in text else text, translated
        )
        return
    if state["attributes"].get("device_class") == "timestamp":
        checks.relative(
            f"{entity} (tile)",
            text,
            datetime.fromisoformat(value),
            datetime.now(UTC),
        )
        return
    try:
        number = float(value)
    except ValueError:
        checks.compared += 1  # a text state (translated): nothing to compute
        return
    unit = state["attributes"].get("unit_of_measurement", "")
    numbers = re.findall(rf"(-?\d+(?:[.,]\d+)?)\s*{re.escape(unit)}", text)
    checks.number(entity, numbers[-1] if numbers else text, number)


def check_appliances(
    checks: Checks,
    shown: dict[str, Any],
    states: dict[str, dict[str, Any]],
    tz: ZoneInfo,
) -> None:
    """The appliances' table: each row is its recommended-start sensor's plan."""
    table = next(
        (t for t in shown["tables"] if APPLIANCES_HEADER in t["headers"]), None
    )
    starts = {
        entity: state
        for entity, state in states.items()
        if entity.startswith("sensor.") and entity.endswith("_recommended_start")
    }
    if table is None:
        checks.problems.append("the appliances' table is not on the dashboard")
        return
    rows = [row for row in table["rows"] if len(row) == len(APPLIANCES_HEADER)]
    checks.equal("appliances in the table", str(len(rows)), str(len(starts)))
    for row in rows:
        name = row[0]
        # The row names the appliance's device; the sensor is "<device> <name>".
        entity, state = next(
            (
                (entity, state)
                for entity, state in starts.items()
                if state["attributes"].get("friendly_name", "").startswith(f"{name} ")
            ),
            (None, None),
        )
        if entity is None or state is None:
            checks.problems.append(f"appliance {name!r}: no recommended-start sensor")
            continue
        attributes = state["attributes"]
        start = datetime.fromisoformat(state["state"]).astimezone(tz)
        checks.equal(f"{entity} start", row[1], start.strftime("%a %H:%M"))
        end = datetime.fromisoformat(attributes["end"])
        checks.equal(f"{entity} end", row[2], end.strftime("%a %H:%M"))
        unit = attributes["currency"] if attributes["basis"] == "prices" else "kW"
        value = (
            attributes["expected_cost"]
            if attributes["basis"] == "prices"
            else attributes["expected_load_kw"]
        )
        checks.equal(f"{entity} unit", row[3].split()[-1], unit)
        checks.number(f"{entity} cost", row[3], value)
        if attributes["saving"] is None:
            checks.equal(f"{entity} saving", row[4], EN_DASH)
        else:
            checks.number(f"{entity} saving", row[4], attributes["saving"])
        good = entity.replace("sensor.", "binary_sensor.", 1).replace(
            "_recommended_start", "_good_time_to_run"
        )
        expected = "good time" if states[good]["state"] == "on" else "wait"
        checks.equal(f"{good} (table)", row[5], expected)


def check_next_peak(
    checks: Checks, shown: dict[str, Any], states: dict[str, dict[str, Any]]
) -> None:
    """The next predicted peak, as the peak sensor's attributes give it."""
    attributes = states[PEAK_NOW]["attributes"]
    if not attributes.get("next_peak_start"):
        return
    text = " ".join(t["text"] for t in shown["tables"])
    match = re.search(
        rf"Next predicted peak: (\w{{3}} \d\d:\d\d){EN_DASH}(\d\d:\d\d)", text
    )
    if match is None:
        checks.problems.append("the next predicted peak is not on the dashboard")
        return
    start = datetime.fromisoformat(attributes["next_peak_start"])
    end = datetime.fromisoformat(attributes["next_peak_end"])
    checks.equal("next peak start", match.group(1), start.strftime("%a %H:%M"))
    checks.equal("next peak end", match.group(2), end.strftime("%H:%M"))


def _table(shown: dict[str, Any], header: list[str]) -> list[list[str]] | None:
    """The rows of the first table with this header, None if none is shown."""
    for card in shown["tables"]:
        for table in card.get("tables", []):
            if table["header"] == header:
                rows: list[list[str]] = table["rows"]
                return rows
    return None


def _zone_sensors(states: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each zone's occupancy sensor, by the zone's device name as the tables
    show it (the sensor's friendly name is "<device> Occupancy")."""
    return {
        state["attributes"]["friendly_name"].removesuffix(" Occupancy"): state
        for entity, state in states.items()
        if entity.startswith("sensor.kilowise_") and entity.endswith("_occupancy")
    }


def _name(states: dict[str, dict[str, Any]], entity: str) -> str:
    state = states.get(entity)
    return str(state["attributes"].get("friendly_name", entity)) if state else entity


def check_zones(
    checks: Checks, shown: dict[str, Any], states: dict[str, dict[str, Any]]
) -> None:
    """Each zone: its row (occupancy, this hour, switch, mode), each driven
    entity's last action and decision, each load's next run, each of the
    next 24 hours' chance of occupancy."""
    zones = _zone_sensors(states)
    overview = _table(shown, ZONES_HEADER)
    control = _table(shown, CONTROL_HEADER)
    if overview is None or control is None:
        checks.problems.append("the zones' tables are not on the dashboard")
        return
    checks.equal("zones in the table", str(len(overview)), str(len(zones)))
    for name, occupancy, chance, switch, mode in overview:
        sensor = zones.get(name)
        if sensor is None:
            checks.problems.append(f"zone {name!r}: no occupancy sensor")
            continue
        entity = sensor["entity_id"]
        attributes = sensor["attributes"]
        words = state_words(entity, "occupancy", sensor["state"])
        checks.equal(f"{entity} (table)", occupancy, words or "unknown")
        forecast = states[f"{entity}_forecast"]
        checks.number(f"{entity}_forecast (table)", chance, float(forecast["state"]))
        zone_switch = entity.replace("sensor.", "switch.", 1).replace(
            "_occupancy", "_control"
        )
        checks.equal(f"{zone_switch} (table)", switch, states[zone_switch]["state"])
        expected = (
            "dry run"
            if attributes["dry_run"]
            else ("acts" if attributes["active"] else "waits")
        )
        checks.equal(f"{entity} mode", mode, expected)
    expected_rows = [
        (zone, entity, decision, sensor["attributes"])
        for zone, sensor in zones.items()
        for entity, decision in (sensor["attributes"].get("decisions") or {}).items()
    ]
    checks.equal(
        "driven entities in the table", str(len(control)), str(len(expected_rows))
    )
    for row, (zone, entity, decision, attributes) in zip(
        control, expected_rows, strict=False
    ):
        checks.equal(f"{entity} zone", row[0], zone)
        checks.equal(f"{entity} name", row[1], _name(states, entity))
        last = (attributes.get("last_actions") or {}).get(entity)
        if last is None:
            checks.equal(
                f"{entity} last action", " ".join(row[2:4]), f"{EN_DASH} {EN_DASH}"
            )
        else:
            verb = "would be" if last["dry_run"] else "was"
            checks.equal(f"{entity} last action", row[2], f"{verb} {last['message']}")
            when = datetime.fromisoformat(last["at"]).strftime("%a %H:%M")
            checks.equal(f"{entity} last action time", row[3], when)
        would = attributes["dry_run"] or not attributes["active"]
        now = decision["message"]
        if decision["action"] and would:
            now = f"would be {now}"
        checks.equal(f"{entity} now", row[4], now)
    text = " ".join(t["text"] for t in shown["tables"])
    for sensor in zones.values():
        for entity, run in (sensor["attributes"].get("planned_runs") or {}).items():
            if run is None:
                continue
            start = datetime.fromisoformat(run["start"])
            end = datetime.fromisoformat(run["end"])
            where = (
                "in the recommended window" if run["recommended"] else "on its schedule"
            )
            line = (
                f"Next run of {_name(states, entity)}: "
                f"{start:%a %H:%M}{EN_DASH}{end:%H:%M}, {where}."
            )
            checks.compared += 1
            # (The times are in bold: the page's text has a space after them.)
            if re.sub(r"\s+,", ",", line) not in re.sub(r"\s+,", ",", text):
                checks.problems.append(f"{entity}: {line!r} is not on the dashboard")
    check_zone_forecasts(checks, shown, states, list(zones.values()))


def check_zone_forecasts(
    checks: Checks,
    shown: dict[str, Any],
    states: dict[str, dict[str, Any]],
    zones: list[dict[str, Any]],
) -> None:
    """Per zone, each of the next 24 hours and its chance of occupancy, one
    row an hour: the tables follow the zones' order."""
    tables = [
        table["rows"]
        for card in shown["tables"]
        for table in card.get("tables", [])
        if table["header"] == ZONE_FORECAST_HEADER
    ]
    checks.equal("zone forecast tables", str(len(tables)), str(len(zones)))
    for rows, sensor in zip(tables, zones, strict=False):
        entity = f"{sensor['entity_id']}_forecast"
        hours = states[entity]["attributes"].get("forecast") or []
        checks.equal(f"{entity} rows", str(len(rows)), str(len(hours)))
        for position, (row, hour) in enumerate(zip(rows, hours, strict=False)):
            label = datetime.fromisoformat(hour["start"]).strftime("%a %H:%M")
            checks.equal(f"{entity} hour {position} label", row[0], label)
            checks.number(
                f"{entity} hour {position} ({label})", row[1], 100 * hour["probability"]
            )


def check_dashboard(
    shown: dict[str, Any], states: dict[str, dict[str, Any]], tz: ZoneInfo
) -> Checks:
    """Compare what the dashboard shows with the entities' states."""
    checks = Checks()
    tiles = [tile for tile in shown["tiles"] if tile["entity"]]
    if not tiles:
        checks.problems.append("no tile card on the dashboard")
    for tile in tiles:
        state = states.get(tile["entity"])
        if state is None:
            checks.problems.append(f"{tile['entity']}: shown, but not in /api/states")
            continue
        check_tile(checks, tile, state)
    check_forecast_table(checks, shown, states)
    check_appliances(checks, shown, states, tz)
    check_next_peak(checks, shown, states)
    check_zones(checks, shown, states)
    return checks


def check_forecast_table(
    checks: Checks, shown: dict[str, Any], states: dict[str, dict[str, Any]]
) -> None:
    """The 48 hours' table: the total, each hour's label, median and band."""
    forecast = states[FORECAST]
    hours = forecast["attributes"].get("forecast") or []
    table = next(
        (t for t in shown["tables"] if "expected over the next" in t["text"]), None
    )
    if table is None or not hours:
        checks.problems.append("the forecast table is not on the dashboard")
        return
    total = re.search(
        r"([\d.,]+) kWh expected over the next (\d+) hours", table["text"]
    )
    if total is None:
        checks.problems.append(f"no total in {table['text'][:120]!r}")
    else:
        checks.number(f"{FORECAST} total", total.group(1), float(forecast["state"]))
        checks.equal("hours in the table", total.group(2), str(len(hours)))
    rows = [row for row in table["rows"] if len(row) == 8 and row[1]]
    half = (len(hours) + 1) // 2
    if len(rows) != half:
        checks.problems.append(f"{len(rows)} table rows for {len(hours)} hours")
    for index, row in enumerate(rows):
        for offset, cells in ((0, row[:4]), (half, row[4:])):
            position = index + offset
            if position >= len(hours):
                continue
            hour = hours[position]
            label = datetime.fromisoformat(hour["start"]).strftime("%a %H:%M")
            checks.equal(f"hour {position} label", cells[0], label)
            checks.number(f"hour {position} ({label}) kWh", cells[1], hour["kwh"])
            low, _, high = cells[2].partition(EN_DASH)
            checks.number(f"hour {position} ({label}) p10", low, hour["p10"])
            checks.number(f"hour {position} ({label}) p90", high, hour["p90"])


def changing_entities(states: dict[str, dict[str, Any]]) -> list[str]:
    """The entities the dashboard shows that change on their own: the
    recommendations (home and appliances) and the zones."""
    return [
        entity
        for entity in states
        if entity in (PEAK_NOW, ENTRY_SWITCH)
        or entity.endswith(("_recommended_start", "_good_time_to_run"))
        or entity.startswith(
            (
                "sensor.kilowise_home_energy_expected_cost_",
                "sensor.kilowise_home_energy_peak_hour",
            )
        )
        or (
            entity.startswith(("sensor.kilowise_", "switch.kilowise_"))
            and entity.endswith(("_occupancy", "_occupancy_forecast", "_control"))
        )
    ]


async def read_dashboard(page: Page) -> dict[str, Any]:
    """Open the dashboard and wait until its numbers and its table are drawn."""
    await navigate(page, DASHBOARD)
    deadline = time.monotonic() + 60
    while True:
        shown: dict[str, Any] = await page.evaluate(READ_DASHBOARD)
        ready = (
            any(
                "expected over the next" in t["text"] and len(t["rows"]) > 10
                for t in shown["tables"]
            )
            and any(APPLIANCES_HEADER in t["headers"] for t in shown["tables"])
            and any(ZONES_HEADER in t["headers"] for t in shown["tables"])
            and any(ZONE_FORECAST_HEADER in t["headers"] for t in shown["tables"])
            and any(NUMBER.search(t["text"]) for t in shown["tiles"])
        )
        if ready:
            return shown
        if time.monotonic() > deadline:
            tables = [t["text"][:300] for t in shown["tables"]]
            raise RuntimeError(f"the dashboard did not render its table: {tables}")
        await page.wait_for_timeout(500)


async def shot(page: Page, target: Path, *, full_page: bool = False) -> None:
    await page.wait_for_timeout(1500)  # charts and icons settle
    await page.screenshot(path=str(target), full_page=full_page)
    print(f"  screenshot {target}")


async def shot_zones(page: Page, target: Path) -> None:
    """The occupancy and control section with the occupancy forecast beside it."""
    # A viewport as tall as the page: the two sections lie side by side, and
    # both are measured where they are drawn, with nothing scrolled.
    size = page.viewport_size or {"width": 1440, "height": 900}
    height = await page.evaluate("() => document.documentElement.scrollHeight")
    await page.set_viewport_size({"width": size["width"], "height": height})
    await page.wait_for_timeout(1500)
    boxes = []
    for heading in ("Occupancy and control", "Occupancy forecast"):
        section = page.locator("hui-grid-section").filter(has_text=heading).last
        box = await section.bounding_box()
        if box is None:
            raise RuntimeError(f"the section {heading!r} is not drawn")
        boxes.append(box)
    left = min(b["x"] for b in boxes) - 8
    top = min(b["y"] for b in boxes) - 8
    right = max(b["x"] + b["width"] for b in boxes) + 8
    bottom = max(b["y"] + b["height"] for b in boxes) + 8
    await page.screenshot(
        path=str(target),
        clip={"x": left, "y": top, "width": right - left, "height": bottom - top},
    )
    print(f"  screenshot {target}")
    await page.set_viewport_size(size)


async def _wait_text(page: Page, text: str, out: Path, name: str) -> None:
    """Wait for a visible text; keep the page as it was if it never shows."""
    try:
        await page.get_by_text(text).filter(visible=True).first.wait_for(timeout=30_000)
    except Exception:
        await page.screenshot(path=str(out / f"{name}.failed.png"))
        print(f"  {text!r} did not show: {out / f'{name}.failed.png'}", file=sys.stderr)
        raise


async def capture_flows(page: Page, out: Path) -> None:
    """The config flow's form and the options dialog, as a user opens them."""
    await navigate(page, "/config/integrations/dashboard/add?domain=kilowise")
    # The link asks first: "Do you want to set up Kilowise?"
    await page.get_by_role("button", name="OK").click(timeout=30_000)
    await _wait_text(page, "Choose the home's energy sensor", out, "config-flow")
    await shot(page, out / "config-flow.png")
    await page.keyboard.press("Escape")
    await page.wait_for_timeout(500)

    await navigate(page, "/config/integrations/integration/kilowise")
    await _wait_text(page, "Kilowise Home energy", out, "options-flow")
    configure = page.get_by_role("button", name=re.compile("^(Configure|Options)$"))
    await configure.first.click(timeout=30_000)
    await _wait_text(page, "Kilowise options", out, "options-flow")
    await shot(page, out / "options-flow.png")
    await page.keyboard.press("Escape")


async def run(args: argparse.Namespace, info: dict[str, Any]) -> int:
    url = info["url"]
    out = Path(args.out)
    started = time.monotonic()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=args.chromium, args=CHROMIUM_ARGS
        )
        context = await browser.new_context(
            viewport={"width": args.width, "height": args.height},
            locale="en-GB",
            timezone_id="Europe/Paris",
            color_scheme="light",
        )
        page = await context.new_page()
        await log_in(page, url, info["user"], info["password"])
        token = await page.evaluate(
            "async () => (await window.hassConnection).auth.accessToken"
        )
        tz = ZoneInfo((await api_get(page, url, token, "/api/config"))["time_zone"])
        for attempt in range(3):
            before = await api_states(page, url, token)
            shown = await read_dashboard(page)
            after = await api_states(page, url, token)
            # A refresh between the two reads (the forecast's hourly one, the
            # recommendations' quarter-hourly one, a zone's evaluation) changes
            # what is shown: read again rather than compare two different states.
            if all(
                before[entity]["last_updated"] == after[entity]["last_updated"]
                for entity in (FORECAST, *changing_entities(after))
            ):
                break
            print(f"  the sensors changed while reading (attempt {attempt + 1}); again")
        checks = check_dashboard(shown, after, tz)
        await shot(page, out / "dashboard.png", full_page=True)
        await shot_zones(page, out / "dashboard-zones.png")
        if not args.no_flows:
            await capture_flows(page, out)
        await browser.close()
    for problem in checks.problems:
        print(f"  MISMATCH {problem}", file=sys.stderr)
    status = "ok" if not checks.problems else f"{len(checks.problems)} mismatches"
    print(
        f"browser: {status} ({checks.compared} values on the dashboard checked against "
        f"/api/states, {time.monotonic() - started:.0f} s in chromium)"
    )
    return 0 if not checks.problems else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--info", required=True, help="kilowise_demo.json of the demo")
    parser.add_argument("--out", required=True, help="folder for the screenshots")
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument(
        "--no-flows", action="store_true", help="skip the flow screenshots"
    )
    args = parser.parse_args()
    info = json.loads(Path(args.info).read_text(encoding="utf-8"))
    Path(args.out).mkdir(parents=True, exist_ok=True)
    return asyncio.run(run(args, info))


if __name__ == "__main__":
    sys.exit(main())
