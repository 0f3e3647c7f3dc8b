"""Contract checks: every row of a delivery converted to its contract's types and given the first
reason it fails (:data:`REASONS`), and content hashes that tell duplicates from conflicts.

Pure: frames and arrays in, frames and arrays out; no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from core import idnumber
from core.contracts import Column, Contract

REASONS: dict[str, str] = {
    "bad_type": "a value cannot be read as its column's type",
    "missing_value": "a required value is empty",
    "not_allowed": "a value is not one of its column's allowed values",
    "out_of_range": "a number is outside its column's range",
    "bad_code": "a division code is not 12 digits",
    "impossible_date": "birth date after the event or before 1880, or event after its recording",
    "after_extract": "event or recorded date after the delivery's extract date",
    "wrong_delivery": "delivery_id or extract_date differs from the file's delivery",
    "duplicate_record": "exact copy of an accepted record (same record key and content)",
    "conflicting_record": "record key already used by a different record",
}
"""Quarantine reason codes, in the order rows are checked (a row gets its first failing reason)."""

VILLAGE = re.compile(r"^\d{12}$")
MIN_DATE = date(idnumber.MIN_BIRTH_YEAR, 1, 1)
_HASH_SKIP = ("delivery_id", "extract_date")


_FAST = {
    "string": (pa.types.is_string, pa.types.is_large_string),
    "date": (pa.types.is_date32, pa.types.is_date64),
    "int": (pa.types.is_integer,),
    "float": (pa.types.is_floating, pa.types.is_integer),
    "bool": (pa.types.is_boolean,),
}


def _coerce(col: Column, values: pa.ChunkedArray | pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Values converted to the column's type, and a mask of values that could not be.

    Strings come back as objects, dates as ``datetime64`` (NaT for empty), numbers as floats
    (NaN for empty). Arrow columns already of the right type take a fast path.
    """
    if isinstance(values, pa.ChunkedArray):
        if any(test(values.type) for test in _FAST[col.dtype]):
            if col.dtype == "date":
                out = pd.Series(values.cast(pa.timestamp("s")).to_pandas())
            elif col.dtype in ("int", "float"):
                out = pd.Series(values.cast(pa.float64()).to_numpy(zero_copy_only=False))
            elif col.dtype == "bool":
                out = pd.Series(values.to_pylist(), dtype=object)  # True, False or None
            else:
                out = pd.Series(values.cast(pa.string()).to_pandas())  # pandas' Arrow strings
            return out, np.zeros(len(out), bool)
        values = pd.Series(values.to_pylist(), dtype=object)
    present = values.notna().to_numpy()
    if col.dtype == "string":
        out = values.map(lambda v: v if isinstance(v, str) or v is None else str(v))
        return out.astype(object), np.zeros(len(values), bool)
    if col.dtype == "date":
        text = values.map(lambda v: v.isoformat()[:10] if isinstance(v, date) else v)
        parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        return parsed, present & parsed.isna().to_numpy()
    if col.dtype in ("int", "float"):
        text = values.map(lambda v: v.strip() if isinstance(v, str) else v)
        nums = pd.to_numeric(text, errors="coerce").astype(float)
        bad = present & nums.isna().to_numpy()
        if col.dtype == "int":
            frac = (nums.notna() & (nums != np.floor(nums.fillna(0)))).to_numpy()
            bad |= frac
            nums = nums.where(~frac)
        return nums, bad
    if col.dtype == "bool":
        mapping = {True: True, False: False, "true": True, "false": False, "1": True, "0": False}
        out = values.map(lambda v: mapping.get(v.lower() if isinstance(v, str) else v))
        return out, present & out.isna().to_numpy()
    raise AssertionError(col.dtype)


@dataclass
class CheckedRows:
    """The rows of one delivery after :func:`check_rows`.

    Attributes:
        frame: the converted values, one column per contract column.
        reason: 0 for an accepted row, else ``1 +`` the index of its first reason in
            :data:`REASONS` (:data:`REASON_NAMES` turns it back into the name).
        detail: the column concerned.
    """

    frame: pd.DataFrame
    reason: np.ndarray
    detail: np.ndarray


_CODE = {name: i + 1 for i, name in enumerate(REASONS)}
REASON_NAMES = np.array([""] + list(REASONS), dtype=object)
"""Reason code -> name (code 0, an accepted row: the empty name)."""


def flag_rows(
    reason: np.ndarray, detail: np.ndarray, mask: np.ndarray, code: str, what: str
) -> None:
    """Give the rows in ``mask`` that have no reason yet the reason ``code`` (column ``what``)."""
    new = mask & (reason == 0)
    reason[new] = _CODE[code]
    detail[new] = what


def check_rows(
    contract: Contract, raw: pa.Table | pd.DataFrame, delivery_id: str, extract: date
) -> CheckedRows:
    """Convert every contract column and find each row's first problem (pure; no I/O)."""
    n = len(raw)
    present = set(raw.column_names if isinstance(raw, pa.Table) else raw.columns)
    reason = np.zeros(n, dtype=np.int8)  # 0: accepted, else 1 + index in REASONS
    detail = np.full(n, "", dtype=object)
    out = pd.DataFrame(index=pd.RangeIndex(n))
    for col in contract.all_columns:
        if col.name in present:
            values = raw.column(col.name) if isinstance(raw, pa.Table) else raw[col.name]
        else:
            values = pd.Series([None] * n, dtype=object)
        conv, bad = _coerce(col, values)
        flag_rows(reason, detail, bad, "bad_type", col.name)
        out[col.name] = conv
    for col in contract.all_columns:
        v = out[col.name]
        if not col.nullable:
            flag_rows(reason, detail, v.isna().to_numpy(), "missing_value", col.name)
        if col.allowed:
            flag_rows(
                reason,
                detail,
                (v.notna() & ~v.isin(col.allowed)).to_numpy(),
                "not_allowed",
                col.name,
            )
        if col.minimum is not None or col.maximum is not None:
            num = pd.to_numeric(v, errors="coerce")
            low = num < col.minimum if col.minimum is not None else False
            high = num > col.maximum if col.maximum is not None else False
            flag_rows(reason, detail, np.asarray(low | high, bool), "out_of_range", col.name)
    for name in ("village_code", "origin_village_code"):
        if name in out:
            v = out[name].astype("str")
            ok = v.str.fullmatch(VILLAGE.pattern).fillna(False).to_numpy(dtype=bool)
            flag_rows(reason, detail, out[name].notna().to_numpy() & ~ok, "bad_code", name)
    ev, rec = out["event_date"], out["recorded_date"]
    if "birth_date" in out:
        born = out["birth_date"]
        bad = (born > ev) | (born < pd.Timestamp(MIN_DATE))
        flag_rows(reason, detail, bad.to_numpy(dtype=bool), "impossible_date", "birth_date")
    flag_rows(reason, detail, (ev > rec).to_numpy(dtype=bool), "impossible_date", "event_date")
    limit = pd.Timestamp(extract)
    flag_rows(reason, detail, (rec > limit).to_numpy(dtype=bool), "after_extract", "recorded_date")
    flag_rows(reason, detail, (ev > limit).to_numpy(dtype=bool), "after_extract", "event_date")
    flag_rows(
        reason,
        detail,
        (out["delivery_id"] != delivery_id).to_numpy(),
        "wrong_delivery",
        "delivery_id",
    )
    wrong_extract = out["extract_date"].notna() & (out["extract_date"] != limit)
    flag_rows(reason, detail, wrong_extract.to_numpy(dtype=bool), "wrong_delivery", "extract_date")
    return CheckedRows(out, reason, detail)


def row_hashes(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """A 64-bit content hash of each row over ``columns`` (tells duplicates from conflicts).

    The delivery columns are left out, so a record repeated in a later delivery is a duplicate.
    """
    cols = [c for c in columns if c not in _HASH_SKIP]
    part = frame[cols].copy()
    for c in cols:  # text read from CSV: objects that are str or None
        if part[c].dtype == object:
            part[c] = part[c].astype("str")
    hashes = pd.util.hash_pandas_object(part, index=False).to_numpy(np.uint64)
    return np.char.mod("%016x", hashes).astype(object)
