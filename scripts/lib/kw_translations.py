"""Kilowise's translation files: references resolved, keys and placeholders read.

``strings.json`` is the source, as in Home Assistant's core integrations: a
string may be a whole-value reference to another one,
``[%key:component::kilowise::config::step::user::data::source_entity%]`` or
``[%key:common::config_flow::abort::already_configured_device%]``. Home
Assistant resolves references only when it builds its own translations, and a
custom integration ships ``translations/en.json`` as it is loaded, so
``en.json`` is ``strings.json`` with every reference replaced by its text
(what ``python -m script.translations develop`` writes in Home Assistant's
repository). ``scripts/translations`` writes it; the tests check it.

Pure standard library: used by that script and by the tests.
"""

from __future__ import annotations

from collections.abc import Mapping
import json
from pathlib import Path
import re
import string
from typing import Any

DOMAIN = "kilowise"
INTEGRATION = Path(__file__).resolve().parents[2] / "custom_components" / DOMAIN
STRINGS = INTEGRATION / "strings.json"
TRANSLATIONS = INTEGRATION / "translations"

REFERENCE = re.compile(r"\[%key:([^%\]]+)%\]")


class TranslationError(Exception):
    """A reference that cannot be resolved, or a malformed file."""


def load(path: Path) -> dict[str, Any]:
    """A translation file as a nested dict."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise TranslationError(f"{path.name} is not a JSON object")
    return data


def dump(data: Mapping[str, Any]) -> str:
    """The text of a translation file: two-space indent, UTF-8, final newline."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """``{"a": {"b": "x"}}`` as ``{"a.b": "x"}``."""
    flat: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{path}."))
        elif isinstance(value, str):
            flat[path] = value
        else:
            raise TranslationError(f"{path} is neither a string nor an object")
    return flat


def placeholders(text: str) -> set[str]:
    """Names of the ``{placeholders}`` in a translated string."""
    return {
        name for _, name, _, _ in string.Formatter().parse(text) if name is not None
    }


def common_strings() -> dict[str, Any]:
    """Home Assistant's own ``common`` strings, from the installed package."""
    try:
        import homeassistant  # noqa: PLC0415 - optional: only for common:: references
    except ImportError as err:
        raise TranslationError(
            "a common:: reference needs Home Assistant installed to resolve it"
        ) from err
    return load(Path(homeassistant.__file__).parent / "strings.json")


def resolve(strings: Mapping[str, Any], domain: str = DOMAIN) -> dict[str, Any]:
    """``strings`` with every reference replaced by the text it names.

    A reference must be the whole value (Home Assistant refuses strings that
    combine a reference with other text) and may lead to another reference.
    """
    roots: dict[str, Any] = {"component": {domain: strings}}
    common: dict[str, Any] | None = None

    def lookup(path: str, seen: tuple[str, ...]) -> str:
        nonlocal common
        if path in seen:
            raise TranslationError(f"reference loop: {' -> '.join((*seen, path))}")
        parts = path.split("::")
        if parts[0] == "common" and "common" not in roots:
            common = common_strings()
            roots["common"] = common["common"]
        node: Any = roots
        for part in parts:
            if not isinstance(node, Mapping) or part not in node:
                raise TranslationError(f"[%key:{path}%] names no string")
            node = node[part]
        if not isinstance(node, str):
            raise TranslationError(f"[%key:{path}%] names an object, not a string")
        return text(node, (*seen, path))

    def text(value: str, seen: tuple[str, ...]) -> str:
        match = REFERENCE.search(value)
        if match is None:
            return value
        if match.group(0) != value:
            raise TranslationError(
                f"{value!r}: a reference must be the whole string, not part of it"
            )
        return lookup(match.group(1), seen)

    def walk(tree: Mapping[str, Any]) -> dict[str, Any]:
        return {
            key: walk(value) if isinstance(value, Mapping) else text(value, ())
            for key, value in tree.items()
        }

    return walk(strings)


def english(strings_path: Path = STRINGS) -> str:
    """The text ``translations/en.json`` must have."""
    return dump(resolve(load(strings_path)))
