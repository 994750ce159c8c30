"""The command line: train and evaluate, end to end on real data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from custom_components.kilowise.engine.artifact import read_artifact
from model_builder.__main__ import main
from model_builder.bundle import load_bundle, new_bundle, save_bundle
from model_builder.evaluation import walk_forward
from model_builder.models import load_predictor
from model_builder.series import HomeSeries
from model_builder.training import QUANTILES

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def small_joblib(tmp_path: Path, small_models: list[object]) -> Path:
    path = tmp_path / "small.joblib"
    save_bundle(new_bundle(small_models, QUANTILES, training={}, metrics={}), path)  # type: ignore[arg-type]
    return path


METER_START = datetime(2016, 9, 20, 22, tzinfo=UTC)
RESET_READING = 24 * 31
"""From this reading on the meter was replaced: it starts again below 1000 kWh."""
LOST_READING = 24 * 33 - 2
"""This reading never arrived (its line is deleted)."""


def _meter_csv(path: Path, home: HomeSeries, days: int) -> Path:
    """A real home's hours as a naive-local meter export, with real-world faults.

    The values are the Sceaux house's measured hours, replayed on a clock that
    crosses the autumn daylight-saving change (02:00 comes twice, told apart
    by row order). The file gets a duplicate row, a lost reading and a meter
    reset.
    """
    hours = days * 24
    kwh = home.values[-hours:]
    kwh = np.where(np.isnan(kwh), 0.0, kwh)
    counter = np.concatenate(([1000.0], 1000.0 + np.cumsum(kwh)))
    lines = ["time,meter_kwh"]
    for i, reading in enumerate(counter):
        local = (METER_START + timedelta(hours=i)).astimezone(BERLIN)
        shown = reading - 1000.0 if i >= RESET_READING else reading
        lines.append(f"{local:%Y-%m-%d %H:%M:%S},{shown:.4f}")
    assert sum(line.startswith("2016-10-30 02:00") for line in lines) == 2
    lines.insert(200, lines[200])  # duplicate
    # Line k holds reading k - 1 up to the duplicate, k - 2 after it.
    del lines[LOST_READING + 2]
    path.write_text("\n".join(lines) + "\n")
    return path


def _meter_hours(home: HomeSeries, days: int) -> HomeSeries:
    """What the meter file of ``_meter_csv`` should read as, hour by hour."""
    kwh = home.values[-days * 24 :]
    kwh = np.where(np.isnan(kwh), 0.0, np.round(kwh, 4))
    kwh[RESET_READING - 1] = np.nan  # the hour that ends at the reset
    kwh[LOST_READING - 1 : LOST_READING + 1] = np.nan  # both hours around it
    return HomeSeries("meter", METER_START, kwh, BERLIN)


def _figures(result: dict[str, Any]) -> dict[str, float]:
    """The scores of an evaluation, flat."""
    flat = {"coverage": result["coverage_p10_p90"]}
    for name, score in (("model", result["model"]), *result["baselines"].items()):
        flat |= {f"{name}.{key}": value for key, value in score.items()}
    return flat


def test_evaluate_json_on_a_messy_meter(
    tmp_path: Path,
    small_joblib: Path,
    homes: dict[str, HomeSeries],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Duplicate, lost reading, reset and a repeated hour: exactly the clean hours."""
    days = 42
    csv = _meter_csv(tmp_path / "meter.csv", homes["sceaux"], days)
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
    # The same figures as scoring the hours the file should give, gaps left
    # as gaps: the reset's hour, the two hours around the lost reading and
    # their lagged copies are skipped, never imputed.
    expected = walk_forward(
        _meter_hours(homes["sceaux"], days), load_predictor(small_joblib)
    ).as_dict()
    assert result["hours_scored"] == expected["hours_scored"]
    assert _figures(result) == pytest.approx(_figures(expected), abs=1e-4)
    assert 0 < result["hours_scored"] < (days - 28) * 24
    assert result["baselines"]["same_hour_last_week"]["mase_weekly"] == 1.0


MESSY = [
    (
        "2016-01-01 00:00,1\n2016-01-01 01:00,abc\n",
        [],
        "line 3: kwh is 'abc', not a number",
    ),
    ("2016-01-01 00:00,1\n2016-01-01 01:00,inf\n", [], "line 3: kwh is 'inf'"),
    (
        "2016-01-01 00:00,1\n2016-01-01 01:00,-2\n",
        [],
        "line 3: kwh is '-2', a negative",
    ),
    (
        "2016-01-01T00:00+01:00,1\n2016-01-01 01:00,1\n",
        [],
        "line 3: time '2016-01-01 01:00' has no UTC offset",
    ),
    (
        "2016-10-30 01:00,1\n2016-10-30 02:00,1\n2016-10-30 03:00,1\n",
        ["--timezone", "Europe/Berlin"],
        "line 3: 2016-10-30 02:00:00 happens twice in Europe/Berlin",
    ),
    (
        "2016-03-27 01:00,1\n2016-03-27 02:00,1\n",
        ["--timezone", "Europe/Berlin"],
        "line 3: 2016-03-27 02:00:00 does not exist in Europe/Berlin",
    ),
    ("2016-01-01 00:00,1\nsoon,1\n", [], "line 3: cannot read time 'soon'"),
    ("2016-01-01 00:00,1\n2016-01-01 00:00,2\n", [], "fewer than two distinct times"),
    ("", [], "no rows"),
]


@pytest.mark.parametrize(
    ("rows", "extra", "message"),
    MESSY,
    ids=[
        "text",
        "infinity",
        "negative",
        "offset_and_none",
        "repeated_hour_once",
        "skipped_hour",
        "bad_time",
        "only_duplicates",
        "no_rows",
    ],
)
def test_evaluate_refuses_messy_files_with_the_line(
    *,
    tmp_path: Path,
    small_joblib: Path,
    capsys: pytest.CaptureFixture[str],
    rows: str,
    extra: list[str],
    message: str,
) -> None:
    """Each fault: exit status 2 and one line naming the file and row, no traceback."""
    csv = tmp_path / "readings.csv"
    csv.write_text("time,kwh\n" + rows)
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
        *extra,
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {csv}")
    assert message in err
    assert "Traceback" not in err
    assert err.count("\n") == 1


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


@pytest.mark.parametrize("content", [b"time,kwh\n", b"\x78\x9c not zlib"])
def test_evaluate_refuses_a_file_that_is_not_a_model(
    tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "readings.joblib"
    model.write_bytes(content)
    csv = tmp_path / "x.csv"
    csv.write_text("time,kwh\n2016-01-01 00:00,1\n")
    argv = ["evaluate", "--model", str(model), "--csv", str(csv)]
    argv += ["--time-column", "time", "--energy-column", "kwh"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{model}: not a Kilowise model" in err
    assert "Traceback" not in err


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
