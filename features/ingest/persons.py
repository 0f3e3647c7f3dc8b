"""Person records: the personal identifiers of accepted rows, with ID numbers turned into
pseudonymous person keys (``person_records``), and the typing of rows into warehouse tables.

A valid (or converted legacy) ID number becomes a person key and is not stored; an ID number that
cannot be normalized is kept (``id_invalid``) for probabilistic linkage and never used as a key.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from core import idnumber
from features import warehouse
from features.pseudonym import Pseudonymizer

PERSON_FIELDS = [
    pa.field(n, t)
    for n, t in [
        ("agency", pa.string()), ("record_id", pa.string()), ("delivery_id", pa.string()),
        ("event_date", pa.date32()), ("recorded_date", pa.date32()), ("name", pa.string()),
        ("birth_date", pa.date32()), ("sex", pa.string()), ("village_code", pa.string()),
        ("entity_key", pa.string()), ("id_status", pa.string()), ("person_key", pa.string()),
        ("id_invalid", pa.string()), ("row_hash", pa.string()),
    ]
]  # fmt: skip
"""Columns of ``person_records``, in table order."""


class PersonRecords:
    """Makes the ``person_records`` rows of accepted rows, normalizing each raw ID once."""

    def __init__(self, pseudonymizer: Pseudonymizer):
        self.keys = pseudonymizer
        self._cache: dict[str, tuple[str, str | None]] = {}  # raw ID -> (status, person key)

    def rows(self, acc: pd.DataFrame, agency: str) -> pd.DataFrame:
        """The person_records rows of accepted rows: normalized IDs turned into keys."""
        raw_ids = acc["id_number"].reset_index(drop=True)
        raw_ids = raw_ids.astype(object).where(raw_ids.notna(), None)
        cache = self._cache
        for v in pd.unique(raw_ids.dropna()):
            if v not in cache:
                nid = idnumber.normalize(v)
                key = self.keys.person_key(nid.value) if nid.value is not None else None
                cache[v] = (nid.raw_status.value, key)
        present = pd.unique(raw_ids.dropna())
        status = raw_ids.map({v: cache[v][0] for v in present}).astype(object)
        status = status.where(status.notna(), "missing")
        person_key = raw_ids.map({v: cache[v][1] for v in present if cache[v][1] is not None})
        usable = person_key.notna()
        entity = warehouse.ENTITY_KEYS.get(agency, "")
        n = len(acc)
        none = pd.Series([None] * n, dtype=object)

        def col(name: str) -> pd.Series:
            return acc[name].reset_index(drop=True) if name in acc else none

        return pd.DataFrame(
            {
                "agency": pd.Series([agency] * n, dtype=object),
                "record_id": col("record_id"),
                "delivery_id": col("delivery_id"),
                "event_date": col("event_date"),
                "recorded_date": col("recorded_date"),
                "name": col("name"),
                "birth_date": col("birth_date"),
                "sex": col("sex"),
                "village_code": col("village_code"),
                "entity_key": (agency + ":" + col(entity).astype(str)) if entity else none,
                "id_status": status.astype(object),
                "person_key": person_key.astype(object),
                "id_invalid": raw_ids.where(~usable & raw_ids.notna(), None).astype(object),
            }
        )


def _arrow_column(values: pd.Series, type_: pa.DataType) -> pa.Array:
    if pa.types.is_date32(type_):
        return pa.array(pd.to_datetime(values), type=pa.timestamp("s"), from_pandas=True).cast(
            type_
        )
    if pa.types.is_integer(type_):
        return pa.array(pd.to_numeric(values).astype("Int64"), type=type_, from_pandas=True)
    if pa.types.is_floating(type_):
        return pa.array(pd.to_numeric(values), type=type_, from_pandas=True)
    if pa.types.is_boolean(type_):
        return pa.array(values.astype(object).where(values.notna(), None).tolist(), type=type_)
    return pa.array(values, type=type_, from_pandas=True)


def typed_table(frame: pd.DataFrame, fields: list[pa.Field]) -> pa.Table:
    """The columns ``fields`` of a frame as an Arrow table of exactly those types."""
    arrays = [_arrow_column(frame[f.name], f.type) for f in fields]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))
