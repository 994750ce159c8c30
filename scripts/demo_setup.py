"""Prepare and provision the Kilowise demo Home Assistant.

Run by ``scripts/demo`` with the Python of Home Assistant's virtual
environment (it needs aiohttp, which Home Assistant brings).

``prepare``    writes a fresh configuration directory: configuration.yaml
               from demo/configuration.yaml, the custom integration, and the
               statistics to import (from a real slice of the Sceaux data).
``provision``  talks to the running Home Assistant: onboarding (user and
               password), import of the long-term statistics, energy
               dashboard, the Kilowise config entry and its living-room zone
               (in dry run), the price option, the dishwasher appliance and the
               Kilowise dashboard (docs/dashboard.yaml); then waits until the
               Kilowise sensors show a forecast and prints where to look.
``dashboard``  installs docs/dashboard.yaml again into a running demo (after
               editing it), with the demo's user and password.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path
import shutil
import sys
import time
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "lib"))

import demo_data  # noqa: E402

STATS_FILE = "kilowise_demo_statistics.json"
INFO_FILE = "kilowise_demo.json"
DASHBOARD_FILE = HERE.parent / "docs" / "dashboard.yaml"
DASHBOARD_URL_PATH = "dashboard-kilowise"
"""Where the Kilowise dashboard opens: /dashboard-kilowise (a hyphen is required)."""
SOURCE_ENTITY = "sensor.home_energy"
DOMAIN = "kilowise"
PRICE_ENTITY = "sensor.electricity_price"
SUBMETER_ENTITY = "sensor.kitchen_energy"
SUBMETER_STATS_FILE = "kilowise_demo_submeter.json"
# Illustrative day-ahead-shaped prices (EUR/MWh) for the demo's price sensor;
# the same shape as the test fixtures, not a market feed.
PRICE_TODAY = [92, 88, 85, 83, 84, 90, 110, 135, 142, 128, 110, 98,
               92, 90, 95, 108, 125, 150, 165, 158, 140, 120, 105, 97]  # fmt: skip
PRICE_TOMORROW = [95, 80, 72, 66, 64, 70, 96, 128, 139, 121, 102, 88,
                  79, 76, 84, 101, 122, 146, 160, 151, 133, 114, 101, 93]  # fmt: skip
DEMO_APPLIANCE = {
    "name": "Dishwasher",
    "duration_minutes": 120,
    "energy_kwh": 1.0,
    "energy_entity": SUBMETER_ENTITY,
    "earliest_start": "20:00:00",
    "latest_end": "07:00:00",
}

ZONE = {
    "name": "Living room",
    "dry_run": True,
    "occupancy": {"sources": ["binary_sensor.living_room_motion"], "prior": "home"},
    "climate": {"climates": ["climate.living_room"]},
    "lights_section": {"lights": ["light.living_room_light"]},
    "switches_section": {"switches": ["switch.water_heater"]},
}
"""The demo's zone (see demo/configuration.yaml); every other setting is the default."""


# --------------------------------------------------------------------------
# prepare
# --------------------------------------------------------------------------
def prepare(args: argparse.Namespace) -> int:
    """Write a fresh configuration directory."""
    repo = Path(args.repo).resolve()
    config = Path(args.config)
    if config.exists():
        shutil.rmtree(config)
    config.mkdir(parents=True)

    history = demo_data.build_history(Path(args.data), weeks=args.weeks)
    submeter_stats, submeter_end = demo_data.submeter_statistics(
        Path(args.data), history
    )
    storage = config / ".storage"
    storage.mkdir()
    http_section = write_http_store(storage, args.host, args.port)
    template = (repo / "demo" / "configuration.yaml").read_text(encoding="utf-8")
    text = (
        template.replace("@HTTP_SECTION@", http_section)
        # A JSON string is a valid YAML double-quoted scalar.
        .replace("@METER_TEMPLATE@", json.dumps(demo_data.template_state(history)))
        .replace("@PRICE_TODAY@", json.dumps(PRICE_TODAY))
        .replace("@PRICE_TOMORROW@", json.dumps(PRICE_TOMORROW))
        .replace("@SUBMETER_STATE@", str(submeter_end))
    )
    (config / "configuration.yaml").write_text(text, encoding="utf-8")

    custom = config / "custom_components"
    custom.mkdir()
    source = repo / "custom_components" / DOMAIN
    if args.copy_integration:
        shutil.copytree(
            source, custom / DOMAIN, ignore=shutil.ignore_patterns("__pycache__")
        )
    else:
        (custom / DOMAIN).symlink_to(source, target_is_directory=True)

    # Onboarding: the owner is created through the onboarding API at
    # provisioning time. The three other steps are marked done here: the core
    # configuration is in configuration.yaml, analytics stays off, and the
    # "integration" step only hands a login over to the frontend. Finishing
    # the core_config step through the API would also start the integrations
    # a fresh install suggests (met.no, radio browser, Google Translate, a
    # shopping list), which need the internet and packages that do not build
    # on Python 3.14; the demo does not need them.
    (storage / "onboarding").write_text(
        json.dumps(
            {
                "version": 4,
                "minor_version": 1,
                "key": "onboarding",
                "data": {"done": ["core_config", "analytics", "integration"]},
            },
            indent=2,
        ),
        encoding="utf-8",
    )

    payload = {
        "statistic_id": SOURCE_ENTITY,
        "summary": history.summary(),
        "stats": history.stats,
    }
    (config / STATS_FILE).write_text(json.dumps(payload), encoding="utf-8")
    (config / SUBMETER_STATS_FILE).write_text(
        json.dumps({"statistic_id": SUBMETER_ENTITY, "stats": submeter_stats}),
        encoding="utf-8",
    )
    summary = history.summary()
    print(
        "  data: {hours_imported} hours of the Sceaux house ({source_start} to "
        "{source_end}, {hours_missing} unmeasured hours left out), moved {shift_weeks} "
        "weeks forward".format(**summary)
    )
    return 0


def write_http_store(storage: Path, host: str, port: int) -> str:
    """Set where the web server listens; return the YAML to add, if any.

    Since 2026.11 the HTTP settings live in Home Assistant's storage: an
    ``http:`` section in YAML is migrated there as a "pending" trial that the
    user must confirm within five minutes (else Home Assistant restarts and
    reverts it), and it raises a deprecation repair. So the demo writes the
    stored settings directly, validated by Home Assistant's own schema.
    Releases without that store get the YAML section instead.
    """
    try:
        from homeassistant.components.http import (  # type: ignore[attr-defined]  # noqa: PLC0415
            config as http_config,
        )
        from homeassistant.util import dt as dt_util  # noqa: PLC0415

        settings = dict(
            http_config.HTTP_STORAGE_SCHEMA(
                {"server_host": [host], "server_port": port}
            )
        )
        version = http_config.STORAGE_VERSION
        minor = http_config.STORAGE_MINOR_VERSION
    except (ImportError, AttributeError):
        return f"http:\n  server_host: {host}\n  server_port: {port}\n"
    settings.update(
        created_at=dt_util.utcnow().isoformat(), error=None, error_message=None
    )
    (storage / "http").write_text(
        json.dumps(
            {
                "version": version,
                "minor_version": minor,
                "key": "http",
                "data": {
                    "stable": settings,
                    "pending": None,
                    "yaml_migration_done": True,
                },
            },
            indent=2,
            default=str,
        ),
        encoding="utf-8",
    )
    return f"# Web server: {host}:{port}, stored in .storage/http (no YAML since 2026.11).\n"


# --------------------------------------------------------------------------
# provision
# --------------------------------------------------------------------------
class DemoError(Exception):
    """A step of the provisioning failed."""


class HAClient:
    """Just enough REST and websocket client for the demo."""

    def __init__(self, session: Any, url: str) -> None:
        self.session = session
        self.url = url.rstrip("/")
        self.token: str | None = None
        self.ws: Any = None
        self._id = 0

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def rest(self, method: str, path: str, **kwargs: Any) -> Any:
        async with self.session.request(
            method, self.url + path, headers=self._headers(), **kwargs
        ) as resp:
            text = await resp.text()
            if resp.status >= 400:
                raise DemoError(f"{method} {path}: HTTP {resp.status}: {text[:500]}")
            try:
                return json.loads(text) if text else None
            except ValueError:
                return text

    async def ws_connect(self) -> None:
        self.ws = await self.session.ws_connect(
            self.url + "/api/websocket", max_msg_size=64 * 1024 * 1024
        )
        hello = await self.ws.receive_json()
        if hello.get("type") != "auth_required":
            raise DemoError(f"unexpected websocket greeting: {hello}")
        await self.ws.send_json({"type": "auth", "access_token": self.token})
        reply = await self.ws.receive_json()
        if reply.get("type") != "auth_ok":
            raise DemoError(f"websocket authentication failed: {reply}")

    async def ws_call(self, msg_type: str, **data: Any) -> Any:
        self._id += 1
        msg_id = self._id
        await self.ws.send_json({"id": msg_id, "type": msg_type, **data})
        while True:
            reply = await self.ws.receive_json()
            if reply.get("id") != msg_id:
                continue
            if not reply.get("success", False):
                raise DemoError(f"{msg_type}: {reply.get('error')}")
            return reply.get("result")


async def wait_for_http(client: HAClient, wait_s: float) -> None:
    """Wait until Home Assistant answers its onboarding status."""
    deadline = time.monotonic() + wait_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            await client.rest("GET", "/api/onboarding")
            return
        except Exception as err:
            last = err
            await asyncio.sleep(0.5)
    raise DemoError(f"Home Assistant did not answer within {wait_s:.0f} s ({last})")


async def onboard(client: HAClient, user: str, password: str) -> None:
    """Create the owner through the onboarding API and log in."""
    client_id = client.url + "/"
    steps = await client.rest("GET", "/api/onboarding")
    done = {step["step"] for step in steps if step.get("done")}
    if "user" in done:
        raise DemoError(
            "this Home Assistant is already onboarded (not a fresh directory?)"
        )
    result = await client.rest(
        "POST",
        "/api/onboarding/users",
        json={
            "client_id": client_id,
            "name": "Demo",
            "username": user,
            "password": password,
            "language": "en",
        },
    )
    tokens = await client.rest(
        "POST",
        "/auth/token",
        data={
            "grant_type": "authorization_code",
            "code": result["auth_code"],
            "client_id": client_id,
        },
    )
    client.token = tokens["access_token"]
    # Steps that prepare did not mark done.
    if "core_config" not in done:
        await client.rest("POST", "/api/onboarding/core_config")
    if "analytics" not in done:
        await client.rest("POST", "/api/onboarding/analytics")
    if "integration" not in done:
        await client.rest(
            "POST",
            "/api/onboarding/integration",
            json={
                "client_id": client_id,
                "redirect_uri": client.url + "/?auth_callback=1",
            },
        )
    steps = await client.rest("GET", "/api/onboarding")
    if not all(step.get("done") for step in steps):
        raise DemoError(f"onboarding is not complete: {steps}")


async def wait_for_source(client: HAClient, wait_s: float) -> dict[str, Any]:
    """Wait until the recorder runs and the meter sensor has a number."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            info = await client.ws_call("recorder/info")
            state = await client.rest("GET", f"/api/states/{SOURCE_ENTITY}")
            float(state["state"])
            if info.get("recording") and info.get("thread_running"):
                return dict(state)
        except (DemoError, ValueError, TypeError):
            pass
        await asyncio.sleep(0.5)
    raise DemoError(f"{SOURCE_ENTITY} or the recorder did not come up in time")


async def import_statistics(
    client: HAClient, stats: list[dict[str, Any]], statistic_id: str = SOURCE_ENTITY
) -> None:
    """Import the hourly statistics of a meter, then wait until they are stored."""
    base = {
        "has_sum": True,
        "name": None,
        "source": "recorder",
        "statistic_id": statistic_id,
        "unit_of_measurement": "kWh",
    }
    variants = [
        # Home Assistant 2025.11 and later (required from 2026.11).
        {**base, "mean_type": 0, "unit_class": "energy"},
        # Earlier releases.
        {**base, "has_mean": False},
    ]
    errors = []
    for metadata in variants:
        try:
            await client.ws_call(
                "recorder/import_statistics", metadata=metadata, stats=stats
            )
            break
        except DemoError as err:
            errors.append(str(err))
    else:
        raise DemoError("recorder/import_statistics refused: " + " | ".join(errors))

    # The import is queued in the recorder thread: wait until it is committed.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        result = await client.ws_call(
            "recorder/statistics_during_period",
            start_time=stats[0]["start"],
            statistic_ids=[statistic_id],
            period="hour",
            types=["sum", "state"],
        )
        rows = result.get(statistic_id, [])
        if len(rows) >= len(stats):
            return
        await asyncio.sleep(0.5)
    raise DemoError("the imported statistics did not show up in the recorder")


async def set_energy_dashboard(client: HAClient) -> None:
    """Use the meter as grid consumption in the energy dashboard (best effort)."""
    candidates = [
        {"type": "grid", "stat_energy_from": SOURCE_ENTITY, "cost_adjustment_day": 0},
        {
            "type": "grid",
            "flow_from": [
                {
                    "stat_energy_from": SOURCE_ENTITY,
                    "stat_cost": None,
                    "entity_energy_price": None,
                    "number_energy_price": None,
                }
            ],
            "flow_to": [],
            "cost_adjustment_day": 0,
        },
    ]
    for source in candidates:
        try:
            await client.ws_call("energy/save_prefs", energy_sources=[source])
            return
        except DemoError:
            continue
    print("  (could not configure the energy dashboard; carrying on)")


async def create_entry(client: HAClient) -> str:
    """Run Kilowise's config flow with the meter as source."""
    flow = await client.rest(
        "POST",
        "/api/config/config_entries/flow",
        json={"handler": DOMAIN, "show_advanced_options": False},
    )
    if flow.get("type") == "abort":
        raise DemoError(f"Kilowise config flow aborted: {flow.get('reason')}")
    if flow.get("type") == "form":
        flow = await client.rest(
            "POST",
            f"/api/config/config_entries/flow/{flow['flow_id']}",
            json={"source_entity": SOURCE_ENTITY},
        )
    if flow.get("type") != "create_entry":
        raise DemoError(f"Kilowise config flow did not create an entry: {flow}")
    return str(flow["result"]["entry_id"])


async def set_price_options(client: HAClient, entry_id: str) -> None:
    """Use the demo's price sensor for recommendations (the options flow)."""
    flow = await client.rest(
        "POST", "/api/config/config_entries/options/flow", json={"handler": entry_id}
    )
    result = await client.rest(
        "POST",
        f"/api/config/config_entries/options/flow/{flow['flow_id']}",
        json={
            "forecast_hours": 48,
            "allow_unsigned": False,
            "price_entity": PRICE_ENTITY,
            "peak_warning_minutes": 30,
        },
    )
    if result.get("type") != "create_entry":
        raise DemoError(f"Kilowise options were not saved: {result}")


async def add_appliance(client: HAClient, entry_id: str) -> str:
    """Add the demo's dishwasher (a config subentry) through its flow."""
    flow = await client.rest(
        "POST",
        "/api/config/config_entries/subentries/flow",
        json={"handler": [entry_id, "appliance"]},
    )
    result = await client.rest(
        "POST",
        f"/api/config/config_entries/subentries/flow/{flow['flow_id']}",
        json=DEMO_APPLIANCE,
    )
    if result.get("type") != "create_entry":
        raise DemoError(f"the demo appliance was not added: {result}")
    return str(DEMO_APPLIANCE["name"])


async def wait_for_recommendation(
    client: HAClient, entry_id: str, wait_s: float
) -> dict[str, Any]:
    """Wait until the dishwasher's learned cycle is in use; return recommend's answer."""
    deadline = time.monotonic() + wait_s
    response: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            answer = await client.rest(
                "POST",
                "/api/services/kilowise/recommend?return_response",
                json={"config_entry_id": entry_id, "appliance": "Dishwasher"},
            )
            response = answer.get("service_response", answer)
            if response.get("appliance", {}).get("profile_source") == "learned":
                return response
        except DemoError as err:
            response = {"error": str(err)}
        await asyncio.sleep(1)
    raise DemoError(f"no recommendation from the learned cycle in time: {response}")


async def create_zone(client: HAClient, entry_id: str) -> str:
    """Add the living-room zone, in dry run, through the zone subentry flow."""
    flow = await client.rest(
        "POST",
        "/api/config/config_entries/subentries/flow",
        json={"handler": [entry_id, "zone"], "show_advanced_options": False},
    )
    if flow.get("type") != "form":
        raise DemoError(f"the zone flow did not start: {flow}")
    flow = await client.rest(
        "POST",
        f"/api/config/config_entries/subentries/flow/{flow['flow_id']}",
        json=ZONE,
    )
    if flow.get("type") != "create_entry":
        raise DemoError(f"the zone flow did not create the zone: {flow}")
    return str(ZONE["name"])


async def zone_log(
    client: HAClient, since: float, wait_s: float
) -> list[dict[str, Any]]:
    """Kilowise's logbook entries since ``since`` (epoch s).

    The zone logs its first dry-run action as soon as it starts; the
    recorder commits it to the database (which the logbook reads) within
    seconds.
    """
    start = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(since - 60))
    deadline = time.monotonic() + wait_s
    while True:
        entries = await client.rest("GET", f"/api/logbook/{start}")
        found = [
            {"entity_id": e.get("entity_id"), "message": e.get("message")}
            for e in entries or []
            # Kilowise's own entries (its actions), not its entities' states.
            if e.get("domain") == DOMAIN and e.get("message")
        ]
        if found or time.monotonic() > deadline:
            return found
        await asyncio.sleep(1)


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


async def wait_for_forecast(
    client: HAClient, entry_id: str, wait_s: float
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Wait until the entry's sensors have numbers; return (entities, devices)."""
    deadline = time.monotonic() + wait_s
    entities: list[dict[str, Any]] = []
    states: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        registry = await client.ws_call("config/entity_registry/list")
        entities = [e for e in registry if e.get("config_entry_id") == entry_id]
        all_states = await client.ws_call("get_states")
        states = {s["entity_id"]: s for s in all_states}
        sensors = [e for e in entities if e["entity_id"].startswith("sensor.")]
        numeric = [
            e
            for e in sensors
            if _is_number(states.get(e["entity_id"], {}).get("state"))
        ]
        # The forecast's numbers are the sensors with a unit that are not
        # diagnostic; they must all be set. Diagnostic ones (live accuracy)
        # stay unknown until a forecast hour has been scored.
        with_unit = [
            e
            for e in sensors
            if e.get("entity_category") is None
            and states.get(e["entity_id"], {})
            .get("attributes", {})
            .get("unit_of_measurement")
        ]
        if numeric and all(e in numeric for e in with_unit):
            break
        await asyncio.sleep(1)
    else:
        shown = {
            e["entity_id"]: states.get(e["entity_id"], {}).get("state")
            for e in entities
        }
        raise DemoError(
            f"Kilowise sensors show no forecast after {wait_s:.0f} s: {shown}"
        )
    devices = [
        d
        for d in await client.ws_call("config/device_registry/list")
        if entry_id in (d.get("config_entries") or [])
    ]
    rows = []
    for entity in sorted(entities, key=lambda e: e["entity_id"]):
        state = states.get(entity["entity_id"], {})
        rows.append(
            {
                "entity_id": entity["entity_id"],
                "name": state.get("attributes", {}).get("friendly_name"),
                "state": state.get("state"),
                "unit": state.get("attributes", {}).get("unit_of_measurement"),
            }
        )
    return rows, devices


async def install_dashboard(client: HAClient, path: Path = DASHBOARD_FILE) -> str:
    """Create the Kilowise dashboard (once) and save ``path`` as its configuration.

    Returns the dashboard's URL path. The YAML is the one users paste into
    the raw configuration editor; the demo stores it through the same
    websocket commands the frontend uses.
    """
    import yaml  # noqa: PLC0415 - only in Home Assistant's environment

    config = yaml.safe_load(await asyncio.to_thread(path.read_text, encoding="utf-8"))
    dashboards = await client.ws_call("lovelace/dashboards/list")
    if not any(d.get("url_path") == DASHBOARD_URL_PATH for d in dashboards):
        await client.ws_call(
            "lovelace/dashboards/create",
            url_path=DASHBOARD_URL_PATH,
            title=config.get("title", "Kilowise"),
            icon="mdi:home-lightning-bolt",
            show_in_sidebar=True,
            require_admin=False,
            mode="storage",
        )
    await client.ws_call(
        "lovelace/config/save", url_path=DASHBOARD_URL_PATH, config=config
    )
    return DASHBOARD_URL_PATH


async def login(client: HAClient, user: str, password: str) -> None:
    """Get a token through the login flow, as the frontend does."""
    client_id = client.url + "/"
    flow = await client.rest(
        "POST",
        "/auth/login_flow",
        json={
            "client_id": client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": client_id,
        },
    )
    result = await client.rest(
        "POST",
        f"/auth/login_flow/{flow['flow_id']}",
        json={"client_id": client_id, "username": user, "password": password},
    )
    if result.get("type") != "create_entry":
        raise DemoError(f"login refused: {result.get('errors')}")
    tokens = await client.rest(
        "POST",
        "/auth/token",
        data={
            "grant_type": "authorization_code",
            "code": result["result"],
            "client_id": client_id,
        },
    )
    client.token = tokens["access_token"]


async def reinstall_dashboard(args: argparse.Namespace) -> int:
    """Install docs/dashboard.yaml into a running demo."""
    import aiohttp  # noqa: PLC0415 - only in Home Assistant's environment

    async with aiohttp.ClientSession() as session:
        client = HAClient(session, args.url)
        await login(client, args.user, args.password)
        await client.ws_connect()
        path = await install_dashboard(client)
        await client.ws.close()
    print(f"  Dashboard   {client.url}/{path}")
    return 0


async def provision(args: argparse.Namespace) -> int:
    import aiohttp  # noqa: PLC0415 - only in Home Assistant's environment

    config = Path(args.config)
    payload = json.loads((config / STATS_FILE).read_text(encoding="utf-8"))
    stats = payload["stats"]
    timings: dict[str, float] = {}
    t0 = args.t0 or time.time()

    if args.t_hass:
        timings["hass_launched"] = round(args.t_hass - t0, 1)

    def mark(name: str) -> None:
        timings[name] = round(time.time() - t0, 1)

    async with aiohttp.ClientSession() as session:
        client = HAClient(session, args.url)
        await wait_for_http(client, args.timeout)
        mark("http_up")
        await onboard(client, args.user, args.password)
        mark("onboarded")
        await client.ws_connect()
        await wait_for_source(client, args.timeout)
        mark("source_ready")
        await import_statistics(client, stats)
        submeter = json.loads(
            (config / SUBMETER_STATS_FILE).read_text(encoding="utf-8")
        )
        await import_statistics(client, submeter["stats"], SUBMETER_ENTITY)
        mark("statistics_imported")
        await set_energy_dashboard(client)
        entry_id = await create_entry(client)
        mark("entry_created")
        zone = await create_zone(client, entry_id)
        mark("zone_created")
        entities, devices = await wait_for_forecast(
            client, entry_id, args.forecast_timeout
        )
        mark("forecast_shown")
        await set_price_options(client, entry_id)
        await add_appliance(client, entry_id)
        recommendation = await wait_for_recommendation(
            client, entry_id, args.forecast_timeout
        )
        mark("recommendation_shown")
        entities, devices = await wait_for_forecast(
            client, entry_id, args.forecast_timeout
        )
        dashboard = await install_dashboard(client)
        log = await zone_log(client, t0, 30)
        version = (await client.rest("GET", "/api/config")).get("version")
        await client.ws.close()

    device_urls = [f"{client.url}/config/devices/device/{d['id']}" for d in devices]
    device_names = [d.get("name_by_user") or d.get("name") or d["id"] for d in devices]
    info = {
        "url": client.url,
        "user": args.user,
        "password": args.password,
        "home_assistant": version,
        "entry_id": entry_id,
        "device_urls": device_urls,
        "device_names": device_names,
        "integration_url": f"{client.url}/config/integrations/integration/{DOMAIN}",
        "dashboard_url": f"{client.url}/{dashboard}",
        "entities_url": f"{client.url}/config/entities?search={DOMAIN}",
        "entities": entities,
        "recommendation": recommendation,
        "zone": zone,
        "zone_log": log,
        "data": payload["summary"],
        "timings_s": timings,
        "config_dir": str(config),
    }
    (config / INFO_FILE).write_text(json.dumps(info, indent=2), encoding="utf-8")
    print_summary(info)
    return 0


def print_summary(info: dict[str, Any]) -> None:
    data = info["data"]
    timings = info["timings_s"]
    since_launch = ""
    if "hass_launched" in timings:
        since_launch = (
            f"{timings['forecast_shown'] - timings['hass_launched']:.1f} s after "
            "Home Assistant was launched, "
        )
    lines = [
        "",
        f"Kilowise demo is ready: Home Assistant {info['home_assistant']}, forecast "
        f"shown {since_launch}{timings['forecast_shown']} s after scripts/demo began.",
        "",
        f"  Open        {info['url']}",
        f"  User        {info['user']}",
        f"  Password    {info['password']}",
    ]
    lines.append(f"  Entry id    {info['entry_id']}  (config_entry_id of the actions)")
    for name, url in zip(info["device_names"], info["device_urls"], strict=True):
        lines.append(f"  Device      {url}  ({name})")
    lines += [
        f"  Dashboard   {info['dashboard_url']}",
        f"  Entities    {info['entities_url']}",
        f"  Energy      {info['url']}/energy",
        "",
        f"  History     {data['hours_imported']} hours of a real house in Sceaux "
        f"({data['source_start'][:10]} to {data['source_end'][:10]}), "
        f"ending at the current hour",
        "",
        "  Kilowise sensors:",
    ]
    answer = info["recommendation"]
    best = answer["best"]
    if answer["basis"] == "prices":
        value = f"cost {best['cost']} {answer['currency']}, saving {answer['saving']}"
    else:
        value = f"expected load {best['expected_load_kw']} kW"
    lines[-1:-1] = [
        f"  Dishwasher  recommended start {best['start']} ({value} against "
        f"starting at {answer['start_now']['start']}); cycle learned from the "
        "kitchen sub-meter",
        "",
    ]
    width = max((len(e["entity_id"]) for e in info["entities"]), default=10)
    for entity in info["entities"]:
        if entity["state"] is None:
            shown = "(disabled by default)"
        elif entity["state"] == "unknown":
            shown = "unknown (no forecast hour scored yet)"
        else:
            unit = f" {entity['unit']}" if entity.get("unit") else ""
            shown = f"{entity['state']}{unit}"
        lines.append(f"    {entity['entity_id']:<{width}}  {shown}")
    lines += [
        "",
        f"  Zone {info['zone']} (dry run: Kilowise logs what it would do, changes "
        "nothing):",
    ]
    lines += [f"    {e['entity_id']}: {e['message']}" for e in info["zone_log"]] or [
        "    (nothing to do yet)"
    ]
    lines.append(
        f"  Logbook     {info['url']}/logbook  (switch 'Living room motion "
        "(simulated)' in Helpers to walk in and out)"
    )
    print("\n".join(lines), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    prep = sub.add_parser("prepare", help="write a fresh configuration directory")
    prep.add_argument("--config", required=True)
    prep.add_argument("--repo", required=True)
    prep.add_argument("--data", required=True, help="household_power_hourly.csv")
    prep.add_argument("--host", default="127.0.0.1")
    prep.add_argument("--port", type=int, default=8123)
    prep.add_argument("--weeks", type=int, default=10)
    prep.add_argument("--copy-integration", action="store_true")

    prov = sub.add_parser("provision", help="onboard, import, create the entry")
    prov.add_argument("--config", required=True)
    prov.add_argument("--url", default="http://127.0.0.1:8123")
    prov.add_argument("--user", default="demo")
    prov.add_argument(
        "--password", default=os.environ.get("KILOWISE_DEMO_PASSWORD", "kilowise-demo")
    )
    prov.add_argument("--timeout", type=float, default=300)
    prov.add_argument("--forecast-timeout", type=float, default=90)
    prov.add_argument("--t0", type=float, default=0.0, help="start time (epoch s)")
    prov.add_argument(
        "--t-hass", type=float, default=0.0, help="launch of Home Assistant (epoch s)"
    )

    dash = sub.add_parser("dashboard", help="install docs/dashboard.yaml again")
    dash.add_argument("--url", default="http://127.0.0.1:8123")
    dash.add_argument("--user", default="demo")
    dash.add_argument(
        "--password", default=os.environ.get("KILOWISE_DEMO_PASSWORD", "kilowise-demo")
    )

    args = parser.parse_args(argv)
    try:
        if args.command == "prepare":
            return prepare(args)
        if args.command == "dashboard":
            return asyncio.run(reinstall_dashboard(args))
        return asyncio.run(provision(args))
    except DemoError as err:
        print(f"demo: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
