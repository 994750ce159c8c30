"""The adaptation replay behind the README's table, on the real homes."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from model_builder.adaptation import (
    Totals,
    calibrated,
    held_out_start,
    simulate_install,
    simulate_weekly,
)
from model_builder.engine import BUNDLED_MODEL, adaptation, artifact
from model_builder.evaluation import walk_forward
from model_builder.series import HomeSeries


@pytest.fixture(scope="module")
def model() -> artifact.Artifact:
    return artifact.read_artifact(BUNDLED_MODEL)


def _sources(model: artifact.Artifact) -> dict[str, dict[str, object]]:
    return {s["name"]: s for s in model.manifest["training"]["sources"]}


def test_held_out_start_is_where_training_stopped(
    model: artifact.Artifact, homes: dict[str, HomeSeries]
) -> None:
    """Training homes start their replay where the model's training ended;
    a home never trained on starts at its beginning."""
    sources = _sources(model)
    sceaux = held_out_start(homes["sceaux"], sources)
    assert sceaux.isoformat() == sources["sceaux"]["trained_until"]
    assert held_out_start(homes["belgium"], sources) == homes["belgium"].start


def test_install_is_scored_like_the_bundled_model(
    model: artifact.Artifact, homes: dict[str, HomeSeries]
) -> None:
    """After four weeks of the Belgian house, the next four weeks are scored
    with walk_forward, with the calibration only when adapt kept it."""
    home = homes["belgium"]
    predict = model.ensemble.predict
    run = simulate_install(home, predict, home.start, weeks=4)
    assert run is not None
    result = run.result
    now = int((result.check_end - home.start) / timedelta(hours=1))
    stop = now + 4 * 168
    direct = walk_forward(home.head(stop), predict, result.check_end)
    assert run.bundled.hours == direct.hours_scored
    assert run.bundled.mase == pytest.approx(direct.model.mase_weekly)
    in_use = walk_forward(
        home.head(stop), calibrated(predict, result.calibration), result.check_end
    )
    assert run.adapted.mase == pytest.approx(in_use.model.mase_weekly)
    # The fit never reaches into the check week, nor before the install.
    assert result.fit_start is not None
    assert result.check_start is not None
    assert home.start <= result.fit_start < result.check_start
    assert result.check_end - result.check_start == timedelta(days=7)


def test_totals_pool_hours() -> None:
    """Pooled MASE is the ratio of summed errors, not a mean of ratios."""

    class _Score:
        def __init__(self, mae: float) -> None:
            self.mae_kwh = mae

    class _Evaluation:
        def __init__(self, hours: int, mae: float, naive: float, cover: float) -> None:
            self.hours_scored = hours
            self.model = _Score(mae)
            self.baselines = {"same_hour_last_week": _Score(naive)}
            self.coverage_p10_p90 = cover

    totals = Totals().add(_Evaluation(10, 1.0, 2.0, 0.5))  # type: ignore[arg-type]
    totals = totals.add(_Evaluation(30, 0.5, 0.5, 1.0))  # type: ignore[arg-type]
    assert totals.hours == 40
    assert totals.mase == pytest.approx((10 * 1.0 + 30 * 0.5) / (10 * 2.0 + 30 * 0.5))
    assert totals.coverage == pytest.approx((10 * 0.5 + 30 * 1.0) / 40)


@pytest.mark.parametrize("name", ["belgium", "konstanz"])
def test_weekly_refit_never_makes_a_home_worse(
    model: artifact.Artifact, homes: dict[str, HomeSeries], name: str
) -> None:
    """Replaying the integration's weekly refit over the held-out weeks, the
    home's pooled MASE is never worse than with the bundled model alone."""
    home = homes[name]
    since = held_out_start(home, _sources(model))
    weekly = simulate_weekly(home, model.ensemble.predict, since)
    assert weekly.weeks_scored > 10
    assert weekly.adapted.mase <= weekly.bundled.mase + 1e-9
    assert weekly.bundled.hours == weekly.adapted.hours
    # Every check is made on a week the calibration was not fitted on.
    result = adaptation.adapt(
        model.ensemble.predict, home.values, home.start, home.tz, since=since
    )
    if result.accepted:
        assert result.after is not None
        assert result.before is not None
        assert result.after.mae_kwh < result.before.mae_kwh
    assert np.isfinite(weekly.adapted.coverage)
