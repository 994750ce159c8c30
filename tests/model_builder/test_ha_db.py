"""model_builder on a database written by Home Assistant's own recorder.

The database is made in the test by a real recorder (the harness's, on a
SQLite file) from the real Sceaux house of ``tests/components/kilowise/
fixtures/household_5_weeks.csv`` (UCI "Individual household electric power
consumption", Hebrail and Berard, CC BY 4.0): its energy meter is recorded in
Wh, reset once, then switched to kWh without converting the stored rows.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
import shutil
import sqlite3
from typing import Any

from homeassistant.components.recorder.db_schema import SCHEMA_VERSION
from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import async_import_statistics
from homeassistant.core import HomeAssistant
import numpy as np
import pandas as pd
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
import sqlalchemy
from sqlalchemy.exc import OperationalError

from custom_components.kilowise.engine import read_artifact
from model_builder import ha_db
from model_builder.__main__ import main
from model_builder.series import DataError

FIXTURE = (
    Path(__file__).resolve().parents[1]
    / "components"
    / "kilowise"
    / "fixtures"
    / "household_5_weeks.csv"
)
START = datetime(2026, 1, 5, 11, tzinfo=UTC)
RESET = 300
"""Hour at which the meter was replaced: its reading starts again from zero."""
UNIT_CHANGE = 500
"""Hour from which the meter's statistics are imported in kWh, not Wh."""


@pytest.fixture
def persistent_database() -> bool:
    """The harness's recorder writes to a SQLite file rather than to memory."""
    return True


def _household() -> np.ndarray:
    with FIXTURE.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
    return np.array(
        [float(row["energy_kwh"]) if row["energy_kwh"] else np.nan for row in rows]
    )


def _metadata(statistic_id: str, unit: str, *, energy: bool) -> StatisticMetaData:
    metadata: dict[str, Any] = {
        "has_sum": energy,
        "mean_type": StatisticMeanType.NONE if energy else StatisticMeanType.ARITHMETIC,
        "name": None,
        "source": "recorder",
        "statistic_id": statistic_id,
        "unit_of_measurement": unit,
    }
    if "unit_class" in StatisticMetaData.__annotations__:  # 2026.x
        metadata["unit_class"] = {"Wh": "energy", "kWh": "energy", "W": "power"}.get(
            unit
        )
    return metadata  # type: ignore[return-value]


def _meter_rows(kwh: np.ndarray) -> tuple[list[StatisticData], list[StatisticData]]:
    """Sums in Wh until the unit change (reset at ``RESET``), then in kWh."""
    in_wh: list[StatisticData] = []
    in_kwh: list[StatisticData] = []
    reading = 5_000_000.0  # Wh on the old meter
    for hour, value in enumerate(kwh):
        used = 0.0 if np.isnan(value) else float(value)
        if hour == RESET:
            reading = 0.0  # a new meter
        if hour == UNIT_CHANGE:
            reading /= 1000.0  # the same reading, now in kWh
        reading += used * (1000.0 if hour < UNIT_CHANGE else 1.0)
        if np.isnan(value):
            continue  # no statistics while the meter was not read
        row: StatisticData = {
            "start": START + timedelta(hours=hour),
            "state": reading,
            "sum": reading,
        }
        (in_wh if hour < UNIT_CHANGE else in_kwh).append(row)
    return in_wh, in_kwh


async def _write(hass: HomeAssistant, kwh: np.ndarray) -> None:
    in_wh, in_kwh = _meter_rows(kwh)
    async_import_statistics(
        hass, _metadata("sensor.grid_energy", "Wh", energy=True), in_wh
    )
    await async_wait_recording_done(hass)
    async_import_statistics(
        hass, _metadata("sensor.grid_energy", "kWh", energy=True), in_kwh
    )
    power: list[StatisticData] = [
        {
            "start": START + timedelta(hours=hour),
            "mean": float(value) * 1000.0,
            "min": 0.0,
            "max": float(value) * 2000.0,
        }
        for hour, value in enumerate(kwh)
        if not np.isnan(value)
    ]
    async_import_statistics(
        hass, _metadata("sensor.home_power", "W", energy=False), power
    )
    temperature = _metadata("sensor.outside", "°C", energy=False)
    if "unit_class" in temperature:
        temperature["unit_class"] = "temperature"  # type: ignore[typeddict-unknown-key]
    async_import_statistics(
        hass,
        temperature,
        [{"start": START, "mean": 4.0, "min": 3.0, "max": 5.0}],
    )
    await async_wait_recording_done(hass)


def _expected_meter(kwh: np.ndarray) -> np.ndarray:
    """What the meter's statistics can tell, hour by hour."""
    expected = kwh.copy()
    gaps = np.flatnonzero(np.isnan(kwh))
    expected[gaps[gaps + 1 < len(kwh)] + 1] = np.nan  # no reading before it
    expected[[0, RESET, UNIT_CHANGE]] = np.nan  # first hour, reset, unit change
    return expected


@pytest.fixture
async def database(
    recorder_db_url: str, recorder_mock: Any, hass: HomeAssistant
) -> Path:
    """The recorder's database file, holding the house's statistics."""
    await _write(hass, _household())
    return Path(recorder_db_url.removeprefix("sqlite:///"))


async def test_reads_a_real_recorder_database(
    database: Path, hass: HomeAssistant
) -> None:
    """Resets and the unit change leave gaps; the Wh stretch is rescaled;
    the power sensor gives the same hours; every hour is the real house's."""
    kwh = _household()
    homes, version = await hass.async_add_executor_job(
        ha_db.read_homes,
        str(database),
        ["sensor.grid_energy", "sensor.home_power"],
        "Europe/Paris",
    )
    assert version == SCHEMA_VERSION
    meter, power = homes
    assert meter.name == "sensor.grid_energy"
    assert meter.start == START
    assert str(meter.tz) == "Europe/Paris"
    expected = _expected_meter(kwh)
    assert len(meter.values) == len(kwh)
    np.testing.assert_array_equal(np.isnan(meter.values), np.isnan(expected))
    np.testing.assert_allclose(meter.values, expected, rtol=1e-9, equal_nan=True)
    assert meter.notes["meter_resets"] == 2  # the new meter and the new unit
    # The hours before the unit change, stored in Wh under the kWh label.
    assert meter.notes["rescaled_hours"] == int(
        np.count_nonzero(~np.isnan(expected[:UNIT_CHANGE]))
    )
    # The last hour of the house was unmeasured: the power sensor stops before.
    last = int(np.flatnonzero(~np.isnan(kwh))[-1]) + 1
    np.testing.assert_allclose(power.values, kwh[:last], rtol=1e-12, equal_nan=True)
    assert power.notes["meter_resets"] == 0


async def test_opens_read_only_and_checks_the_schema(
    database: Path, hass: HomeAssistant, tmp_path: Path
) -> None:
    """Nothing can be written through the reader; what it cannot read is
    refused with the reason."""
    engine = ha_db.open_database(str(database))
    try:
        with (
            pytest.raises(OperationalError, match="readonly"),
            engine.begin() as connection,
        ):
            connection.execute(sqlalchemy.text("DELETE FROM statistics"))
    finally:
        engine.dispose()

    # A copy made by SQLite's backup (the recorder writes ahead in a log).
    def copy(name: str) -> Path:
        target = tmp_path / name
        source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        with sqlite3.connect(target) as destination:
            source.backup(destination)
        source.close()
        return target

    old = await hass.async_add_executor_job(copy, "old.db")
    with sqlite3.connect(old) as connection:
        connection.execute(
            "INSERT INTO schema_changes (schema_version, changed) VALUES (30, '2023-01-01')"
        )
    with pytest.raises(DataError, match="schema version 30 is older than 34"):
        ha_db.read_homes(str(old), ["sensor.grid_energy"], "UTC")

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE readings (t, kwh)")
    with pytest.raises(DataError, match="not a Home Assistant recorder database"):
        ha_db.read_homes(str(other), None, "UTC")
    with pytest.raises(DataError, match="no such database file"):
        ha_db.read_homes(str(tmp_path / "missing.db"), None, "UTC")

    for wanted, message in (
        (None, "choose the home's energy or power statistic with --statistic-id"),
        (["sensor.outside"], "measures neither energy"),
        (["sensor.nothing"], "no statistic 'sensor.nothing'"),
    ):
        with pytest.raises(DataError, match=message) as err:
            await hass.async_add_executor_job(
                ha_db.read_homes, str(database), wanted, "UTC"
            )
        if wanted != ["sensor.outside"]:
            assert "sensor.grid_energy, sensor.home_power" in str(err.value)

    # The time zone comes from the configuration beside the database.
    with pytest.raises(DataError, match="--timezone"):
        ha_db.home_time_zone(str(database), None)
    storage = database.parent / ".storage"
    storage.mkdir()
    (storage / "core.config").write_text(
        json.dumps({"data": {"time_zone": "Europe/Berlin"}}), encoding="utf-8"
    )
    assert str(ha_db.home_time_zone(str(database), None)) == "Europe/Berlin"
    shutil.rmtree(storage)


def test_missing_sqlalchemy_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without SQLAlchemy, --ha-db says what to install."""
    monkeypatch.setitem(__import__("sys").modules, "sqlalchemy", None)
    with pytest.raises(DataError, match="needs SQLAlchemy"):
        ha_db.open_database("/nonexistent.db")


def test_a_unit_jump_upwards_is_left_out() -> None:
    """A meter switched from kWh to Wh with its reading carried over jumps up
    by a thousand times: that hour is left out and the Wh stretch rescaled."""
    kwh = np.tile([0.3, 0.5, 1.2, 0.8], 50)
    sums = np.concatenate(([100.0], 100.0 + np.cumsum(kwh)))
    sums[100:] *= 1000.0  # the same reading, in Wh from hour 100
    reduction = ha_db.hourly_kwh(
        np.arange(len(sums), dtype=np.int64), sums, "energy", 1.0
    )
    assert reduction.jumps == 1
    assert np.isnan(reduction.kwh[100])
    # The newest stretch sets the scale: it is in Wh, so the kWh stretch is
    # multiplied up to it.
    np.testing.assert_allclose(reduction.kwh[1:100], kwh[:99] * 1000.0)
    np.testing.assert_allclose(reduction.kwh[101:], kwh[100:] * 1000.0)
    assert reduction.rescaled_hours == 99


async def test_evaluate_and_fine_tune_from_the_database(
    database: Path,
    hass: HomeAssistant,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``evaluate --ha-db`` scores the bundled model on the house;
    ``train --ha-db --fine-tune`` exports a model for it, unsigned."""
    argv = [
        "evaluate",
        "--model",
        "custom_components/kilowise/models/kilowise_global.json",
        "--ha-db",
        str(database),
        "--statistic-id",
        "sensor.grid_energy",
        "--timezone",
        "Europe/Paris",
        "--json",
    ]
    assert await hass.async_add_executor_job(main, argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["hours_scored"] > 150
    assert 0.3 < result["model"]["mase_weekly"] < 1.5

    artifact = tmp_path / "home.json"
    argv = [
        "train",
        "--ha-db",
        str(database),
        "--statistic-id",
        "sensor.grid_energy",
        "--timezone",
        "Europe/Paris",
        "--fine-tune",
        "--stride",
        "96",
        "--max-iter",
        "4",
        "--artifact",
        str(artifact),
    ]
    assert await hass.async_add_executor_job(main, argv) == 0
    out = capsys.readouterr().out
    assert f"recorder schema {SCHEMA_VERSION}" in out
    assert "2 meter resets or negative hours left out" in out
    assert "holdout, bundled model" in out
    assert "unsigned" in out
    model = await hass.async_add_executor_job(read_artifact, artifact)
    assert model.model_id.startswith("kilowise-home-sensor-grid-energy-")
    training = model.manifest["training"]
    assert training["home_weights"] == {"sensor.grid_energy": 4.0}
    assert [s["name"] for s in training["sources"]] == [
        "sceaux",
        "konstanz",
        "sensor.grid_energy",
    ]
    assert "sensor.grid_energy/holdout" in model.manifest["metrics"]
    assert artifact.with_suffix(".joblib").is_file()
    assert not artifact.with_suffix(".sig").exists()

    # A model trained on a database never lands on the bundled one by default.
    assert await hass.async_add_executor_job(main, argv[:-2]) == 2
    assert "--artifact is required with --ha-db" in capsys.readouterr().err


async def test_several_databases_in_score_and_evaluate(
    database: Path,
    hass: HomeAssistant,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Two homes' recorder files, each in its own folder: one fleet."""

    def copy_to(folder: str) -> str:
        target = tmp_path / folder / "home-assistant_v2.db"
        target.parent.mkdir()
        source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        with sqlite3.connect(target) as destination:
            source.backup(destination)
        source.close()
        return str(target)

    flat_a = await hass.async_add_executor_job(copy_to, "flat-a")
    flat_b = await hass.async_add_executor_job(copy_to, "flat-b")
    databases = ["--ha-db", flat_a, "--ha-db", flat_b, "--timezone", "Europe/Paris"]

    report = tmp_path / "report.csv"
    argv = [
        "score",
        *databases,
        "--statistic-id",
        "sensor.grid_energy",
        "--output",
        str(report),
    ]
    assert await hass.async_add_executor_job(main, argv) == 0
    scored = await hass.async_add_executor_job(pd.read_csv, report)
    assert sorted(scored["home"].unique()) == [
        "flat-a/sensor.grid_energy",
        "flat-b/sensor.grid_energy",
    ]
    capsys.readouterr()

    # Each database's homes are the named statistics it holds.
    argv = [
        "evaluate",
        "--model",
        "custom_components/kilowise/models/kilowise_global.json",
        *databases,
        "--statistic-id",
        "sensor.grid_energy",
        "sensor.home_power",
        "--json",
    ]
    assert await hass.async_add_executor_job(main, argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert sorted(result) == [
        "flat-a/sensor.grid_energy",
        "flat-a/sensor.home_power",
        "flat-b/sensor.grid_energy",
        "flat-b/sensor.home_power",
    ]
    assert result["flat-a/sensor.grid_energy"] == result["flat-b/sensor.grid_energy"]

    with pytest.raises(DataError, match=r"no database holds sensor\.nothing"):
        await hass.async_add_executor_job(
            ha_db.database_homes,
            [flat_a, flat_b],
            ["sensor.grid_energy", "sensor.nothing"],
            "UTC",
        )
    assert ha_db.database_labels(
        ["/a/home-assistant_v2.db", "/b/home-assistant_v2.db", "/c/copy.db"]
    ) == ["a", "b", "copy"]
    assert ha_db.database_labels(["/x/one.db", "/y/one.db"]) == ["one#1", "one#2"]
    assert ha_db.database_labels(["postgresql://reader:pw@db/homeassistant"]) == [
        "homeassistant"
    ]
