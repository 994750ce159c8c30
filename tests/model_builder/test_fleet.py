"""Fleets of homes: sources, the efficiency report, and the Dask path."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from datetime import timedelta
import json
import os
from pathlib import Path
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from custom_components.kilowise.engine.artifact import read_artifact
from model_builder.__main__ import main
from model_builder.fleet import add_source_arguments, sources_from_args
from model_builder.scoring import ANOMALY_RUN_HOURS, REPORT_COLUMNS
from model_builder.series import DataError, HomeSeries

REPO = Path(__file__).resolve().parents[2]


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_source_arguments(parser)
    return parser.parse_args(argv)


def _home_csv(path: Path, home: HomeSeries, factor: float = 1.0) -> Path:
    """A real home written as one kWh row per hour (blank where missing)."""
    times = [home.start + timedelta(hours=i) for i in range(len(home.values))]
    values = ["" if np.isnan(v) else f"{v * factor:.4f}" for v in home.values]
    pd.DataFrame({"time": [t.isoformat() for t in times], "kwh": values}).to_csv(
        path, index=False
    )
    return path


@pytest.fixture
def csv_dir(tmp_path: Path, homes: dict[str, HomeSeries]) -> Path:
    folder = tmp_path / "homes"
    folder.mkdir()
    _home_csv(folder / "flat-a.csv", homes["belgium"])
    _home_csv(folder / "flat-b.csv", homes["belgium"], factor=2.0)
    return folder


def test_sources_from_every_kind(
    csv_dir: Path, tmp_path: Path, homes: dict[str, HomeSeries]
) -> None:
    belgium = homes["belgium"]
    frame = pd.DataFrame(
        {
            "home": ["h1"] * len(belgium.values) + ["h2"] * len(belgium.values),
            "time": [
                belgium.start + timedelta(hours=i) for i in range(len(belgium.values))
            ]
            * 2,
            "kwh": np.concatenate([belgium.values, belgium.values * 3]),
        }
    )
    frame.to_parquet(tmp_path / "fleet.parquet")
    sources = sources_from_args(
        _args(
            "--builtin",
            "konstanz",
            "--csv-dir",
            str(csv_dir),
            "--parquet",
            str(tmp_path / "fleet.parquet"),
            "--resampled",
            "2",
        )
    )
    assert [s.name for s in sources] == [
        "konstanz",
        "flat-a",
        "flat-b",
        "h1",
        "h2",
        "resampled-belgium-0000",
        "resampled-konstanz-0001",
    ]
    loaded = {s.name: s.load() for s in sources}
    np.testing.assert_allclose(loaded["flat-b"].values, belgium.values * 2, atol=1e-4)
    np.testing.assert_allclose(loaded["h2"].values, belgium.values * 3, rtol=1e-12)
    resampled = loaded["resampled-belgium-0000"]
    assert resampled.start != belgium.start
    ratio = np.nanmean(resampled.values) / np.nanmean(belgium.values)
    assert 0.5 <= ratio <= 2.0
    # Deterministic: the same fleet every time.
    assert sources_from_args(_args("--resampled", "2")) == sources[-2:]


def test_bad_fleets_are_refused(tmp_path: Path, csv_dir: Path) -> None:
    with pytest.raises(DataError, match="unknown home 'atlantis'"):
        sources_from_args(_args("--builtin", "atlantis"))
    with pytest.raises(DataError, match=r"no \.csv files"):
        sources_from_args(_args("--csv-dir", str(tmp_path)))
    (csv_dir / "konstanz.csv").write_text((csv_dir / "flat-a.csv").read_text())
    with pytest.raises(DataError, match="two homes share the name konstanz"):
        sources_from_args(_args("--builtin", "konstanz", "--csv-dir", str(csv_dir)))
    with pytest.raises(DataError, match="unknown time zone"):
        sources_from_args(_args("--timezone", "Nowhere/Else"))


def test_score_report_flags_a_long_run_above_p90(
    tmp_path: Path, homes: dict[str, HomeSeries], capsys: pytest.CaptureFixture[str]
) -> None:
    """A day with eight hours at twice the home's highest hour is an anomaly."""
    belgium = homes["belgium"]
    folder = tmp_path / "homes"
    folder.mkdir()
    changed = belgium.values.copy()
    day = 24 * 70 - 16  # 00:00 local (UTC+1) on a day well past the warm-up
    changed[day + 10 : day + 18] = 2 * np.nanmax(belgium.values)
    _home_csv(
        folder / "leaky.csv", HomeSeries("leaky", belgium.start, changed, belgium.tz)
    )
    out = tmp_path / "report.csv"
    assert (
        main(
            [
                "score",
                "--csv-dir",
                str(folder),
                "--timezone",
                "Etc/GMT-1",
                "--output",
                str(out),
            ]
        )
        == 0
    )
    report = pd.read_csv(out)
    assert list(report.columns) == REPORT_COLUMNS
    days = report[report["period"] == "day"].set_index("start")
    flagged = days[days["anomaly"]]
    the_day = (belgium.start + timedelta(hours=day + 1)).strftime("%Y-%m-%d")
    assert the_day in flagged.index
    assert days.loc[the_day, "longest_run_above_p90"] >= ANOMALY_RUN_HOURS
    assert days.loc[the_day, "actual_kwh"] > days.loc[the_day, "p90_kwh"]
    weeks = report[report["period"] == "week"]
    assert weeks["actual_kwh"].sum() == pytest.approx(
        days["actual_kwh"].sum(), rel=1e-6
    )
    assert "1 homes" in capsys.readouterr().out


def test_score_refuses_an_unknown_output_type(tmp_path: Path) -> None:
    assert (
        main(["score", "--builtin", "belgium", "--output", str(tmp_path / "r.xlsx")])
        == 2
    )


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    """A real Dask scheduler and two worker processes on loopback."""
    pytest.importorskip("distributed")
    # The scheduler picks a free port and writes its address to a file (this
    # process may not open sockets under the Home Assistant test harness).
    scheduler_file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(scheduler_file),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / "scheduler.log").open("w"),
        )
    ]
    for _ in range(100):
        if scheduler_file.exists() and scheduler_file.stat().st_size:
            break
        time.sleep(0.2)
    address = str(json.loads(scheduler_file.read_text())["address"])
    for i in range(2):
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "distributed.cli.dask_worker",
                    address,
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                    "--local-directory",
                    str(tmp_path / f"w{i}"),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=(tmp_path / f"worker{i}.log").open("w"),
            )
        )
    try:
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_dask_cluster_gives_the_single_process_report(
    tmp_path: Path, csv_dir: Path, dask_cluster: str
) -> None:
    """The same homes, scored here and on two Dask workers: identical files."""
    common = [
        "-m",
        "model_builder",
        "score",
        "--builtin",
        "belgium",
        "--csv-dir",
        str(csv_dir),
        "--resampled",
        "2",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    single, cluster = tmp_path / "single.csv", tmp_path / "cluster.csv"
    subprocess.run(
        [sys.executable, *common, "--output", str(single)],
        check=True,
        env=env,
        cwd=REPO,
        capture_output=True,
        timeout=300,
    )
    done = subprocess.run(
        [
            sys.executable,
            *common,
            "--output",
            str(cluster),
            "--scheduler",
            dask_cluster,
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert single.read_bytes() == cluster.read_bytes()
    assert len(pd.read_csv(cluster)["home"].unique()) == 5


def test_unreachable_scheduler_is_one_clear_line(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "model_builder",
            "score",
            "--builtin",
            "belgium",
            "--output",
            str(tmp_path / "r.csv"),
            "--scheduler",
            "tcp://127.0.0.1:9",  # the discard port: nothing listens there
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "cannot reach the Dask scheduler" in done.stderr
    assert "Traceback" not in done.stderr


def _train(*argv: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """``python -m model_builder train`` with a quick model, in a child process."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "model_builder",
            "train",
            "--max-iter",
            "3",
            "--stride",
            "96",
            *argv,
        ],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_train_on_a_folder_and_a_parquet_dataset(
    tmp_path: Path,
    csv_dir: Path,
    homes: dict[str, HomeSeries],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Other homes train a model of their own, scored against the bundled one."""
    belgium = homes["belgium"]
    pd.DataFrame(
        {
            "home": ["p1"] * len(belgium.values),
            "time": [
                belgium.start + timedelta(hours=i) for i in range(len(belgium.values))
            ],
            "kwh": belgium.values * 0.7,
        }
    ).to_parquet(tmp_path / "fleet.parquet")
    manifest = tmp_path / "fleet" / "fleet.json"
    argv = [
        "train",
        "--csv-dir",
        str(csv_dir),
        "--parquet",
        str(tmp_path / "fleet.parquet"),
        "--resampled",
        "2",
        "--max-iter",
        "3",
        "--stride",
        "96",
        "--artifact",
        str(manifest),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    info = read_artifact(manifest).manifest
    names = [source["name"] for source in info["training"]["sources"]]
    # Resampled homes come from the training homes only: never the held-out one.
    assert names == [
        "flat-a",
        "flat-b",
        "p1",
        "resampled-konstanz-0000",
        "resampled-sceaux-0001",
    ]
    assert info["model_id"].startswith("kilowise-homes-")
    assert "flat-a/holdout" in info["metrics"]
    assert "holdout, bundled model" in out
    assert (tmp_path / "fleet" / "fleet.joblib").is_file()

    # A model trained on other homes never replaces the bundled one.
    assert main(argv[:-2]) == 2
    assert "--artifact is required" in capsys.readouterr().err
    assert main(["train", "--fine-tune", "--artifact", str(manifest)]) == 2
    assert "--fine-tune needs the homes" in capsys.readouterr().err


def test_dask_cluster_trains_the_single_process_model(
    tmp_path: Path, csv_dir: Path, dask_cluster: str
) -> None:
    """Homes read on two Dask workers or here: the same trees, bit for bit."""
    single, cluster = tmp_path / "single" / "m.json", tmp_path / "cluster" / "m.json"
    common = ["--csv-dir", str(csv_dir), "--resampled", "1", "--fine-tune"]
    done = _train(*common, "--artifact", str(single))
    assert done.returncode == 0, done.stderr[-2000:]
    done = _train(*common, "--artifact", str(cluster), "--scheduler", dask_cluster)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"reading homes on {dask_cluster}" in done.stderr
    one, other = read_artifact(single), read_artifact(cluster)
    assert one.sha256 == other.sha256
    assert one.manifest["metrics"] == other.manifest["metrics"]
