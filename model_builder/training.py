"""Training rows from hourly series, and the global quantile model fitted on them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.ensemble import HistGradientBoostingRegressor
from tqdm import tqdm

from .engine import features
from .series import HomeSeries

FloatArray = npt.NDArray[np.float64]

QUANTILES = (0.1, 0.5, 0.9)

MODEL_PARAMS: dict[str, object] = {
    "max_iter": 80,
    "learning_rate": 0.12,
    "max_leaf_nodes": 15,
    "max_depth": 5,
    "min_samples_leaf": 200,
    "l2_regularization": 1.0,
    "early_stopping": False,
    "random_state": 0,
}

SHORT_HISTORIES = (48, 96, 168, 336, 504)
"""History lengths (hours) shown for a share of origins, like a new install."""


@dataclass(frozen=True)
class TrainingSet:
    """Feature rows, targets relative to the level, and per-row weights."""

    features: npt.NDArray[np.float64]
    target: npt.NDArray[np.float64]
    weight: npt.NDArray[np.float64]
    rows_per_home: dict[str, int]


def home_rows(
    home: HomeSeries,
    origins: npt.NDArray[np.int64],
    horizons: Iterable[int],
    history_start: npt.NDArray[np.int64] | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray, npt.NDArray[np.int64]]:
    """Feature rows for every origin and horizon of one home.

    Returns ``(features, level, target_kwh, target_index)`` for the rows that
    are usable and whose target hour exists in the series (it may be NaN).
    """
    horizon = np.asarray(list(horizons), dtype=np.int64)
    o = np.repeat(origins, len(horizon))
    h = np.tile(horizon, len(origins))
    t = o + h - 1
    inside = t < len(home.values)
    o, h, t = o[inside], h[inside], t[inside]
    starts = (
        None
        if history_start is None
        else np.repeat(history_start, len(horizon))[inside]
    )
    hour_of_day, weekday = features.local_calendar(
        home.start, len(home.values), home.tz
    )
    rows = features.feature_rows(
        home.values, o, h, hour_of_day[t], weekday[t], history_start=starts
    )
    keep = rows.usable
    target_kwh: FloatArray = home.values[t[keep]]
    return rows.matrix[keep], rows.level[keep], target_kwh, t[keep]


def build_training_set(
    homes: Sequence[HomeSeries],
    stride: int = 3,
    seed: int = 0,
    home_weights: Mapping[str, float] | None = None,
) -> TrainingSet:
    """Rows from every ``stride``-th hour of each home, all 48 horizons.

    A third of the origins see only a short history, so the model learns to
    forecast for a home that has just installed Kilowise. Each home gets the
    same total weight, so a long record does not drown a short one; a home
    named in ``home_weights`` counts that many times (fine-tuning for it).
    """
    rng = np.random.default_rng(seed)
    rows, targets, weights = [], [], []
    counts: dict[str, int] = {}
    for home in homes:
        origins = np.arange(168, len(home.values), stride, dtype=np.int64)
        short = rng.random(len(origins)) < 1 / 3
        lengths = rng.choice(SHORT_HISTORIES, size=len(origins))
        history_start = np.where(
            short, origins - lengths, origins - features.HISTORY_HOURS
        )
        x, level, y, _ = home_rows(
            home, origins, range(1, features.MAX_HORIZON + 1), history_start
        )
        known = ~np.isnan(y)
        rows.append(x[known])
        targets.append(y[known] / level[known])
        counts[home.name] = int(np.count_nonzero(known))
    total = sum(counts.values())
    share = {home.name: (home_weights or {}).get(home.name, 1.0) for home in homes}
    shares = sum(share.values())
    for home in homes:
        weights.append(
            np.full(
                counts[home.name],
                total * share[home.name] / (shares * counts[home.name]),
            )
        )
    return TrainingSet(
        features=np.concatenate(rows),
        target=np.concatenate(targets),
        weight=np.concatenate(weights),
        rows_per_home=counts,
    )


def fit_quantile_models(
    training: TrainingSet,
    quantiles: Sequence[float] = QUANTILES,
    params: Mapping[str, object] = MODEL_PARAMS,
    progress: bool = True,
) -> list[HistGradientBoostingRegressor]:
    """Fit one gradient-boosted regressor per quantile on the training rows."""
    models = []
    for quantile in tqdm(quantiles, desc="fitting quantiles", disable=not progress):
        model = HistGradientBoostingRegressor(
            loss="quantile", quantile=quantile, **params
        )
        model.fit(training.features, training.target, sample_weight=training.weight)
        models.append(model)
    return models


def predict_raw(
    models: Sequence[HistGradientBoostingRegressor], features: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """scikit-learn's own predictions, one column per quantile."""
    return np.column_stack([model.predict(features) for model in models])
