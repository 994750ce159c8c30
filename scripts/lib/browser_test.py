"""The Kilowise dashboard in a real browser: what it shows is what the sensors say.

Run by ``scripts/browser_test`` inside the chroot, with the ``playwright``
package and Debian's chromium, against a demo Home Assistant that
``scripts/demo`` started (its ``kilowise_demo.json`` names the URL, user and
password):

    python browser_test.py --info kilowise_demo.json --out SCREENSHOT_DIR

1. Logs in through the frontend's login form, as a person would.
2. Opens the Kilowise dashboard (docs/dashboard.yaml) and reads what it shows:
   the tile cards' states and the markdown table of the 48 forecast hours.
3. Reads the same sensors through the REST API (``/api/states``) with the
   frontend's own access token, and checks each number shown against its
   state or forecast attribute, to the precision shown.
4. Saves screenshots: the dashboard, the config flow and the options dialog.

Exit status 0 when every value matches; the last line sums up.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass, field
from datetime import datetime
import json
from pathlib import Path
import re
import sys
import time
from typing import Any

from demo_screenshot import CHROMIUM_ARGS, log_in, navigate
from playwright.async_api import Page, async_playwright

DASHBOARD = "/dashboard-kilowise/forecast"
FORECAST = "sensor.kilowise_home_energy_next_48_hours"
EN_DASH = "\u2013"
"""Between p10 and p90 in the forecast table."""
NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")

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
  const tiles = deep(document, 'hui-tile-card').map((card) => ({
    entity: card._config && card._config.entity,
    text: text(card),
  }));
  const tables = deep(document, 'hui-markdown-card').map((card) => ({
    text: text(card),
    rows: deep(card, 'tr').filter((row) => row.querySelector('td')).map((row) =>
      Array.from(row.children).map((cell) => cell.textContent.trim())),
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


async def api_states(page: Page, url: str, token: str) -> dict[str, dict[str, Any]]:
    """Every state, read through the REST API with the frontend's token."""
    response = await page.context.request.get(
        f"{url}/api/states", headers={"Authorization": f"Bearer {token}"}
    )
    if not response.ok:
        raise RuntimeError(f"GET /api/states: HTTP {response.status}")
    return {state["entity_id"]: state for state in await response.json()}


def check_dashboard(shown: dict[str, Any], states: dict[str, dict[str, Any]]) -> Checks:
    """Compare the dashboard's numbers with the sensors' states."""
    checks = Checks()
    tiles = [tile for tile in shown["tiles"] if tile["entity"]]
    if not tiles:
        checks.problems.append("no tile card on the dashboard")
    for tile in tiles:
        entity = tile["entity"]
        state = states.get(entity)
        if state is None:
            checks.problems.append(f"{entity}: shown, but not in /api/states")
            continue
        try:
            value = float(state["state"])
        except ValueError:
            # Unknown, unavailable or a text state: the tile says so.
            checks.compared += 1
            words = {"unknown": "Unknown", "unavailable": "Unavailable"}
            expected = words.get(state["state"])
            if expected and expected not in tile["text"]:
                checks.problems.append(
                    f"{entity}: {tile['text']!r} for {state['state']}"
                )
            continue
        unit = state["attributes"].get("unit_of_measurement", "")
        numbers = re.findall(rf"(-?\d+(?:[.,]\d+)?)\s*{re.escape(unit)}", tile["text"])
        checks.number(entity, numbers[-1] if numbers else tile["text"], value)

    forecast = states[FORECAST]
    hours = forecast["attributes"].get("forecast") or []
    table = next(
        (t for t in shown["tables"] if "expected over the next" in t["text"]), None
    )
    if table is None or not hours:
        checks.problems.append("the forecast table is not on the dashboard")
        return checks
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
    return checks


async def read_dashboard(page: Page) -> dict[str, Any]:
    """Open the dashboard and wait until its numbers and its table are drawn."""
    await navigate(page, DASHBOARD)
    deadline = time.monotonic() + 60
    while True:
        shown: dict[str, Any] = await page.evaluate(READ_DASHBOARD)
        ready = any(
            "expected over the next" in t["text"] and len(t["rows"]) > 10
            for t in shown["tables"]
        ) and any(NUMBER.search(t["text"]) for t in shown["tiles"])
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
        for attempt in range(3):
            before = await api_states(page, url, token)
            shown = await read_dashboard(page)
            after = await api_states(page, url, token)
            # An hourly refresh between the two reads changes the numbers:
            # read again rather than compare two different forecasts.
            if before[FORECAST]["last_updated"] == after[FORECAST]["last_updated"]:
                break
            print(
                f"  the forecast refreshed while reading (attempt {attempt + 1}); again"
            )
        checks = check_dashboard(shown, after)
        await shot(page, out / "dashboard.png", full_page=True)
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
