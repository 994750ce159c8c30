"""Constants of the Kilowise integration."""

from __future__ import annotations

from pathlib import Path
from typing import Final

DOMAIN: Final = "kilowise"

CONF_SOURCE_ENTITY: Final = "source_entity"

BUNDLED_MODEL: Final = Path(__file__).parent / "models" / "kilowise_global.json"
