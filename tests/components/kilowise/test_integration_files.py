"""The integration's files as hassfest and the HACS action check them.

Home Assistant's ``hassfest`` lives in its source repository (``script/``) and
is not part of the installed ``homeassistant`` package, and the HACS action is
an integration of its own: neither can run here. These tests apply their
rules (as of Home Assistant 2026.11 and HACS 2.x) to ``manifest.json``,
``hacs.json``, ``services.yaml``, ``icons.json`` and the ``brand/`` folder,
and where Home Assistant itself reads a file at run time (the manifest, the
services, the selectors), they let the installed Home Assistant read it.
"""

from __future__ import annotations

import importlib
import json
import re

from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    config_validation as cv,
    selector,
    service as service_helper,
)
from homeassistant.loader import async_get_custom_components, async_get_integration
from homeassistant.util.yaml import load_yaml_dict
from packaging.requirements import Requirement
from PIL import Image
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.kilowise.const import DOMAIN

from .translation_files import INTEGRATION, REPO, source

MANIFEST = json.loads((INTEGRATION / "manifest.json").read_text(encoding="utf-8"))
HACS = json.loads((REPO / "hacs.json").read_text(encoding="utf-8"))
SERVICES = load_yaml_dict(str(INTEGRATION / "services.yaml"))
ICONS = json.loads((INTEGRATION / "icons.json").read_text(encoding="utf-8"))

# hassfest's manifest schema for custom integrations: every key it knows.
MANIFEST_KEYS = {
    "domain",
    "name",
    "integration_type",
    "config_flow",
    "mqtt",
    "zeroconf",
    "ssdp",
    "bluetooth",
    "homekit",
    "dhcp",
    "usb",
    "documentation",
    "issue_tracker",
    "quality_scale",
    "requirements",
    "dependencies",
    "after_dependencies",
    "codeowners",
    "loggers",
    "disabled",
    "iot_class",
    "single_config_entry",
    "version",
    "import_executor",
}
IOT_CLASSES = {
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
}
INTEGRATION_TYPES = {
    "device",
    "entity",
    "hardware",
    "helper",
    "hub",
    "service",
    "system",
}
# HACS's hacs.json schema (extra keys are refused).
HACS_KEYS = {
    "content_in_root",
    "country",
    "filename",
    "hacs",
    "hide_default_branch",
    "homeassistant",
    "persistent_directory",
    "render_readme",
    "zip_release",
    "name",
}
# hassfest's pattern of a requirement: name, comparison, version, no spaces.
REQUIREMENT = re.compile(
    r"^(?:--.+\s)?([-_,\.\w\d\[\]]+)(==|>=|<=|~=|!=|<|>|===)*(.*)$"
)
FIELD_KEYS = {
    "example",
    "default",
    "required",
    "advanced",
    "selector",
    "filter",
    "name",
    "description",
}
ICON = re.compile(r"^mdi:[a-z0-9]+(-[a-z0-9]+)*$")


# --- manifest.json -------------------------------------------------------------


def test_manifest_keys_and_order() -> None:
    """Known keys only; domain, name, then alphabetical (hassfest sorts them)."""
    keys = list(MANIFEST)
    assert set(keys) <= MANIFEST_KEYS, set(keys) - MANIFEST_KEYS
    expected = sorted(keys, key=lambda key: {"domain": "0", "name": "1"}.get(key, key))
    assert keys == expected
    # What HACS requires, and what hassfest requires of a custom integration.
    for key in ("domain", "name", "codeowners", "documentation", "issue_tracker"):
        assert MANIFEST.get(key), key
    assert MANIFEST.get("version"), "custom integrations need a version"


def test_manifest_values() -> None:
    """Domain, version, IoT class, integration type, owners, URLs."""
    assert MANIFEST["domain"] == DOMAIN == INTEGRATION.name
    AwesomeVersion(
        MANIFEST["version"],
        ensure_strategy=[
            AwesomeVersionStrategy.CALVER,
            AwesomeVersionStrategy.SEMVER,
            AwesomeVersionStrategy.SIMPLEVER,
            AwesomeVersionStrategy.BUILDVER,
            AwesomeVersionStrategy.PEP440,
        ],
    )
    assert MANIFEST["iot_class"] in IOT_CLASSES
    assert MANIFEST["integration_type"] in INTEGRATION_TYPES
    assert MANIFEST["config_flow"] is True
    assert (INTEGRATION / "config_flow.py").is_file()
    assert all(
        re.fullmatch(r"@[\w-]+(/[\w-]+)?", owner) for owner in MANIFEST["codeowners"]
    )
    for key in ("documentation", "issue_tracker"):
        assert vol.Url()(MANIFEST[key]).startswith("https://")
    for key in ("dependencies", "after_dependencies"):
        for dependency in MANIFEST.get(key, []):
            importlib.import_module(f"homeassistant.components.{dependency}")


def test_manifest_requirements() -> None:
    """hassfest's format, parseable, and met by Home Assistant's own pins.

    Kilowise needs numpy only, which Home Assistant already installs: the
    requirement must accept the numpy of every supported release, or Home
    Assistant would try to install another one.
    """
    requirements = MANIFEST.get("requirements", [])
    for text in requirements:
        assert " " not in text, text
        assert REQUIREMENT.match(text), text
        requirement = Requirement(text)
        module = importlib.import_module(requirement.name.replace("-", "_"))
        assert requirement.specifier.contains(module.__version__), (
            f"{text} refuses the installed {module.__version__}"
        )
    assert [Requirement(text).name for text in requirements] == ["numpy"]


async def test_home_assistant_loads_the_manifest(hass: HomeAssistant) -> None:
    """Home Assistant's loader accepts the integration as a custom one."""
    custom = await async_get_custom_components(hass)
    assert DOMAIN in custom
    integration = await async_get_integration(hass, DOMAIN)
    assert str(integration.version) == MANIFEST["version"]
    assert integration.config_flow
    assert integration.integration_type == MANIFEST["integration_type"]
    assert integration.file_path == INTEGRATION


def test_config_schema_with_async_setup() -> None:
    """An integration set up from the UI with an async_setup has a CONFIG_SCHEMA."""
    module = importlib.import_module(f"custom_components.{DOMAIN}")
    assert hasattr(module, "async_setup")
    assert module.CONFIG_SCHEMA({}) == {}


# --- hacs.json and the repository layout ---------------------------------------


def test_hacs_json() -> None:
    """HACS's schema, and a minimum Home Assistant the tests cover."""
    assert set(HACS) <= HACS_KEYS, set(HACS) - HACS_KEYS
    assert isinstance(HACS["name"], str)
    assert HACS["name"] == MANIFEST["name"]
    for key in (
        "render_readme",
        "zip_release",
        "content_in_root",
        "hide_default_branch",
    ):
        if key in HACS:
            assert isinstance(HACS[key], bool), key
    assert not HACS.get("zip_release") or HACS.get("filename")
    minimum = AwesomeVersion(HACS["homeassistant"])
    assert minimum.strategy != AwesomeVersionStrategy.UNKNOWN
    # The oldest release the tests run on is the minimum that is promised.
    assert minimum <= AwesomeVersion(HA_VERSION)
    assert minimum.section(0) == 2025
    assert minimum.section(1) == 4


def test_repository_layout() -> None:
    """HACS installs the one folder under custom_components; the README is shown."""
    folders = [
        path.name
        for path in (REPO / "custom_components").iterdir()
        if path.is_dir() and not path.name.startswith((".", "__"))
    ]
    assert folders == [DOMAIN]
    assert (REPO / "README.md").is_file()
    assert (REPO / "LICENSE").is_file()


# --- services.yaml -------------------------------------------------------------


def test_services_yaml_schema() -> None:
    """Home Assistant's own reading of services.yaml, then hassfest's rules."""
    schema = getattr(service_helper, "_SERVICES_SCHEMA", None)
    if schema is not None:
        schema(SERVICES)
    assert SERVICES
    for name, service in SERVICES.items():
        assert cv.slug(name) == name
        assert set(service) <= {"fields", "target", "name", "description"}
        for field, spec in service.get("fields", {}).items():
            assert set(spec) <= FIELD_KEYS, (name, field, set(spec) - FIELD_KEYS)
            # Every field has a selector the UI can render, and a valid one.
            assert "selector" in spec, (name, field)
            selector.validate_selector(spec["selector"])
            if "required" in spec:
                assert isinstance(spec["required"], bool)


async def test_services_match_registered_actions(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """services.yaml, the registered actions, icons.json and strings.json agree."""
    registered = hass.services.async_services_for_domain(DOMAIN)
    assert set(registered) == set(SERVICES)
    assert set(ICONS.get("services", {})) == set(SERVICES)
    strings = {key.split(".")[1] for key in source() if key.startswith("services.")}
    assert strings == set(SERVICES)
    for name, service in registered.items():
        schema = service.schema
        assert schema is not None, name
        keys = {str(key): key for key in schema.schema}
        fields = SERVICES[name].get("fields", {})
        assert set(keys) == set(fields), name
        for field, spec in fields.items():
            required = isinstance(keys[field], vol.Required)
            assert spec.get("required", False) == required, (name, field)
            default = keys[field].default
            if default is not vol.UNDEFINED:
                assert spec.get("default") == default(), (name, field)


# --- icons.json ----------------------------------------------------------------


def _icon_problems() -> list[str]:
    problems = []
    allowed = {"config", "issues", "options", "services", "entity"}
    problems += [
        f"{key}: not a key of icons.json" for key in ICONS if key not in allowed
    ]
    for platform, keys in ICONS.get("entity", {}).items():
        for key, spec in keys.items():
            at = f"entity.{platform}.{key}"
            if set(spec) - {"default", "state", "state_attributes", "range"}:
                problems.append(f"{at}: unknown keys {set(spec)}")
            icons = [spec.get("default"), *spec.get("state", {}).values()]
            problems += [
                f"{at}: {icon!r} is not mdi:..."
                for icon in icons
                if icon and not ICON.match(icon)
            ]
            for state, icon in spec.get("state", {}).items():
                if icon == spec.get("default"):
                    problems.append(f"{at}.state.{state}: same as the default")
    for service, spec in ICONS.get("services", {}).items():
        icon = spec if isinstance(spec, str) else spec.get("service")
        if not isinstance(icon, str) or not ICON.match(icon):
            problems.append(f"services.{service}: {icon!r} is not mdi:...")
    return problems


def test_icons_json() -> None:
    """hassfest's icon rules, and an icon for every entity and state translated."""
    assert _icon_problems() == []
    english = source()
    entity_keys = {
        tuple(key.split(".")[1:3]) for key in english if key.startswith("entity.")
    }
    icon_keys = {
        (platform, key)
        for platform, keys in ICONS.get("entity", {}).items()
        for key in keys
    }
    assert sorted(icon_keys - entity_keys) == [], "icons for entities that do not exist"
    assert sorted(entity_keys - icon_keys) == [], "entities without an icon"
    for platform, keys in ICONS.get("entity", {}).items():
        for key, spec in keys.items():
            for state in spec.get("state", {}):
                if platform in ("binary_sensor", "switch"):
                    # A binary sensor's and a switch's states are on and off,
                    # translated by Home Assistant itself: an icon per state
                    # needs no string.
                    assert state in ("on", "off"), f"{platform}.{key}: {state}"
                else:
                    assert f"entity.{platform}.{key}.state.{state}" in english


# --- brand/ --------------------------------------------------------------------

BRAND_SIZES = {
    "icon.png": (256, 256),
    "icon@2x.png": (512, 512),
    "dark_icon.png": (256, 256),
    "dark_icon@2x.png": (512, 512),
}


@pytest.mark.parametrize("name", ["icon.png", "icon@2x.png"])
def test_brand_icon(name: str) -> None:
    """PNG, square 256 (512 at 2x), RGBA, sRGB, trimmed (what the brands rules ask)."""
    path = INTEGRATION / "brand" / name
    assert path.is_file(), f"custom_components/{DOMAIN}/brand/{name} is missing"
    with Image.open(path) as image:
        image.load()
        assert image.format == "PNG"
        assert image.size == BRAND_SIZES[name]
        assert image.mode == "RGBA"
        assert "srgb" in image.info or "icc_profile" in image.info
        alpha = image.getchannel("A")
        box = alpha.getbbox()
        assert box is not None
        left, top, right, bottom = box
        width, height = image.size
        # Trimmed: the artwork reaches (nearly) every edge.
        assert left <= width * 0.03
        assert top <= height * 0.03
        assert right >= width * 0.97
        assert bottom >= height * 0.97
        # Transparent outside the rounded tile.
        assert alpha.getpixel((0, 0)) == 0
    assert path.stat().st_size < 64 * 1024


def test_brand_folder_holds_only_brand_images() -> None:
    """Only the file names Home Assistant serves from brand/, at their sizes."""
    names = {path.name for path in (INTEGRATION / "brand").iterdir()}
    allowed = set(BRAND_SIZES) | {
        "logo.png",
        "logo@2x.png",
        "dark_logo.png",
        "dark_logo@2x.png",
    }
    assert names <= allowed
    for name in names & set(BRAND_SIZES):
        with Image.open(INTEGRATION / "brand" / name) as image:
            assert image.size == BRAND_SIZES[name]
