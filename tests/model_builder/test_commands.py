"""The command line: train and evaluate, end to end on real data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from custom_components.kilowise.engine.artifact import read_artifact
from model_builder.__main__ import main
from model_builder.bundle import load_bundle, new_bundle, save_bundle
from model_builder.series import HomeSeries
from model_builder.training import QUANTILES

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def small_joblib(tmp_path: Path, small_models: list[object]) -> Path:
    path = tmp_path / "small.joblib"
    save_bundle(new_bundle(small_models, QUANTILES, training={}, metrics={}), path)  # type: ignore[arg-type]
    return path


def _meter_csv(path: Path, home: HomeSeries, days: int) -> Path:
    """A real home's hours as a naive-local meter export, with real-world faults.

    The values are the Sceaux house's measured hours, replayed on a clock that
    crosses the autumn daylight-saving change. The file gets a duplicate row, a
    lost reading and a meter reset.
    """
    hours = days * 24
    kwh = home.values[-hours:]
    kwh = np.where(np.isnan(kwh), 0.0, kwh)
    counter = np.concatenate(([1000.0], 1000.0 + np.cumsum(kwh)))
    start = datetime(2016, 9, 20, 22, tzinfo=UTC)
    lines = ["time,meter_kwh"]
    for i, reading in enumerate(counter):
        local = (start + timedelta(hours=i)).astimezone(BERLIN)
        # From day 31 the meter was replaced: it starts again below 1000 kWh.
        shown = reading - 1000.0 if i >= 24 * 31 else reading
        lines.append(f"{local:%Y-%m-%d %H:%M:%S},{shown:.4f}")
    lines.insert(200, lines[200])  # duplicate
    del lines[24 * 33]  # lost reading
    path.write_text("\n".join(lines) + "\n")
    return path


def test_evaluate_json_on_a_messy_meter(
    tmp_path: Path,
    small_joblib: Path,
    homes: dict[str, HomeSeries],
    capsys: pytest.CaptureFixture[str],
) -> None:
    csv = _meter_csv(tmp_path / "meter.csv", homes["sceaux"], days=42)
    argv = [
        "evaluate",
        "--model",
        str(small_joblib),
        "--csv",
        str(csv),
        "--time-column",
        "time",
        "--energy-column",
        "meter_kwh",
        "--cumulative",
        "--timezone",
        "Europe/Berlin",
        "--json",
    ]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"hours_scored", "model", "baselines", "coverage_p10_p90"}
    assert set(result["baselines"]) == {
        "same_hour_yesterday",
        "same_hour_last_week",
        "mean_same_hour_4_weeks",
    }
    # Scoring starts after four weeks: at most 14 days remain, and the reset,
    # the lost reading and their lagged copies are skipped, never imputed.
    assert 0 < result["hours_scored"] < 14 * 24
    assert result["baselines"]["same_hour_last_week"]["mase_weekly"] == 1.0
    assert 0 <= result["coverage_p10_p90"] <= 1
    for score in (result["model"], *result["baselines"].values()):
        assert score["mae_kwh"] > 0


def test_evaluate_refuses_text_with_the_line(
    tmp_path: Path, small_joblib: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("time,kwh\n2016-01-01 00:00,1\n2016-01-01 01:00,abc\n")
    argv = [
        "evaluate",
        "--model",
        str(small_joblib),
        "--csv",
        str(csv),
        "--time-column",
        "time",
        "--energy-column",
        "kwh",
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "line 3" in err
    assert "Traceback" not in err


def test_evaluate_refuses_an_unknown_zone(
    tmp_path: Path, small_joblib: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "x.csv"
    csv.write_text("time,kwh\n2016-01-01 00:00,1\n")
    argv = [
        "evaluate",
        "--model",
        str(small_joblib),
        "--csv",
        str(csv),
        "--time-column",
        "time",
        "--energy-column",
        "kwh",
        "--timezone",
        "Mars/Olympus",
    ]
    assert main(argv) == 2
    assert "unknown time zone 'Mars/Olympus'" in capsys.readouterr().err


def test_train_writes_both_artifacts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A quick run of the real training command on the real homes."""
    joblib_path, manifest = tmp_path / "m.joblib", tmp_path / "model" / "m.json"
    argv = [
        "train",
        "--max-iter",
        "3",
        "--stride",
        "96",
        "--joblib",
        str(joblib_path),
        "--artifact",
        str(manifest),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "sceaux" in out
    assert "belgium" in out
    artifact = read_artifact(manifest)
    info = artifact.manifest
    assert {"sceaux/holdout", "konstanz/holdout", "belgium/held out"} <= set(
        info["metrics"]
    )
    assert info["libraries"]["scikit-learn"]
    assert info["payload"]["sha256"] == artifact.sha256
    bundle = load_bundle(joblib_path)
    assert bundle["model_id"] == info["model_id"]
    # The training part of each home ends where its scored quarter begins.
    sceaux = next(s for s in info["training"]["sources"] if s["name"] == "sceaux")
    assert sceaux["trained_until"] < sceaux["end"]


def test_export_reproduces_the_artifact(tmp_path: Path, small_joblib: Path) -> None:
    out = tmp_path / "exported.json"
    assert main(["export", "--model", str(small_joblib), "--output", str(out)]) == 0
    assert read_artifact(out).ensemble.roots.shape[0] == 3


def test_bundle_from_another_version_warns(
    tmp_path: Path, small_models: list[object]
) -> None:
    bundle = new_bundle(small_models, QUANTILES, training={}, metrics={})  # type: ignore[arg-type]
    bundle["libraries"]["scikit-learn"] = "0.24.2"
    save_bundle(bundle, tmp_path / "old.joblib")
    with pytest.warns(UserWarning, match=r"scikit-learn 0\.24\.2.*re-export.*retrain"):
        load_bundle(tmp_path / "old.joblib")
