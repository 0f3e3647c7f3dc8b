"""Any pair of warehouse records, scored as the last linkage run would score them: the model it
used, the term frequencies it computed, and the records prepared as it prepared them.

``outreach link`` keeps, after scoring (:func:`save_run`): ``meta.link_model``, the Splink
settings JSON it scored with (the trained m and u of every level, and the run's prior), and
``link_term_frequencies``, Splink's term-frequency tables of that run. :func:`explain_pair`
then reads two records of ``person_records``, prepares their comparison columns as the run did
(``features.linkage.resolve``: normalized name, surname, pinyin, ``person_key`` or the single
corrected ID of an invalid one, village as address, entity key) and returns the waterfall
(:mod:`features.linkage.waterfall`).

A record is named by its key ``<agency>:<record_id>``, the key the run gave it; no name or ID
number names a record. The run compared a record without a usable ID with every profile of a
person known by ID; here the two records are compared with each other, on the same model.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import duckdb

from core.contracts import CONTRACTS
from features import warehouse
from features.linkage.comparisons import normalize_name
from features.linkage.names import name_pinyin
from features.linkage.waterfall import Waterfall, find_levels, waterfall

RECORD_KEY = re.compile(r"^([a-z_]{1,40}):([A-Za-z0-9_.\-]{1,64})$")
"""``<agency>:<record_id>``."""
MODEL_KEY = "link_model"
"""The ``meta`` key of the run's model."""


class RecordKeyError(ValueError):
    """A text that is not a record key (``<agency>:<record_id>``)."""


class UnknownRecord(LookupError):
    """A well-formed key the warehouse holds no record for."""


class NoRunModel(LookupError):
    """The warehouse has no model of a linkage run (link has not run since it kept one)."""


@dataclasses.dataclass(frozen=True)
class Record:
    """One record's comparison columns (as the run prepared them) and its link."""

    key: str
    agency: str
    columns: dict[str, Any]
    name: str | None
    person_id: str | None
    method: str | None
    link_probability: float | None


@dataclasses.dataclass(frozen=True)
class PairExplanation:
    """Two records and the waterfall of their match weight."""

    left: Record
    right: Record
    waterfall: Waterfall
    levels: dict[str, int]


def parse_key(text: str) -> tuple[str, str]:
    """``(agency, record_id)`` of a record key.

    Raises:
        RecordKeyError: not ``<agency>:<record_id>`` of a known agency.
    """
    found = RECORD_KEY.match(text.strip())
    if found is None or found.group(1) not in CONTRACTS:
        raise RecordKeyError("not a record key (<agency>:<record id>)")
    return found.group(1), found.group(2)


def save_run(con: duckdb.DuckDBPyConnection, model: dict[str, Any], linker: Any) -> None:
    """Keep the model a run scored with and the term-frequency tables of its ``linker`` (Splink's
    own, as ``predict`` used them; call it before Splink's tables are dropped)."""
    con.execute(
        "INSERT OR REPLACE INTO meta VALUES (?, ?)", [MODEL_KEY, json.dumps(model, sort_keys=True)]
    )
    con.execute("DELETE FROM link_term_frequencies")
    for column in _tf_columns(model):
        table = linker.table_management.compute_tf_table(column).physical_name
        con.execute(
            f"""INSERT INTO link_term_frequencies
                SELECT '{column}', CAST("{column}" AS VARCHAR), "tf_{column}" FROM {table}
                WHERE "{column}" IS NOT NULL"""
        )


def _tf_columns(model: dict[str, Any]) -> list[str]:
    return sorted({
        lv["tf_adjustment_column"]
        for comp in model["comparisons"]
        for lv in comp["comparison_levels"]
        if lv.get("tf_adjustment_column")
    })  # fmt: skip


def run_model(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The model of the last run.

    Raises:
        NoRunModel: none kept.
    """
    row = warehouse.fetch_one(con, "SELECT value FROM meta WHERE key = ?", [MODEL_KEY])
    if row is None:
        raise NoRunModel("no linkage run has kept its model: run `outreach link`")
    return json.loads(row[0])


def read_record(con: duckdb.DuckDBPyConnection, key: str) -> Record:
    """One record's comparison columns and link.

    Raises:
        RecordKeyError: a malformed key.
        UnknownRecord: no such record.
    """
    agency, record_id = parse_key(key)
    row = warehouse.fetch_one(
        con,
        """SELECT r.name, r.birth_date, r.sex, r.village_code, r.entity_key, r.person_key,
                  r.id_invalid, l.person_id, l.method, l.match_probability
           FROM person_records r
           LEFT JOIN links l ON l.agency = r.agency AND l.record_id = r.record_id
           WHERE r.agency = ? AND r.record_id = ? LIMIT 1""",
        [agency, record_id],
    )
    if row is None:
        raise UnknownRecord("no record with this key")
    name, birth, sex, village, entity, person_key, invalid, person_id, method, p = row
    id_fix = None
    if person_key is None and invalid is not None:
        fix = warehouse.fetch_one(
            con,
            """SELECT CASE WHEN count(DISTINCT k.person_key) = 1 THEN min(k.person_key) END
               FROM id_candidates c
               LEFT JOIN (SELECT DISTINCT person_key FROM person_records
                          WHERE person_key IS NOT NULL) k ON k.person_key = c.candidate_key
               WHERE c.id_invalid = ?""",
            [invalid],
        )
        id_fix = fix[0] if fix else None
    norm = normalize_name(name)
    columns = {
        "person_key": person_key, "id_fix": id_fix, "name_norm": norm,
        "surname": norm[:1] if norm else None, "name_py": name_pinyin(norm),
        "birth_date": birth, "sex": sex, "address": village, "entity_key": entity,
    }  # fmt: skip
    return Record(f"{agency}:{record_id}", agency, columns, name, person_id, method,
                  None if p is None else float(p))  # fmt: skip


def term_frequencies(
    con: duckdb.DuckDBPyConnection, model: dict[str, Any], left: Record, right: Record
) -> dict[str, tuple[float | None, float | None]]:
    """The run's term frequency of each adjusted column's two values (``None``: not seen)."""
    out = {}
    for column in _tf_columns(model):
        pair = []
        for rec in (left, right):
            value = rec.columns.get(column)
            row = None
            if value is not None:
                row = warehouse.fetch_one(
                    con,
                    "SELECT tf FROM link_term_frequencies WHERE column_name = ? AND value = ?",
                    [column, str(value)],
                )
            pair.append(None if row is None else float(row[0]))
        out[column] = (pair[0], pair[1])
    return out


def explain_pair(con: duckdb.DuckDBPyConnection, key_a: str, key_b: str) -> PairExplanation:
    """The waterfall of two records (see the module docstring).

    Raises:
        RecordKeyError, UnknownRecord, NoRunModel: as their names say; also when both keys
            name one record (:class:`RecordKeyError`).
    """
    if parse_key(key_a) == parse_key(key_b):  # both checked before any lookup
        raise RecordKeyError("a pair needs two different records")
    left, right = read_record(con, key_a), read_record(con, key_b)
    if left.key == right.key:
        raise RecordKeyError("a pair needs two different records")
    model = run_model(con)
    levels = find_levels(model, left.columns, right.columns)
    tf = term_frequencies(con, model, left, right)
    return PairExplanation(left, right, waterfall(model, levels, tf), levels)
