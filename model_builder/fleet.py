"""Many homes at once: where their data comes from, described so any worker can load it.

A ``HomeSource`` is a small, picklable description (a file and its columns,
a real home's name, or a resampled copy of one); ``load`` turns it into a
``HomeSeries`` wherever it runs, so a Dask worker reads its own data instead
of receiving it over the network.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from . import ha_db
from .csv_input import UNIT_TO_KWH, frame_to_series, read_energy_csv
from .datasets import HOMES, default_data_dir, load_homes
from .series import DataError, HomeSeries

SYNTHETIC_PREFIX = "resampled"


@dataclass(frozen=True)
class Columns:
    """How to read energy from a table."""

    time: str
    energy: str
    cumulative: bool = False
    timezone: str = "UTC"
    unit: str = "kWh"

    def tz(self) -> ZoneInfo:
        """The zone of naive times."""
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise DataError(f"unknown time zone {self.timezone!r}") from err


@dataclass(frozen=True)
class HomeSource:
    """One home of a fleet, as a recipe to load it.

    ``kind`` is ``builtin`` (a real home of shared/data by name), ``csv`` (one
    file per home), ``parquet`` (one home of a dataset with a home column),
    ``ha_db`` (one statistic of a Home Assistant database) or ``resampled`` (a
    real home shifted in time and scaled, for fleets larger than the real
    data; always labelled as such).
    """

    name: str
    kind: str
    path: Path | None = None
    columns: Columns | None = None
    home_key: str | None = None
    home_column: str = "home"
    shift_days: int = 0
    scale: float = 1.0
    data_dir: Path = field(default_factory=default_data_dir)
    database: ha_db.DatabaseHome | None = None

    def load(self) -> HomeSeries:
        """Read the home's hourly series (blocking; runs on the worker)."""
        if self.kind == "builtin":
            return load_homes((self.name,), self.data_dir)[0]
        if self.kind == "ha_db" and self.database is not None:
            return ha_db.read_home(self.database)
        if self.kind == "resampled":
            (base,) = load_homes((str(self.home_key),), self.data_dir)
            return replace(
                base,
                name=self.name,
                start=base.start + timedelta(days=self.shift_days),
                values=base.values * self.scale,
                notes={},
            )
        if self.path is None or self.columns is None:
            raise DataError(f"{self.name}: a {self.kind} home needs a path and columns")
        c = self.columns
        if self.kind == "csv":
            series = read_energy_csv(
                self.path,
                c.time,
                c.energy,
                cumulative=c.cumulative,
                tz=c.tz(),
                unit=c.unit,
            )
            return replace(series, name=self.name)
        if self.kind == "parquet":
            frame = pd.read_parquet(
                self.path,
                columns=[c.time, c.energy],
                filters=[(self.home_column, "==", self.home_key)],
            )
            return frame_to_series(
                frame,
                c.time,
                c.energy,
                source=f"{self.path} ({self.home_key})",
                name=self.name,
                cumulative=c.cumulative,
                tz=c.tz(),
                unit=c.unit,
                first_line=None,
            )
        raise DataError(f"unknown home source kind {self.kind!r}")


def load_home(source: HomeSource) -> HomeSeries:
    """``source.load()``, as a function a Dask worker can be sent."""
    return source.load()


def add_source_arguments(
    parser: argparse.ArgumentParser, *, builtin: bool = True
) -> None:
    """Options that name a fleet of homes (shared by train and score).

    ``train`` names the real homes with its own ``--homes``, so it asks for
    no ``--builtin``.
    """
    group = parser.add_argument_group("homes")
    if builtin:
        group.add_argument(
            "--builtin",
            default="",
            help="real homes of shared/data by name, comma-separated",
        )
    group.add_argument(
        "--csv-dir",
        type=Path,
        help="folder of CSV files, one home each (name = file stem)",
    )
    group.add_argument(
        "--parquet", type=Path, help="Parquet file or dataset with many homes"
    )
    group.add_argument(
        "--home-column",
        default="home",
        help="home id column of --parquet (default home)",
    )
    group.add_argument(
        "--time-column", default="time", help="time column of CSV/Parquet homes"
    )
    group.add_argument(
        "--energy-column", default="kwh", help="energy column of CSV/Parquet homes"
    )
    group.add_argument(
        "--cumulative",
        action="store_true",
        help="CSV/Parquet energy is a meter counter",
    )
    group.add_argument(
        "--timezone",
        default=None,
        help="zone of naive CSV/Parquet times (default UTC) and of --ha-db homes "
        "(default: the one in .storage/core.config beside a SQLite file)",
    )
    group.add_argument("--unit", choices=sorted(UNIT_TO_KWH), default="kWh")
    ha_db.add_arguments(group)
    group.add_argument(
        "--resampled",
        type=int,
        default=0,
        help="add N homes resampled from the real ones (time-shifted, scaled; labelled)",
    )


def sources_from_args(
    args: argparse.Namespace, resampled_from: Sequence[str] | None = None
) -> list[HomeSource]:
    """The homes named by ``add_source_arguments`` options, in a stable order.

    ``resampled_from`` limits the real homes that resampled ones are made
    of (training keeps the held-out home out of them).
    """
    data_dir = getattr(args, "data_dir", None) or default_data_dir()
    columns = Columns(
        args.time_column,
        args.energy_column,
        args.cumulative,
        args.timezone or "UTC",
        args.unit,
    )
    columns.tz()  # refuse an unknown zone before any work
    sources: list[HomeSource] = []
    for name in (n.strip() for n in getattr(args, "builtin", "").split(",")):
        if not name:
            continue
        if name not in HOMES:
            raise DataError(f"unknown home {name!r}; known: {', '.join(HOMES)}")
        sources.append(HomeSource(name, "builtin", data_dir=data_dir))
    if args.csv_dir is not None:
        files = sorted(args.csv_dir.glob("*.csv"))
        if not files:
            raise DataError(f"{args.csv_dir}: no .csv files")
        sources += [HomeSource(f.stem, "csv", path=f, columns=columns) for f in files]
    if args.parquet is not None:
        sources += parquet_sources(args.parquet, args.home_column, columns)
    if args.ha_db:
        sources += [
            HomeSource(home.name, "ha_db", database=home)
            for home in ha_db.database_homes(
                args.ha_db, args.statistic_id, args.timezone
            )
        ]
    elif args.statistic_id:
        raise DataError("--statistic-id needs --ha-db")
    sources += resampled_sources(args.resampled, data_dir, resampled_from)
    names = [s.name for s in sources]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DataError(f"two homes share the name {', '.join(duplicates)}")
    return sources


def parquet_sources(path: Path, home_column: str, columns: Columns) -> list[HomeSource]:
    """One source per distinct value of ``home_column``."""
    try:
        homes = pd.read_parquet(path, columns=[home_column])[home_column]
    except (OSError, ValueError, KeyError) as err:
        raise DataError(f"{path}: cannot read column {home_column!r}: {err}") from err
    return [
        HomeSource(
            str(home),
            "parquet",
            path=path,
            columns=columns,
            home_key=home,
            home_column=home_column,
        )
        for home in sorted(homes.dropna().unique(), key=str)
    ]


def resampled_sources(
    count: int, data_dir: Path, bases: Sequence[str] | None = None
) -> list[HomeSource]:
    """``count`` homes made from the real ones: shifted whole days, scaled 0.5-2x.

    Deterministic, so a fleet benchmark can be rerun; every name starts with
    ``resampled-`` so such homes are never mistaken for measured ones.
    ``bases`` limits the real homes used (default all of them).
    """
    rng = np.random.default_rng(7)
    names = sorted(HOMES if bases is None else bases)
    return [
        HomeSource(
            f"{SYNTHETIC_PREFIX}-{names[i % len(names)]}-{i:04d}",
            "resampled",
            home_key=names[i % len(names)],
            shift_days=int(rng.integers(1, 365)),
            scale=float(np.round(rng.uniform(0.5, 2.0), 3)),
            data_dir=data_dir,
        )
        for i in range(count)
    ]
