"""Reading messy real-world CSVs into hourly series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from model_builder.csv_input import frame_to_series, read_energy_csv
from model_builder.series import DataError

BERLIN = ZoneInfo("Europe/Berlin")


def _write(
    path: Path, rows: list[tuple[str, str]], header: str = "time,energy"
) -> Path:
    path.write_text(header + "\n" + "".join(f"{t},{v}\n" for t, v in rows))
    return path


def _local(start_utc: datetime, hours: int) -> list[str]:
    """Naive local wall-clock times, as many meters export them."""
    return [
        (start_utc + timedelta(hours=i))
        .astimezone(BERLIN)
        .strftime("%Y-%m-%d %H:%M:%S")
        for i in range(hours)
    ]


def test_repeated_daylight_saving_hour(tmp_path: Path) -> None:
    """Fall-back: 02:00 appears twice and both hours are kept, in order."""
    times = _local(datetime(2016, 10, 29, 22, tzinfo=UTC), 6)
    assert times.count("2016-10-30 02:00:00") == 2
    csv = _write(tmp_path / "a.csv", [(t, str(i + 1)) for i, t in enumerate(times)])
    series = read_energy_csv(csv, "time", "energy", cumulative=False, tz=BERLIN)
    assert series.values.tolist() == [1, 2, 3, 4, 5, 6]
    assert series.start == datetime(2016, 10, 29, 22, tzinfo=UTC)


def test_counter_reset_and_gap(tmp_path: Path) -> None:
    """A meter that resets loses that interval; a missing reading leaves a gap."""
    readings = [100.0, 101.0, 103.0, 0.5, 1.5, 2.0, 4.0]
    times = _local(datetime(2016, 1, 1, tzinfo=UTC), 8)
    rows = [(t, str(v)) for t, v in zip(times, readings, strict=False)]
    del rows[5]  # the 2.0 reading never arrived
    csv = _write(tmp_path / "meter.csv", rows)
    series = read_energy_csv(csv, "time", "energy", cumulative=True, tz=BERLIN)
    expected = [1.0, 2.0, np.nan, 1.0, np.nan]  # the 4-6 interval spans two hours
    np.testing.assert_array_equal(series.values, expected)
    assert series.notes["meter_resets"] == 1


def test_duplicates_keep_the_first_row(tmp_path: Path) -> None:
    times = _local(datetime(2016, 1, 1, tzinfo=UTC), 3)
    rows = [(times[0], "1"), (times[1], "2"), (times[1], "9"), (times[2], "3")]
    series = read_energy_csv(
        _write(tmp_path / "d.csv", rows), "time", "energy", cumulative=False, tz=BERLIN
    )
    assert series.values.tolist() == [1, 2, 3]
    assert series.notes["duplicate_times"] == 1


def test_ten_minute_wh_rows_sum_to_hours(tmp_path: Path) -> None:
    """Sub-hourly intervals add up; an incomplete hour stays missing."""
    start = datetime(2016, 1, 11, 16, tzinfo=UTC)
    rows = [
        ((start + timedelta(minutes=10 * i)).isoformat(), "100")
        for i in range(12)
        if i != 8  # one 10-minute reading missing in the second hour
    ]
    series = read_energy_csv(
        _write(tmp_path / "w.csv", rows),
        "time",
        "energy",
        cumulative=False,
        tz=UTC,
        unit="Wh",
    )
    np.testing.assert_array_equal(series.values, [0.6, np.nan])


def test_text_in_a_number_column_names_the_line(tmp_path: Path) -> None:
    rows = [
        ("2016-01-01 00:00", "1"),
        ("2016-01-01 01:00", "n/a kWh"),
        ("2016-01-01 02:00", "1"),
    ]
    with pytest.raises(DataError, match=r"line 3: energy is 'n/a kWh', not a number"):
        read_energy_csv(
            _write(tmp_path / "t.csv", rows), "time", "energy", cumulative=False, tz=UTC
        )


def test_unreadable_time_names_the_line(tmp_path: Path) -> None:
    rows = [("2016-01-01 00:00", "1"), ("yesterday", "1")]
    with pytest.raises(DataError, match="line 3: cannot read time 'yesterday'"):
        read_energy_csv(
            _write(tmp_path / "t.csv", rows), "time", "energy", cumulative=False, tz=UTC
        )


def test_missing_column_lists_the_columns(tmp_path: Path) -> None:
    csv = _write(tmp_path / "c.csv", [("2016-01-01 00:00", "1")])
    with pytest.raises(DataError, match=r"no column 'kwh'.*time, energy"):
        read_energy_csv(csv, "time", "kwh", cumulative=False, tz=UTC)


def test_nonexistent_local_time_is_refused(tmp_path: Path) -> None:
    """02:30 on the spring-forward night never happened in Berlin."""
    rows = [
        ("2016-03-27 01:00", "1"),
        ("2016-03-27 02:30", "1"),
        ("2016-03-27 03:00", "1"),
    ]
    with pytest.raises(
        DataError,
        match=r"line 3: 2016-03-27 02:30:00 does not exist in Europe/Berlin",
    ):
        read_energy_csv(
            _write(tmp_path / "n.csv", rows),
            "time",
            "energy",
            cumulative=False,
            tz=BERLIN,
        )


def test_daily_data_is_refused(tmp_path: Path) -> None:
    rows = [("2016-01-01", "10"), ("2016-01-02", "11"), ("2016-01-03", "12")]
    with pytest.raises(DataError, match=r"24.0 h apart"):
        read_energy_csv(
            _write(tmp_path / "day.csv", rows),
            "time",
            "energy",
            cumulative=False,
            tz=UTC,
        )


def test_offsets_across_a_clock_change_read_like_local_times(tmp_path: Path) -> None:
    """ISO times with their offset (+02:00 then +01:00) give the same hours."""
    start = datetime(2016, 10, 29, 20, tzinfo=UTC)
    hours = 10
    values = [str(i + 1) for i in range(hours)]
    aware = [
        (start + timedelta(hours=i)).astimezone(BERLIN).isoformat()
        for i in range(hours)
    ]
    assert {t[-6:] for t in aware} == {"+02:00", "+01:00"}
    with_offsets = read_energy_csv(
        _write(tmp_path / "aware.csv", list(zip(aware, values, strict=True))),
        "time",
        "energy",
        cumulative=False,
        tz=BERLIN,
    )
    local = read_energy_csv(
        _write(
            tmp_path / "local.csv",
            list(zip(_local(start, hours), values, strict=True)),
        ),
        "time",
        "energy",
        cumulative=False,
        tz=BERLIN,
    )
    assert with_offsets.start == local.start == start
    assert (
        with_offsets.values.tolist()
        == local.values.tolist()
        == list(range(1, hours + 1))
    )


def test_times_with_and_without_an_offset_are_refused(tmp_path: Path) -> None:
    rows = [
        ("2016-01-01T00:00:00+01:00", "1"),
        ("2016-01-01T01:00:00+01:00", "1"),
        ("2016-01-01 02:00:00", "1"),
    ]
    with pytest.raises(
        DataError, match=r"line 4: time '2016-01-01 02:00:00' has no UTC offset"
    ):
        read_energy_csv(
            _write(tmp_path / "m.csv", rows), "time", "energy", cumulative=False, tz=UTC
        )


def test_lonely_repeated_hour_names_its_line(tmp_path: Path) -> None:
    """02:00 on the fall-back night, once only: summer or winter time? Refused."""
    times = _local(datetime(2016, 10, 29, 22, tzinfo=UTC), 6)
    first = times.index("2016-10-30 02:00:00")
    del times[first + 1]  # the second 02:00 never arrived
    rows = [(t, "1") for t in times]
    with pytest.raises(
        DataError,
        match=rf"line {first + 2}: 2016-10-30 02:00:00 happens twice in "
        r"Europe/Berlin .* its only row",
    ):
        read_energy_csv(
            _write(tmp_path / "dst.csv", rows),
            "time",
            "energy",
            cumulative=False,
            tz=BERLIN,
        )


@pytest.mark.parametrize("value", ["inf", "-Infinity", "1e400"])
def test_infinity_is_refused_with_the_line(tmp_path: Path, value: str) -> None:
    rows = [
        ("2016-01-01 00:00", "1"),
        ("2016-01-01 01:00", "1"),
        ("2016-01-01 02:00", value),
    ]
    with pytest.raises(DataError, match=rf"line 4: energy is '{value}', not a number"):
        read_energy_csv(
            _write(tmp_path / "i.csv", rows), "time", "energy", cumulative=False, tz=UTC
        )


def test_negative_energy_names_the_line(tmp_path: Path) -> None:
    """Rows are sorted by time before use; the message still names the file line."""
    rows = [
        ("2016-01-01 02:00", "1"),
        ("2016-01-01 00:00", "1"),
        ("2016-01-01 01:00", "-0.5"),
    ]
    with pytest.raises(
        DataError, match=r"line 4: energy is '-0.5', a negative energy.*--cumulative"
    ):
        read_energy_csv(
            _write(tmp_path / "n.csv", rows), "time", "energy", cumulative=False, tz=UTC
        )


@pytest.mark.parametrize("content", ["", "time,energy\n"])
def test_empty_files_name_the_file(tmp_path: Path, content: str) -> None:
    csv = tmp_path / "empty.csv"
    csv.write_text(content)
    with pytest.raises(DataError, match=rf"{csv}: (cannot read CSV|no rows)"):
        read_energy_csv(csv, "time", "energy", cumulative=False, tz=UTC)


def test_table_rows_are_counted_from_one() -> None:
    """A table that is not a text file (Parquet) has rows, not lines."""
    frame = pd.DataFrame({"time": ["2016-01-01 00:00", "noon"], "energy": ["1", "2"]})
    with pytest.raises(DataError, match=r"fleet.parquet \(a\), row 2: cannot read"):
        frame_to_series(
            frame,
            "time",
            "energy",
            source="fleet.parquet (a)",
            name="a",
            cumulative=False,
            tz=UTC,
            first_line=None,
        )
