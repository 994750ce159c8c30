"""Kilowise's translation files as the tests read them.

``strings.json`` (references resolved) is the source; every file under
``translations/`` must have exactly its keys, with the same placeholders.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
import sys

from custom_components.kilowise.const import BUNDLED_MODEL

INTEGRATION = BUNDLED_MODEL.parent.parent
REPO = INTEGRATION.parent.parent
sys.path.insert(0, str(REPO / "scripts" / "lib"))

import kw_translations  # noqa: E402

LANGUAGES_REQUIRED = ("en", "de", "fr", "nl")


def translation_paths() -> list[Path]:
    """Every translation file shipped, English first."""
    paths = sorted((INTEGRATION / "translations").glob("*.json"))
    return sorted(paths, key=lambda path: path.stem != "en")


@cache
def source() -> dict[str, str]:
    """``strings.json``, references resolved, flattened to dotted keys."""
    return kw_translations.flatten(
        kw_translations.resolve(kw_translations.load(INTEGRATION / "strings.json"))
    )


@cache
def translation(language: str) -> dict[str, str]:
    """One translation file, flattened to dotted keys."""
    return kw_translations.flatten(
        kw_translations.load(INTEGRATION / "translations" / f"{language}.json")
    )


def all_flat() -> dict[str, dict[str, str]]:
    """``strings.json`` and every translation file, by name."""
    files = {"strings.json": source()}
    for path in translation_paths():
        files[f"translations/{path.name}"] = translation(path.stem)
    return files


def missing(required: tuple[str, ...] | list[str]) -> list[str]:
    """``file: key`` for every required key some file lacks."""
    return [
        f"{name}: {key}"
        for name, flat in all_flat().items()
        for key in required
        if key not in flat
    ]


placeholders = kw_translations.placeholders
