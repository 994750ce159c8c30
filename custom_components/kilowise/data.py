"""Run-time data of a Kilowise config entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry

from .engine import Artifact

if TYPE_CHECKING:
    from .control import KilowiseControl
    from .coordinator import KilowiseCoordinator
    from .learning import KilowiseLearning
    from .model_manager import KilowiseModels
    from .recommendations import KilowiseRecommendations

type KilowiseConfigEntry = ConfigEntry[KilowiseData]


@dataclass(slots=True)
class KilowiseData:
    """What a loaded entry needs: the verified model and the coordinator.

    ``models`` knows which model is in use, where it came from and the one
    before it; it swaps ``artifact`` (here and in the coordinator) when a
    model is loaded or rolled back.
    ``learning`` holds what was learned about the home: its calibration and
    the live accuracy of the forecasts.
    """

    artifact: Artifact
    coordinator: KilowiseCoordinator
    models: KilowiseModels
    learning: KilowiseLearning
    recommendations: KilowiseRecommendations | None = None
    """Best times to run appliances, peaks and costs (set once the entry is up)."""
    control: KilowiseControl | None = None
    """Occupancy-aware control of the entry's zones (its zone subentries)."""
    device_id: str | None = None
    """The entry's service device, which the subentries' devices hang under."""
