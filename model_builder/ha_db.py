"""Hourly energy use read straight from a Home Assistant recorder database.

The recorder keeps hourly long-term statistics forever in two tables:
``statistics_meta`` (one row per statistic: its id, unit, whether it has a
``sum`` or a mean) and ``statistics`` (one row per statistic and hour, UTC
epoch ``start_ts``). This module reads them read-only, the same way the
integration reads them through the recorder:

* an energy meter (``has_sum``, an energy unit): the hour's use is the change
  of ``sum`` from the hour before; a decrease is a meter reset or a
  replacement and leaves that hour out (a gap), never a negative hour;
* a power sensor (a mean, a power unit): the hour's mean power times one
  hour is its energy; a negative mean leaves the hour out.

Values are converted to kWh with the unit in ``statistics_meta``. A unit
changed part-way without converting the stored rows (an importer that wrote
Wh, then kWh under the same id) shows as a drop of the sum by about a
thousand times: the history splits there, and a stretch whose typical use
differs from the most recent stretch by a power of 1000 is rescaled to it,
and reported.

SQLite files are opened read-only (``mode=ro``); MariaDB/MySQL and PostgreSQL
URLs get read-only sessions. SQLAlchemy (and, for those servers, a driver)
must be installed; it is not needed for anything else in model_builder.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from itertools import pairwise
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from .series import DataError, HomeSeries

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

MIN_SCHEMA_VERSION = 34
"""First recorder schema with ``statistics.start_ts`` (Home Assistant 2023.3)."""

NEWEST_KNOWN_SCHEMA_VERSION = 53
"""Newest schema this reader was tested on (Home Assistant 2026.10). Newer
schemas are read when the columns it needs are there, with a warning."""

ENERGY_TO_KWH: dict[str, float] = {
    "mWh": 1e-6,
    "Wh": 1e-3,
    "kWh": 1.0,
    "MWh": 1e3,
    "GWh": 1e6,
    "TWh": 1e9,
    "J": 1 / 3.6e6,
    "kJ": 1 / 3.6e3,
    "MJ": 1 / 3.6,
    "GJ": 1e3 / 3.6,
}
"""Energy units of Home Assistant's statistics, as kWh."""

POWER_TO_KW: dict[str, float] = {
    "mW": 1e-6,
    "W": 1e-3,
    "kW": 1.0,
    "MW": 1e3,
    "GW": 1e6,
    "TW": 1e9,
}
"""Power units of Home Assistant's statistics, as kW."""

HOUR_SECONDS = 3600

RESET_TOLERANCE_KWH = 1e-9
"""A drop of a meter's sum larger than this is a reset, not rounding."""

JUMP_FACTOR = 1000.0
SPIKE_FACTOR = 20.0
"""An hour using ``JUMP_FACTOR`` times the typical hour of the week on one
side and ``SPIKE_FACTOR`` times that of the other is a jump of the sum (a
unit changed to a smaller one with the reading carried over), not use: it is
left out, and splits the history."""

MIN_STRETCH_HOURS = 24
"""Hours a stretch between breaks needs before its scale is compared."""

NEEDED_COLUMNS = {
    "statistics": {"metadata_id", "start_ts", "sum", "mean"},
    "statistics_meta": {"id", "statistic_id", "unit_of_measurement", "has_sum"},
    "schema_changes": {"change_id", "schema_version"},
}


@dataclass(frozen=True)
class Statistic:
    """One statistic of the database: what it measures and how it is reduced."""

    statistic_id: str
    metadata_id: int
    unit: str | None
    kind: str | None
    """``energy`` (a sum of energy), ``power`` (a mean power) or None."""

    @property
    def to_kwh(self) -> float:
        """Factor from the statistic's unit to kWh (or kW for power)."""
        table = ENERGY_TO_KWH if self.kind == "energy" else POWER_TO_KW
        return table[self.unit or ""]


def _sqlalchemy() -> Any:
    try:
        import sqlalchemy  # noqa: PLC0415
    except ImportError as err:
        raise DataError(
            "reading a Home Assistant database needs SQLAlchemy "
            "(pip install sqlalchemy; for MariaDB/MySQL or PostgreSQL also a "
            "driver such as pymysql or psycopg2)"
        ) from err
    return sqlalchemy


def _is_url(target: str) -> bool:
    return "://" in target


def open_database(target: str) -> Engine:
    """An engine on a recorder database that can only read.

    ``target`` is the path of a SQLite file or a SQLAlchemy URL
    (``mysql+pymysql://…``, ``postgresql://…``).
    """
    sqlalchemy = _sqlalchemy()
    if not _is_url(target):
        path = Path(target).expanduser().resolve()
        if not path.is_file():
            raise DataError(f"{target}: no such database file")
        url = f"sqlite:///file:{quote(str(path))}?mode=ro&uri=true"
        return sqlalchemy.create_engine(url)  # type: ignore[no-any-return]
    try:
        engine = sqlalchemy.create_engine(target)
    except (ImportError, sqlalchemy.exc.ArgumentError) as err:
        raise DataError(f"cannot open {_safe_url(target)}: {err}") from err
    statement = {
        "mysql": "SET SESSION TRANSACTION READ ONLY",
        "mariadb": "SET SESSION TRANSACTION READ ONLY",
        "postgresql": "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
    }.get(engine.dialect.name)
    if statement is None:
        raise DataError(
            f"{_safe_url(target)}: only SQLite, MariaDB/MySQL and PostgreSQL "
            "recorder databases are read"
        )

    def _read_only(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(statement)
        cursor.close()

    sqlalchemy.event.listen(engine, "connect", _read_only)
    return engine  # type: ignore[no-any-return]


def _safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    scheme, _, rest = url.partition("://")
    if "@" in rest:
        rest = "…@" + rest.split("@", 1)[1]
    return f"{scheme}://{rest}"


def check_schema(engine: Engine, source: str) -> int:
    """The database's recorder schema version, if this reader can read it.

    Raises ``DataError`` when it is not a recorder database, its schema is
    older than ``MIN_SCHEMA_VERSION``, or a needed column is missing.
    """
    sqlalchemy = _sqlalchemy()
    try:
        inspector = sqlalchemy.inspect(engine)
        tables = set(inspector.get_table_names())
    except sqlalchemy.exc.SQLAlchemyError as err:
        raise DataError(f"{source}: cannot read the database: {err}") from err
    missing_tables = sorted(set(NEEDED_COLUMNS) - tables)
    if missing_tables:
        raise DataError(
            f"{source}: not a Home Assistant recorder database "
            f"(no table {', '.join(missing_tables)})"
        )
    with engine.connect() as connection:
        version = connection.execute(
            sqlalchemy.text(
                "SELECT schema_version FROM schema_changes "
                "ORDER BY change_id DESC LIMIT 1"
            )
        ).scalar()
    if version is None:
        raise DataError(f"{source}: the recorder never recorded its schema version")
    version = int(version)
    if version < MIN_SCHEMA_VERSION:
        raise DataError(
            f"{source}: recorder schema version {version} is older than "
            f"{MIN_SCHEMA_VERSION} (Home Assistant 2023.3); start that Home Assistant "
            "once with a newer version to migrate it, then read a copy"
        )
    for table, needed in NEEDED_COLUMNS.items():
        columns = {column["name"] for column in inspector.get_columns(table)}
        if not needed <= columns:
            raise DataError(
                f"{source}: recorder schema version {version}: table {table} lacks "
                f"{', '.join(sorted(needed - columns))}"
            )
    return version


def _kind(unit: str | None, has_sum: bool, has_mean: bool) -> str | None:
    if unit in ENERGY_TO_KWH and has_sum:
        return "energy"
    if unit in POWER_TO_KW and has_mean:
        return "power"
    return None


def list_statistics(engine: Engine) -> list[Statistic]:
    """Every statistic with its kind (energy, power or None), by id."""
    sqlalchemy = _sqlalchemy()
    inspector = sqlalchemy.inspect(engine)
    columns = {column["name"] for column in inspector.get_columns("statistics_meta")}
    # Schema 49 replaced has_mean by mean_type (0: no mean).
    mean = "mean_type" if "mean_type" in columns else "has_mean"
    meta = sqlalchemy.table(
        "statistics_meta",
        *(
            sqlalchemy.column(name)
            for name in ("id", "statistic_id", "unit_of_measurement", "has_sum", mean)
        ),
    )
    with engine.connect() as connection:
        rows = connection.execute(
            sqlalchemy.select(
                meta.c.id,
                meta.c.statistic_id,
                meta.c.unit_of_measurement,
                meta.c.has_sum,
                meta.c[mean],
            ).order_by(meta.c.statistic_id)
        ).all()
    return [
        Statistic(
            statistic_id=str(statistic_id),
            metadata_id=int(metadata_id),
            unit=None if unit is None else str(unit),
            kind=_kind(unit, bool(has_sum), bool(has_mean)),
        )
        for metadata_id, statistic_id, unit, has_sum, has_mean in rows
    ]


def _candidates(statistics: list[Statistic]) -> str:
    usable = [s.statistic_id for s in statistics if s.kind is not None]
    return ", ".join(usable) if usable else "none"


def choose_statistics(
    statistics: list[Statistic], wanted: list[str] | None, source: str
) -> list[Statistic]:
    """The statistics named by ``--statistic-id``, or the only usable one."""
    by_id = {s.statistic_id: s for s in statistics}
    if not wanted:
        usable = [s for s in statistics if s.kind is not None]
        if len(usable) == 1:
            return usable
        raise DataError(
            f"{source}: choose the home's energy or power statistic with "
            f"--statistic-id (energy or power statistics: {_candidates(statistics)})"
        )
    chosen = []
    for statistic_id in wanted:
        statistic = by_id.get(statistic_id)
        if statistic is None:
            raise DataError(
                f"{source}: no statistic {statistic_id!r} "
                f"(energy or power statistics: {_candidates(statistics)})"
            )
        if statistic.kind is None:
            raise DataError(
                f"{source}: {statistic_id} measures neither energy with a sum "
                f"(Wh, kWh, MWh, …) nor power with a mean (W, kW, …); its unit is "
                f"{statistic.unit!r}"
            )
        chosen.append(statistic)
    return chosen


@dataclass(frozen=True)
class Reduction:
    """kWh per hour from hourly rows, and what was left out or repaired."""

    kwh: npt.NDArray[np.float64]
    resets: int
    jumps: int
    rescaled_hours: int


def hourly_kwh(
    hour_index: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    kind: str,
    to_kwh: float,
) -> Reduction:
    """Reduce one statistic's hourly values to kWh per hour on a full grid.

    ``hour_index`` numbers each row's hour from the first (0, 1, …, gaps
    allowed); ``values`` are the rows' ``sum`` (energy) or ``mean`` (power)
    in the statistic's unit, NaN where NULL.
    """
    hours = int(hour_index.max()) + 1 if len(hour_index) else 0
    grid = np.full(hours, np.nan)
    grid[hour_index] = values * to_kwh
    if kind == "power":
        negative = grid < 0
        grid[negative] = np.nan
        return Reduction(grid, int(negative.sum()), 0, 0)
    use: npt.NDArray[np.float64] = np.full(hours, np.nan)
    use[1:] = np.diff(grid)  # the first hour has no hour before it
    resets = use < -RESET_TOLERANCE_KWH
    use[resets] = np.nan
    use = np.where(use < 0.0, 0.0, use)  # float noise of a meter at rest
    jumps = _jumps(use)
    use[jumps] = np.nan
    rescaled = _rescale_stretches(use, resets | jumps)
    return Reduction(use, int(resets.sum()), int(jumps.sum()), rescaled)


def _jumps(use: npt.NDArray[np.float64], window: int = 168) -> npt.NDArray[np.bool_]:
    """Hours far above the weeks on both sides (see ``JUMP_FACTOR``)."""
    jumps: npt.NDArray[np.bool_] = np.zeros(len(use), dtype=bool)
    positive = use[use > 0]
    if not len(positive):
        return jumps
    # Only hours far above the smallest uses can be jumps; look at those alone.
    for index in np.flatnonzero(use > JUMP_FACTOR * float(np.min(positive))):
        around = []
        for side in (
            use[max(index - window, 0) : index],
            use[index + 1 : index + 1 + window],
        ):
            used = side[side > 0]
            if len(used):
                around.append(float(np.median(used)))
        if (
            around
            and use[index] > JUMP_FACTOR * min(around)
            and use[index] > SPIKE_FACTOR * max(around)
        ):
            jumps[index] = True
    return jumps


def _rescale_stretches(
    use: npt.NDArray[np.float64], breaks: npt.NDArray[np.bool_]
) -> int:
    """Bring stretches recorded in another unit to the newest stretch's scale.

    The history is cut at every break; a stretch whose median hourly use is
    a power of 1000 (within a factor of five) away from the newest long
    stretch's is multiplied back, in place. Returns the hours rescaled.
    """
    edges = np.concatenate(([0], np.flatnonzero(breaks), [len(use)]))
    stretches = [(int(a), int(b)) for a, b in pairwise(edges)]

    def typical(start: int, stop: int) -> float | None:
        part = use[start:stop]
        part = part[part > 0]
        return float(np.median(part)) if len(part) >= MIN_STRETCH_HOURS else None

    reference = next(
        (t for a, b in reversed(stretches) if (t := typical(a, b)) is not None), None
    )
    if reference is None:
        return 0
    rescaled = 0
    for start, stop in stretches:
        level = typical(start, stop)
        if level is None:
            continue
        powers = np.log10(level / reference) / 3
        nearest = round(float(powers))
        if nearest and abs(float(powers) - nearest) * 3 < np.log10(5):
            use[start:stop] /= 1000.0**nearest
            rescaled += int(np.count_nonzero(~np.isnan(use[start:stop])))
    return rescaled


def read_statistic(engine: Engine, statistic: Statistic, tz: tzinfo) -> HomeSeries:
    """The hourly kWh series of one statistic; ``tz`` is the home's time zone."""
    sqlalchemy = _sqlalchemy()
    column = "sum" if statistic.kind == "energy" else "mean"
    table = sqlalchemy.table(
        "statistics",
        sqlalchemy.column("metadata_id"),
        sqlalchemy.column("start_ts"),
        sqlalchemy.column(column),
    )
    with engine.connect() as connection:
        rows = connection.execute(
            sqlalchemy.select(table.c.start_ts, table.c[column])
            .where(
                table.c.metadata_id == statistic.metadata_id,
                table.c.start_ts.is_not(None),
            )
            .order_by(table.c.start_ts)
        ).all()
    if not rows:
        raise DataError(f"{statistic.statistic_id}: no hourly statistics")
    starts = np.array([float(row[0]) for row in rows])
    values = np.array(
        [np.nan if row[1] is None else float(row[1]) for row in rows], dtype=np.float64
    )
    hour = np.floor(starts / HOUR_SECONDS).astype(np.int64)
    first = int(hour[0])
    keep = np.concatenate(([True], np.diff(hour) > 0))  # one row per hour
    reduction = hourly_kwh(
        hour[keep] - first, values[keep], str(statistic.kind), statistic.to_kwh
    )
    series = HomeSeries(
        name=statistic.statistic_id,
        start=datetime.fromtimestamp(first * HOUR_SECONDS, tz=UTC),
        values=reduction.kwh,
        tz=tz,
    )
    series.notes.update(
        meter_resets=reduction.resets,
        unit_jumps=reduction.jumps,
        rescaled_hours=reduction.rescaled_hours,
    )
    return series


def home_time_zone(target: str, timezone: str | None) -> tzinfo:
    """``--timezone``, or the one in the Home Assistant configuration beside
    a SQLite file (``.storage/core.config``)."""
    name = timezone
    if name is None and not _is_url(target):
        config = Path(target).expanduser().resolve().parent / ".storage" / "core.config"
        try:
            name = json.loads(config.read_text(encoding="utf-8"))["data"]["time_zone"]
        except (OSError, ValueError, KeyError, TypeError):
            name = None
    if name is None:
        raise DataError(
            f"{target}: give the home's time zone with --timezone (for example "
            "Europe/Paris); it sets the local hours and midnights"
        )
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise DataError(f"unknown time zone {name!r}") from err


@dataclass(frozen=True)
class DatabaseHome:
    """One home of a recorder database: where to read it, and its name.

    Small and picklable, so a Dask worker can read the home itself.
    """

    name: str
    target: str
    statistic_id: str
    timezone: str
    schema_version: int

    @property
    def source(self) -> str:
        """The database as messages show it (a URL without its password)."""
        return _safe_url(self.target) if _is_url(self.target) else self.target


def database_labels(targets: Sequence[str]) -> list[str]:
    """A short name per database, for the names of their homes.

    A recorder file keeps Home Assistant's name (``home-assistant_v2.db``), so
    the folder it is in names it; another file its stem; a URL its database.
    """

    def label(target: str) -> str:
        if _is_url(target):
            rest = _safe_url(target).partition("://")[2]
            return rest.split("?")[0].rstrip("/").rsplit("/", 1)[-1] or rest
        path = Path(target).expanduser()
        if path.name == "home-assistant_v2.db" and path.parent.name:
            return path.parent.name
        return path.stem

    labels = [label(target) for target in targets]
    if len(set(labels)) < len(labels):
        labels = [f"{name}#{i}" for i, name in enumerate(labels, start=1)]
    return labels


def database_homes(
    targets: Sequence[str], statistic_ids: list[str] | None, timezone: str | None
) -> list[DatabaseHome]:
    """The homes of one or more databases, checked but not read yet.

    ``statistic_ids`` names the homes' statistics; with several databases,
    each database's homes are the named statistics it holds (every name must
    be found in one of them). Without names, each database must hold exactly
    one energy or power statistic. With one database a home is named by its
    statistic, with several by ``<database label>/<statistic>``.
    """
    homes: list[DatabaseHome] = []
    found: set[str] = set()
    for target, label in zip(targets, database_labels(targets), strict=True):
        source = _safe_url(target) if _is_url(target) else target
        tz = home_time_zone(target, timezone)
        engine = open_database(target)
        try:
            version = check_schema(engine, source)
            statistics = list_statistics(engine)
        finally:
            engine.dispose()
        wanted = statistic_ids
        if statistic_ids and len(targets) > 1:
            held = {statistic.statistic_id for statistic in statistics}
            wanted = [name for name in statistic_ids if name in held]
            if not wanted:
                raise DataError(
                    f"{source}: holds none of {', '.join(statistic_ids)} (energy "
                    f"or power statistics: {_candidates(statistics)})"
                )
        for statistic in choose_statistics(statistics, wanted, source):
            found.add(statistic.statistic_id)
            name = (
                statistic.statistic_id
                if len(targets) == 1
                else f"{label}/{statistic.statistic_id}"
            )
            homes.append(
                DatabaseHome(name, target, statistic.statistic_id, str(tz), version)
            )
    missing = [name for name in statistic_ids or [] if name not in found]
    if missing:
        raise DataError(f"no database holds {', '.join(missing)}")
    return homes


def read_home(home: DatabaseHome) -> HomeSeries:
    """Read one home of a database (blocking)."""
    engine = open_database(home.target)
    try:
        (statistic,) = choose_statistics(
            list_statistics(engine), [home.statistic_id], home.source
        )
        series = read_statistic(engine, statistic, ZoneInfo(home.timezone))
    finally:
        engine.dispose()
    return replace(series, name=home.name)


def read_homes(
    target: str, statistic_ids: list[str] | None, timezone: str | None
) -> tuple[list[HomeSeries], int]:
    """Read the chosen statistics of one database as homes; also return the
    schema version."""
    chosen = database_homes([target], statistic_ids, timezone)
    return [read_home(home) for home in chosen], chosen[0].schema_version


def add_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--ha-db`` and ``--statistic-id`` of a command."""
    parser.add_argument(
        "--ha-db",
        action="append",
        metavar="PATH_OR_URL",
        help="a Home Assistant recorder database: the SQLite file "
        "(home-assistant_v2.db, opened read-only) or a SQLAlchemy URL "
        "(mysql+pymysql://…, postgresql://…); repeat it for several databases",
    )
    parser.add_argument(
        "--statistic-id",
        action="extend",
        nargs="+",
        metavar="SENSOR",
        help="with --ha-db: the energy meter or power sensor of each home, such "
        "as sensor.grid_energy (needed when a database has more than one; with "
        "several databases, each one's homes are those of these it holds)",
    )


def print_notes(homes: list[HomeSeries]) -> None:
    """One line per home read from a database: hours, and what was repaired."""
    for home in homes:
        notes = home.notes
        print(
            f"{home.name}: {home.valid_hours} hours with a value from "
            f"{home.start:%Y-%m-%d} to {home.end:%Y-%m-%d}; "
            f"{notes.get('meter_resets', 0)} meter resets or negative hours left out"
            + (
                f"; {notes['unit_jumps']} jumps of the sum left out"
                if notes.get("unit_jumps")
                else ""
            )
            + (
                f"; {notes['rescaled_hours']} hours recorded in another unit "
                "rescaled to the current one"
                if notes.get("rescaled_hours")
                else ""
            )
        )
