"""Log in to the demo Home Assistant and capture pages with headless chromium.

Run by ``scripts/screenshot`` inside the chroot, with the ``playwright``
package (only its driver; the browser is Debian's chromium, never a download).

    python demo_screenshot.py --info kilowise_demo.json --out docs/screenshots \
        [NAME=PATH ...]

Each NAME=PATH captures PATH (DEVICE is the Kilowise device page) into
OUT/NAME.png; by default device-page=DEVICE and energy-dashboard=/energy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
import re
import sys
from typing import Any

from playwright.async_api import Page, async_playwright

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


async def log_in(page: Page, url: str, user: str, password: str) -> None:
    """Fill in the frontend's login form."""
    await page.goto(url + "/", wait_until="domcontentloaded")
    await page.wait_for_url("**/auth/authorize**", timeout=30_000)
    await page.locator('input[name="username"]').fill(user)
    await page.locator('input[type="password"]').fill(password)
    await page.locator('input[type="password"]').press("Enter")
    await page.wait_for_url(lambda u: "/auth/authorize" not in u, timeout=30_000)
    # The frontend is up once its launch screen is gone.
    await page.wait_for_function(
        "() => !document.getElementById('ha-launch-screen')", timeout=120_000
    )
    await page.wait_for_selector(
        "home-assistant-main", state="attached", timeout=60_000
    )


async def navigate(page: Page, path: str) -> None:
    """Move inside the single-page app (a reload would ask to log in again)."""
    await page.evaluate(
        """(path) => {
            history.pushState(null, "", path);
            window.dispatchEvent(new CustomEvent("location-changed", {detail: {replace: false}}));
        }""",
        path,
    )


async def capture(
    page: Page, path: str, target: Path, expect: list[re.Pattern[str]]
) -> None:
    await navigate(page, path)
    # Wait until the expected texts (entity states) are visible, then let
    # charts and icons settle.
    try:
        for pattern in expect:
            # Pages visited before stay in the DOM, hidden: look at visible ones.
            await (
                page.get_by_text(pattern)
                .filter(visible=True)
                .first.wait_for(state="visible", timeout=60_000)
            )
    except Exception:
        failed = Path("/tmp") / f"{target.stem}.failed.png"
        await page.screenshot(path=str(failed))
        print(
            f"  expected text did not show; the page as it was: {failed}",
            file=sys.stderr,
        )
        raise
    await page.wait_for_timeout(3_000)
    target.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(target))
    print(f"  {target}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--info", required=True, help="kilowise_demo.json of the demo")
    parser.add_argument("--out", required=True, help="folder for the PNG files")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument(
        "pages", nargs="*", default=["device-page=DEVICE", "energy-dashboard=/energy"]
    )
    args = parser.parse_args()
    info = json.loads(Path(args.info).read_text(encoding="utf-8"))
    return asyncio.run(shoot(args, info))


async def shoot(args: argparse.Namespace, info: dict[str, Any]) -> int:
    """Log in once, then capture each page."""
    url = info["url"]
    device_path = (
        info["device_urls"][0].removeprefix(url)
        if info.get("device_urls")
        else "/config/integrations/integration/kilowise"
    )
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
        for spec in args.pages:
            name, _, path = spec.partition("=")
            # Numbers in kWh must be on the page: the forecast on the device
            # page, the imported history on the energy dashboard.
            expect = [re.compile(r"\d[\s\u00a0\u202f]*kWh")]
            if path == "DEVICE":
                path = device_path
            await capture(page, path, Path(args.out) / f"{name}.png", expect)
        await browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
