"""Translations: every key the code uses exists, in every language, well formed.

The keys are discovered, never listed here: from the code (``code_keys``),
from ``services.yaml`` and from the translation files themselves, so that a
new entity, exception, issue or action fails these tests until it is
translated into every language Kilowise ships. Flows, issues and exceptions
are also checked as they happen, in every test (``conftest.py``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
import json
import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util.yaml import load_yaml_dict
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .code_keys import code_uses
from .translation_files import (
    INTEGRATION,
    LANGUAGES_REQUIRED,
    all_flat,
    kw_translations,
    missing,
    placeholders,
    source,
    translation,
    translation_paths,
)

LANGUAGES = [path.stem for path in translation_paths()]
TRANSLATION_KEY = re.compile(r"^(?!.+[_-]{2})(?![_-])[a-z0-9-_]+(?<![_-])$")
SLUG = re.compile(r"^[a-z0-9_]+$")
HTML = re.compile(r"</?[a-z][a-z0-9]*(\s[^>]*)?/?>", re.IGNORECASE)
QUOTED_PLACEHOLDER = re.compile(r"'\{\w+\}'")
TOP_LEVEL = {
    "title",
    "config",
    "config_subentries",
    "options",
    "selector",
    "device_automation",
    "system_health",
    "config_panel",
    "application_credentials",
    "issues",
    "entity_component",
    "device",
    "entity",
    "exceptions",
    "services",
    "conversation",
    "common",
    "triggers",
    "conditions",
}
FLOW_KEYS = {
    "flow_title",
    "step",
    "error",
    "abort",
    "progress",
    "create_entry",
    "initiate_flow",
    "entry_type",
}
STEP_KEYS = {
    "title",
    "description",
    "data",
    "data_description",
    "menu_options",
    "submit",
    "sections",
}
SECTION_KEYS = {"name", "description", "data", "data_description"}


def test_required_languages_are_shipped() -> None:
    """English, German, French and Dutch, at least."""
    assert set(LANGUAGES_REQUIRED) <= set(LANGUAGES)


def test_english_is_strings_json_resolved() -> None:
    """``en.json`` is what ``scripts/translations`` writes from ``strings.json``."""
    expected = kw_translations.english()
    actual = (INTEGRATION / "translations" / "en.json").read_text(encoding="utf-8")
    assert actual == expected, "run scripts/translations after editing strings.json"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translation_has_exactly_the_keys_of_strings(language: str) -> None:
    """Same keys as ``strings.json``, each with the same placeholders."""
    english = source()
    other = translation(language)
    assert sorted(set(english) - set(other)) == [], f"{language}.json lacks keys"
    assert sorted(set(other) - set(english)) == [], f"{language}.json has extra keys"
    different = {
        key: (sorted(placeholders(english[key])), sorted(placeholders(other[key])))
        for key in english
        if placeholders(english[key]) != placeholders(other[key])
    }
    assert different == {}, f"{language}.json: placeholders differ (en, {language})"


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_translation_is_not_english(language: str) -> None:
    """A language file is translated, not English copied over.

    Short technical words (URL, MASE) may read the same; a tenth of the
    strings identical to English means a copy.
    """
    english = source()
    other = translation(language)
    same = sorted(key for key, text in other.items() if text == english[key])
    assert len(same) <= len(english) // 10, f"{language}.json copies English: {same}"


def test_every_key_used_in_code_is_translated() -> None:
    """Entities, exceptions, issues and selectors used in code exist everywhere."""
    uses, unresolved = code_uses()
    assert unresolved == [], "translation keys the tests cannot resolve"
    categories = Counter(use.category for use in uses)
    # The scan found what the integration is known to have (guards the scanner).
    assert categories["entity"]
    assert categories["exceptions"]
    assert categories["issues"]
    assert categories["unknown"] == 0, [u for u in uses if u.category == "unknown"]
    required = sorted({key for use in uses for key in use.required})
    assert missing(required) == []
    # An issue is explained by a description, or by the steps of its fix flow.
    english = source()
    for use in uses:
        if use.category == "issues":
            prefix = f"issues.{use.key}."
            assert f"{prefix}description" in english or any(
                key.startswith(f"{prefix}fix_flow.") for key in english
            ), f"{use.where}: issue {use.key} has neither description nor fix_flow"


def test_every_translated_key_is_used() -> None:
    """No dead strings: each entity, exception, issue and selector is used."""
    uses, _ = code_uses()
    used = {(use.category, use.key) for use in uses}
    services = load_yaml_dict(str(INTEGRATION / "services.yaml"))
    for service in services.values():
        for field in (service or {}).get("fields", {}).values():
            select = (field.get("selector") or {}).get("select") or {}
            if "translation_key" in select:
                used.add(("selector", select["translation_key"]))
    strings = kw_translations.load(INTEGRATION / "strings.json")
    unused = [
        f"{category}.{key}"
        for category in ("exceptions", "issues", "selector", "device")
        for key in strings.get(category, {})
        if (category, key) not in used
    ]
    unused += [
        f"entity.{platform}.{key}"
        for platform, keys in strings.get("entity", {}).items()
        for key in keys
        if ("entity", key) not in used
    ]
    assert unused == []


def test_actions_are_translated() -> None:
    """Each action in services.yaml, its fields and select options, everywhere."""
    services = load_yaml_dict(str(INTEGRATION / "services.yaml"))
    required: list[str] = []
    for service, schema in services.items():
        required += [f"services.{service}.name", f"services.{service}.description"]
        for field, spec in ((schema or {}).get("fields") or {}).items():
            required += [
                f"services.{service}.fields.{field}.name",
                f"services.{service}.fields.{field}.description",
            ]
            select = (spec.get("selector") or {}).get("select") or {}
            if key := select.get("translation_key"):
                required += [
                    f"selector.{key}.options.{option if isinstance(option, str) else option['value']}"
                    for option in select.get("options", [])
                ]
    assert required
    assert missing(required) == []


def _value_problems(text: str, where: str, *, source_file: bool) -> list[str]:
    problems = []
    if HTML.search(text):
        problems.append(f"{where}: HTML is not allowed")
    if QUOTED_PLACEHOLDER.search(text):
        problems.append(f"{where}: a placeholder in single quotes")
    if text != text.strip():
        problems.append(f"{where}: leading or trailing spaces")
    if not text:
        problems.append(f"{where}: empty")
    reference = kw_translations.REFERENCE.search(text)
    if reference and (not source_file or reference.group(0) != text):
        problems.append(
            f"{where}: a reference combined with text or outside strings.json"
        )
    return problems


def _flow_problems(flow: Mapping[str, Any], where: str) -> list[str]:
    problems = [f"{where}.{key}: unknown key" for key in flow if key not in FLOW_KEYS]
    for step_id, step in flow.get("step", {}).items():
        at = f"{where}.step.{step_id}"
        problems += [f"{at}.{key}: unknown key" for key in step if key not in STEP_KEYS]
        for key in step.get("data_description", {}):
            if key not in step.get("data", {}):
                problems.append(f"{at}.data_description.{key}: not in data")
        for name, part in step.get("sections", {}).items():
            where_section = f"{at}.sections.{name}"
            problems += [
                f"{where_section}.{key}: unknown key"
                for key in part
                if key not in SECTION_KEYS
            ]
            if "name" not in part:
                problems.append(f"{where_section}: no name")
            for key in part.get("data_description", {}):
                if key not in part.get("data", {}):
                    problems.append(
                        f"{where_section}.data_description.{key}: not in data"
                    )
    return problems


def _structure_problems(tree: Mapping[str, Any], name: str) -> list[str]:
    """Home Assistant's rules for a translation file (what hassfest checks)."""
    problems = [
        f"{name}: {key}: unknown top-level key" for key in tree if key not in TOP_LEVEL
    ]
    for section in ("config", "options"):
        if section in tree:
            problems += _flow_problems(tree[section], f"{name}: {section}")
    for subentry, flow in tree.get("config_subentries", {}).items():
        problems += _flow_problems(flow, f"{name}: config_subentries.{subentry}")
    for issue, spec in tree.get("issues", {}).items():
        at = f"{name}: issues.{issue}"
        if "title" not in spec:
            problems.append(f"{at}: no title")
        if ("description" in spec) == ("fix_flow" in spec):
            problems.append(f"{at}: needs a description or a fix_flow, not both")
        if "fix_flow" in spec:
            problems += _flow_problems(spec["fix_flow"], f"{at}.fix_flow")
    for platform, keys in tree.get("entity", {}).items():
        if not SLUG.match(platform):
            problems.append(f"{name}: entity.{platform}: not a platform")
        for key, spec in keys.items():
            keys_to_check = [
                key,
                *spec.get("state", {}),
                *spec.get("state_attributes", {}),
            ]
            for attribute in spec.get("state_attributes", {}).values():
                keys_to_check += list(attribute.get("state", {}))
            problems += [
                f"{name}: entity.{platform}.{key}: invalid translation key {bad!r}"
                for bad in keys_to_check
                if not TRANSLATION_KEY.match(bad)
            ]
    for key, spec in tree.get("exceptions", {}).items():
        if not SLUG.match(key) or set(spec) != {"message"}:
            problems.append(
                f"{name}: exceptions.{key}: needs a slug and a message only"
            )
    for service, spec in tree.get("services", {}).items():
        at = f"{name}: services.{service}"
        if not TRANSLATION_KEY.match(service):
            problems.append(f"{at}: invalid key")
        if not {"name", "description"} <= set(spec):
            problems.append(f"{at}: needs name and description")
        for field, field_spec in spec.get("fields", {}).items():
            if not TRANSLATION_KEY.match(field) or not {"name", "description"} <= set(
                field_spec
            ):
                problems.append(f"{at}.fields.{field}: needs a key, name, description")
    for selector, spec in tree.get("selector", {}).items():
        problems += [
            f"{name}: selector.{selector}.options.{option}: invalid key"
            for option in spec.get("options", {})
            if not TRANSLATION_KEY.match(option)
        ]
    return problems


@pytest.mark.parametrize(
    "name", ["strings.json", *(f"translations/{p.name}" for p in translation_paths())]
)
def test_translation_file_follows_home_assistant_rules(name: str) -> None:
    """Structure, keys and values as Home Assistant's hassfest requires them."""
    path = INTEGRATION / name
    tree = json.loads(path.read_text(encoding="utf-8"))
    problems = _structure_problems(tree, name)
    for key, text in kw_translations.flatten(tree).items():
        problems += _value_problems(
            text, f"{name}: {key}", source_file=name == "strings.json"
        )
    assert problems == []


def test_every_file_is_formatted() -> None:
    """Two-space JSON, UTF-8 as it is, a final newline: diffs stay readable."""
    for name in all_flat():
        path = INTEGRATION / name
        text = path.read_text(encoding="utf-8")
        assert text == kw_translations.dump(json.loads(text)), (
            f"{name} is not formatted"
        )


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
async def test_home_assistant_names_entities_in_the_language(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    source_statistics: None,
    language: str,
) -> None:
    """With Home Assistant set to a language, the sensors carry its names."""
    await hass.config.async_update(language=language)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    strings = translation(language)
    registry = er.async_get(hass)
    entries = er.async_entries_for_config_entry(registry, mock_config_entry.entry_id)
    assert entries
    for entry in entries:
        if entry.disabled_by is not None:
            continue
        name = hass.states.get(entry.entity_id).attributes["friendly_name"]
        template = strings[f"entity.{entry.domain}.{entry.translation_key}.name"]
        # The name's placeholders ({hours}, {days}) are filled in.
        assert "{" not in name, name
        fixed = re.split(r"\{\w+\}", template)
        assert name.startswith(f"{mock_config_entry.title} {fixed[0]}"), name
        assert all(part in name for part in fixed), (name, template)
