"""Point-in-time household vectors, built in SQL from the warehouse and the feature declarations.

:func:`build_snapshot` returns one row per household with at least one member on the as-of
date: the key columns of :data:`features.vectors.catalogue.KEYS` then every feature of
:data:`features.vectors.catalogue.FEATURES`, in that order, sorted by ``household_id``. What a
feature means, its window and its SQL are declared once in :mod:`features.vectors.catalogue`;
the rows its SQL aggregates come from :mod:`features.vectors.sources`, which enforces the
point-in-time rule. Here the declarations are assembled: one temp table per row source (the
aggregates of its features and helpers, per household), then one SELECT joining them.

The SQL is portable (window functions, CASE, standard date literals, no DuckDB-only syntax;
``tests/unit/test_feature_sql.py`` transpiles it to Spark SQL); each intermediate is a temp
table dropped at the end.

Example:
    >>> params = load_parameters(policies.PARAMS_DIR)  # doctest: +SKIP
    >>> table = build_snapshot(con, date(2024, 6, 30), params)  # doctest: +SKIP
    >>> write_snapshot(table, Path("data/snapshots"), date(2024, 6, 30), ids)  # doctest: +SKIP
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import duckdb
import pyarrow as pa

from core.months import add_months
from features.linkage.households import membership_as_of
from features.linkage.model import LOW_CONFIDENCE
from features.vectors.catalogue import DERIVED, FEATURES, ROW_SOURCES, Feature
from features.vectors.snapshots import (
    delivery_ids,
    read_snapshot_metadata,
    snapshot_id,
    snapshot_path,
    snapshot_report,
    snapshot_schema,
    write_snapshot,
)
from features.vectors.sources import HELPERS, Sources, area_sql
from policies.parameters import ParameterSet

__all__ = [
    "LOW_CONFIDENCE",
    "PENSION",
    "STANDARD",
    "SnapshotQuery",
    "build_snapshot",
    "delivery_ids",
    "read_snapshot_metadata",
    "snapshot_id",
    "snapshot_path",
    "snapshot_query",
    "snapshot_report",
    "snapshot_schema",
    "write_snapshot",
]

STANDARD = "dibao.standard_monthly"
PENSION = "economy.resident_basic_pension_monthly"

_BANDS = ((30, "<30"), (45, "30-44"), (60, "45-59"), (75, "60-74"))
_SQL_TYPE = {"int": "INTEGER", "float": "DOUBLE", "bool": "BOOLEAN", "category": "VARCHAR"}


@dataclass(frozen=True)
class SnapshotQuery:
    """The statements of one snapshot: temp tables in order, then the final SELECT."""

    tables: list[tuple[str, str]]
    """(temp table name, SELECT) in creation order."""
    select: str


def _value(f: Feature, col: str) -> str:
    """The snapshot value of a row-source feature from its aggregate (null: no rows)."""
    if f.nullable:
        return f"CAST({col} AS {_SQL_TYPE[f.dtype]})"
    if f.dtype == "bool":
        return f"(COALESCE({col}, 0) = 1)"
    return f"CAST(COALESCE({col}, {f.fill!r}) AS {_SQL_TYPE[f.dtype]})"


def _grouped(rows: str, columns: dict[str, str]) -> str:
    cols = ",\n".join(f"{sql} AS {name}" for name, sql in columns.items())
    return f"SELECT household_id,\n{cols}\nFROM ({rows}) x\nGROUP BY household_id"


def snapshot_query(
    as_of: date,
    members: str,
    standard: float,
    pension: float,
    pension_6m: float,
    tag: str = "",
) -> SnapshotQuery:
    """The SQL of the snapshot on ``as_of`` over a members table (pure: nothing is run).

    Args:
        as_of: the snapshot date.
        members: the table of members on ``as_of``
            (:func:`features.linkage.households.membership_as_of`).
        standard: ``dibao.standard_monthly`` on ``as_of``.
        pension: the resident basic pension on ``as_of``; ``pension_6m`` 6 months earlier.
        tag: a suffix that makes the temp table names unique.
    """
    src = Sources(as_of, members)
    context = {
        **src.context(),
        "standard": repr(float(standard)),
        "low_confidence": repr(LOW_CONFIDENCE),
    }
    names = {"hh": f"f_hh_{tag}"}
    tables = [(names["hh"], src.household_sql())]
    by_rows: dict[str, dict[str, str]] = {}
    for f in FEATURES:
        if f.rows != DERIVED:
            by_rows.setdefault(f.rows, {})[f.name] = f.render_sql(context)
    for rows in ROW_SOURCES:
        if rows == "township_rates":  # reads the township rates, built from the others
            names["area"] = f"f_area_{tag}"
            tables.append((names["area"], area_sql(names)))
        helpers = {k: v.format_map(context) for k, v in HELPERS.get(rows, {}).items()}
        names[rows] = f"f_{rows}_{tag}"
        tables.append((names[rows], _grouped(src.rows(names)[rows], {**by_rows[rows], **helpers})))
    return SnapshotQuery(tables, _final_sql(src, names, context, pension, pension_6m))


def _final_sql(
    src: Sources, names: dict[str, str], context: dict, pension: float, pension_6m: float
) -> str:
    """Join the row-source tables into one row per household, keys then features."""
    alias = {rows: f"s{i}" for i, rows in enumerate(ROW_SOURCES)}
    bands = " ".join(f"WHEN h.head_age < {a} THEN '{b}'" for a, b in _BANDS)

    def x(rows: str, col: str) -> str:
        return f"CAST(COALESCE({alias[rows]}.{col}, 0) AS DOUBLE)"

    inc = (
        f"{x('contributions', 'base_now')} + {x('unemployment_records', 'benefit_1m')} "
        f"+ {x('assistance_records', 'paid_1m')} + {float(pension)!r} * h.elderly"
    )
    inc_6m = (
        f"{x('contributions', 'base_6m')} + {x('unemployment_records', 'benefit_6m')} "
        f"+ {x('assistance_records', 'paid_6m')} + {float(pension_6m)!r} * h.elderly_6m"
    )
    inner = ",\n".join(
        f"{_value(f, f'{alias[f.rows]}.{f.name}')} AS {f.name}"
        for f in FEATURES
        if f.rows != DERIVED
    )
    outer = ", ".join(
        f"{f.render_sql(context) if f.rows == DERIVED else f.name} AS {f.name}" for f in FEATURES
    )
    joins = "\n".join(
        f"LEFT JOIN {names[rows]} {a} ON {a}.household_id = h.household_id"
        for rows, a in alias.items()
    )
    return f"""
        SELECT household_id, as_of, township_code, village_code, head_sex, head_age_band, hukou,
               {outer}
        FROM (
            SELECT h.household_id, {src.A} AS as_of, h.township_code, h.village_code,
                   COALESCE(h.head_sex, 'unknown') AS head_sex,
                   CASE WHEN h.head_age IS NULL THEN 'unknown' {bands} ELSE '75+' END
                       AS head_age_band,
                   CASE WHEN h.head_hukou = 'local_urban' THEN 'urban' ELSE 'rural' END AS hukou,
                   {inc} AS inc_now, {inc_6m} AS inc_6m,
                   {inc} - {x("assistance_records", "paid_1m")} AS inc_pre,
                   {inner}
            FROM {names["hh"]} h
            {joins}
        ) f
        ORDER BY household_id"""


def _number(params: ParameterSet, name: str, on: date) -> float:
    value = params.get(name, on)
    if isinstance(value, dict):  # a per-category value: take the overall one when there is one
        value = value.get("all", max(value.values()))
    return float(value)


def build_snapshot(con: duckdb.DuckDBPyConnection, as_of: date, params: ParameterSet) -> pa.Table:
    """The household vectors on ``as_of``: one row per household, keys then features.

    Args:
        con: an open warehouse (see :mod:`features.warehouse`); only temp tables are written.
        as_of: the snapshot date; nothing recorded or linked after it is read.
        params: the policy parameters (``dibao.standard_monthly`` and the resident basic
            pension are read on ``as_of``, the pension also 6 months earlier).

    Returns:
        A table with :func:`snapshot_schema`, sorted by ``household_id``.
    """
    standard = _number(params, STANDARD, as_of)
    pension = _number(params, PENSION, as_of)
    pension_6m = _number(params, PENSION, add_months(as_of, -6))
    tag = uuid.uuid4().hex[:10]
    members = membership_as_of(con, as_of, tag)
    query = snapshot_query(as_of, members, standard, pension, pension_6m, tag)
    created: list[str] = []
    try:
        for name, sql in query.tables:
            created.append(name)
            con.execute(f"CREATE TEMP TABLE {name} AS {sql}")
        table = con.sql(query.select).to_arrow_table()
    finally:
        for name in [members, *created]:
            con.execute(f"DROP TABLE IF EXISTS {name}")
    return table.cast(snapshot_schema())
