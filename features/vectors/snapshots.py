"""Snapshot files: where they live, how they are written and identified, and their report.

A snapshot is ``<snapshots>/<YYYY-MM-DD>/features.parquet`` with its provenance in the Parquet
key-value metadata (:func:`write_snapshot`, :func:`read_snapshot_metadata`).

Example:
    >>> snapshot_path(Path("data/snapshots"), date(2024, 6, 30)).as_posix()
    'data/snapshots/2024-06-30/features.parquet'
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from features.vectors.catalogue import FEATURE_SET_VERSION, FEATURES, KEYS, registry_json

_ARROW = {"float": pa.float64(), "int": pa.int32(), "bool": pa.bool_(), "category": pa.string()}
_KEY_ARROW = {"string": pa.string(), "date": pa.date32()}


def snapshot_schema() -> pa.Schema:
    """The Arrow schema of a snapshot: keys, then features in registry order."""
    fields = [pa.field(n, _KEY_ARROW[t], nullable=n != "household_id") for n, t, _ in KEYS]
    fields += [pa.field(f.name, _ARROW[f.dtype], nullable=f.nullable) for f in FEATURES]
    return pa.schema(fields)


def delivery_ids(con: duckdb.DuckDBPyConnection, as_of: date) -> list[str]:
    """The deliveries holding at least one row recorded by ``as_of`` (sorted)."""
    rows = con.execute(
        "SELECT DISTINCT delivery_id FROM person_records WHERE recorded_date <= ? "
        "ORDER BY delivery_id",
        [as_of],
    ).fetchall()
    return [r[0] for r in rows]


def snapshot_path(out_dir: Path, as_of: date) -> Path:
    """Where the snapshot of ``as_of`` lives: ``out_dir/<YYYY-MM-DD>/features.parquet``."""
    return Path(out_dir) / as_of.isoformat() / "features.parquet"


def write_snapshot(table: pa.Table, out_dir: Path, as_of: date, delivery_ids: list[str]) -> Path:
    """Write a snapshot with its provenance in the Parquet key-value metadata.

    Metadata keys: ``snapshot_id`` (:func:`snapshot_id`), ``feature_set_version``, ``as_of``,
    ``delivery_ids`` (JSON list) and ``registry`` (JSON: each feature's name, dtype, unit, group,
    window, sources). An existing snapshot of the same date is replaced atomically.
    """
    path = snapshot_path(out_dir, as_of)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        b"snapshot_id": snapshot_id(table, as_of, delivery_ids).encode(),
        b"feature_set_version": FEATURE_SET_VERSION.encode(),
        b"as_of": as_of.isoformat().encode(),
        b"delivery_ids": json.dumps(sorted(delivery_ids)).encode(),
        b"registry": json.dumps(registry_json(), ensure_ascii=False).encode(),
    }
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)
    return path


def snapshot_id(table: pa.Table, as_of: date, delivery_ids: list[str]) -> str:
    """``<YYYYMMDD>-<12 hex>``: the date, and a digest of the feature-set version, the deliveries
    used and the vectors themselves. Equal ids mean equal snapshots."""
    digest = hashlib.sha256()
    digest.update(FEATURE_SET_VERSION.encode())
    digest.update(json.dumps(sorted(delivery_ids)).encode())
    sink = pa.BufferOutputStream()
    plain = table.replace_schema_metadata(None)
    with pa.ipc.new_stream(sink, plain.schema) as writer:
        writer.write_table(plain)
    digest.update(sink.getvalue().to_pybytes())
    return f"{as_of:%Y%m%d}-{digest.hexdigest()[:12]}"


def read_snapshot_metadata(path: Path) -> dict:
    """The provenance of a written snapshot (decoded ``write_snapshot`` metadata)."""
    meta = pq.read_schema(path).metadata or {}
    return {
        "snapshot_id": meta[b"snapshot_id"].decode(),
        "feature_set_version": meta[b"feature_set_version"].decode(),
        "as_of": meta[b"as_of"].decode(),
        "delivery_ids": json.loads(meta[b"delivery_ids"]),
        "registry": json.loads(meta[b"registry"]),
    }


def snapshot_report(table: pa.Table) -> dict:
    """Rows, households, and per feature its null share and mean (bools: share true)."""
    rows = table.num_rows
    report: dict = {
        "rows": rows,
        "households": len(pc.unique(table["household_id"])) if rows else 0,
        "features": {},
    }
    for f in FEATURES:
        col = table[f.name]
        nulls = col.null_count / rows if rows else 0.0
        if f.dtype == "category" or rows == col.null_count:
            mean = None
        else:
            values = pc.cast(col, pa.float64()) if f.dtype == "bool" else col
            mean = pc.mean(values).as_py()
        report["features"][f.name] = {"null_share": nulls, "mean": mean}
    return report
