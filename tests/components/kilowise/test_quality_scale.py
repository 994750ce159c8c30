"""quality_scale.yaml: complete, well formed, and true where code can show it.

The rule list is Home Assistant's (``script/hassfest/quality_scale.py``, 2026.x):
hassfest refuses a file that lacks a rule or names one that does not exist.
For a rule marked done that code can show, a check below shows it, the way
hassfest's own rule validators do for core integrations.
"""

from __future__ import annotations

from collections.abc import Callable
import importlib
import inspect
import re
import tomllib

from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml_dict
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.kilowise as integration
from custom_components.kilowise.const import DOMAIN

from .control_helpers import async_add_zone, async_setup_home
from .translation_files import INTEGRATION, REPO

RULES = {
    "bronze": [
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow",
        "config-flow-test-coverage",
        "dependency-transparency",
        "docs-actions",
        "docs-conditions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "docs-triggers",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ],
    "silver": [
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ],
    "gold": [
        "devices",
        "diagnostics",
        "discovery",
        "discovery-update-info",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ],
    "platinum": ["async-dependency", "inject-websession", "strict-typing"],
}
ALL_RULES = [rule for rules in RULES.values() for rule in rules]
SCALE = load_yaml_dict(str(INTEGRATION / "quality_scale.yaml"))["rules"]


def _status(rule: str) -> str:
    value = SCALE[rule]
    return value if isinstance(value, str) else value["status"]


def test_every_rule_is_listed_once() -> None:
    """Exactly Home Assistant's rules, in any order."""
    assert sorted(SCALE) == sorted(ALL_RULES)


@pytest.mark.parametrize("rule", ALL_RULES)
def test_rule_is_decided_with_a_reason(rule: str) -> None:
    """Done or exempt (todo only with the reason), each with a one-line comment."""
    value = SCALE[rule]
    assert isinstance(value, dict), f"{rule}: give a status and a comment"
    assert set(value) == {"status", "comment"}
    assert value["status"] in {"done", "exempt", "todo"}
    comment = value["comment"]
    assert isinstance(comment, str)
    assert comment.strip()
    assert "\n" not in comment.strip()
    if rule in RULES["bronze"] + RULES["silver"] + RULES["gold"]:
        assert value["status"] != "todo", f"{rule} is not decided"


def _platform_modules() -> list[object]:
    return [
        importlib.import_module(f"{integration.__name__}.{platform.value}")
        for platform in integration.PLATFORMS
    ]


def _parallel_updates() -> None:
    for module in _platform_modules():
        assert isinstance(getattr(module, "PARALLEL_UPDATES", None), int), module


def _runtime_data() -> None:
    source = inspect.getsource(integration.async_setup_entry)
    assert "entry.runtime_data = " in source


def _config_entry_unloading() -> None:
    assert inspect.iscoroutinefunction(integration.async_unload_entry)


def _subentry_flows() -> dict[str, type]:
    flow = importlib.import_module(f"{integration.__name__}.config_flow")
    entry = MockConfigEntry(domain=DOMAIN)
    flows: dict[str, type] = flow.KilowiseConfigFlow.async_get_supported_subentry_types(
        entry
    )
    return flows


def _reconfiguration_flow() -> None:
    flow = importlib.import_module(f"{integration.__name__}.config_flow")
    assert hasattr(flow.KilowiseConfigFlow, "async_step_reconfigure")
    for subentry_flow in _subentry_flows().values():
        assert hasattr(subentry_flow, "async_step_reconfigure"), subentry_flow


def _dynamic_devices() -> None:
    # Appliances come as subentries, added at run time through their flow.
    assert _subentry_flows()
    for subentry_flow in _subentry_flows().values():
        assert hasattr(subentry_flow, "async_step_user"), subentry_flow


def _diagnostics() -> None:
    module = importlib.import_module(f"{integration.__name__}.diagnostics")
    assert inspect.iscoroutinefunction(module.async_get_config_entry_diagnostics)
    assert module.TO_REDACT


def _stale_devices() -> None:
    assert inspect.iscoroutinefunction(integration.async_remove_config_entry_device)


def _repair_issues() -> None:
    module = importlib.import_module(f"{integration.__name__}.repairs")
    assert inspect.iscoroutinefunction(module.async_create_fix_flow)


def _unique_config_entry() -> None:
    flow = importlib.import_module(f"{integration.__name__}.config_flow")
    assert "async_set_unique_id" in inspect.getsource(flow.KilowiseConfigFlow)


def _has_entity_name() -> None:
    entity = importlib.import_module(f"{integration.__name__}.entity")
    recommendation = importlib.import_module(
        f"{integration.__name__}.recommendation_entity"
    )
    zone = importlib.import_module(f"{integration.__name__}.zone_entity")
    # (Home Assistant turns _attr_ values into properties: read the class body.)
    for base in (
        entity.KilowiseEntity,
        recommendation.KilowiseRecommendationEntity,
        zone.KilowiseZoneEntity,
    ):
        assert "_attr_has_entity_name = True" in inspect.getsource(base)


def _brands() -> None:
    assert (INTEGRATION / "brand" / "icon.png").is_file()


def _strict_typing() -> None:
    settings = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert settings["tool"]["mypy"]["strict"] is True
    script = (REPO / "scripts" / "test").read_text(encoding="utf-8")
    assert re.search(r"for d in custom_components/kilowise ", script)
    assert "mypy" in script


def _inject_websession() -> None:
    sources = "".join(path.read_text() for path in INTEGRATION.glob("*.py"))
    assert "async_get_clientsession" in sources
    assert "aiohttp.ClientSession(" not in sources


CODE_CHECKS: dict[str, Callable[[], None]] = {
    "brands": _brands,
    "config-entry-unloading": _config_entry_unloading,
    "diagnostics": _diagnostics,
    "dynamic-devices": _dynamic_devices,
    "has-entity-name": _has_entity_name,
    "inject-websession": _inject_websession,
    "parallel-updates": _parallel_updates,
    "reconfiguration-flow": _reconfiguration_flow,
    "repair-issues": _repair_issues,
    "runtime-data": _runtime_data,
    "stale-devices": _stale_devices,
    "strict-typing": _strict_typing,
    "unique-config-entry": _unique_config_entry,
}


@pytest.mark.parametrize("rule", sorted(CODE_CHECKS))
def test_done_rule_holds(rule: str) -> None:
    """A rule marked done is true of the code."""
    if _status(rule) == "done":
        CODE_CHECKS[rule]()


async def test_actions_exist_without_entries(hass: HomeAssistant) -> None:
    """action-setup: the actions are there before any entry is set up."""
    assert _status("action-setup") == "done"
    assert await async_setup_component(hass, DOMAIN, {})
    assert hass.services.async_services_for_domain(DOMAIN)


async def test_entities_follow_the_rules(
    hass: HomeAssistant, priced_entry: MockConfigEntry
) -> None:
    """Unique ids from the entry, names from translations, noisy ones disabled.

    The entry has prices, appliances and a zone, so that every kind of entity
    is there.
    """
    await async_setup_home(hass)
    await async_add_zone(hass, priced_entry)
    entries = er.async_entries_for_config_entry(
        er.async_get(hass), priced_entry.entry_id
    )
    assert {entry.domain for entry in entries} == {"sensor", "binary_sensor", "switch"}
    # The master switches configure Kilowise; they drive nothing themselves.
    switches = [entry for entry in entries if entry.domain == "switch"]
    assert len(switches) == 2
    assert {entry.entity_category for entry in switches} == {EntityCategory.CONFIG}
    assert {entry.config_subentry_id for entry in entries} == {
        None,
        *priced_entry.subentries,
    }
    for entry in entries:
        prefix = f"{priced_entry.entry_id}_"
        if entry.config_subentry_id is not None:
            prefix += f"{entry.config_subentry_id}_"
        assert entry.unique_id.startswith(prefix)
        assert entry.translation_key is not None
        assert entry.has_entity_name
        assert entry.original_icon is None  # icons come from icons.json
    assert any(
        entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION for entry in entries
    )
    assert any(entry.entity_category is not None for entry in entries)
