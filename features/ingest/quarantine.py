"""Quarantine: the rows of a delivery that break its contract, kept with a reason code and the raw
row (as JSON) as evidence, and a few masked examples of them for the report.

The ``quarantine`` table keeps the evidence; the report's examples never hold an ID number or a
name.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa

from core import idnumber
from features.ingest.checks import REASON_NAMES

EXAMPLES_PER_REASON = 3
"""Quarantined rows per reason shown (masked) in the report."""


def quarantine_rows(
    raw: pa.Table | pd.DataFrame,
    idx: np.ndarray,
    reason: np.ndarray,
    detail: np.ndarray,
    record_ids: np.ndarray,
    *,
    agency: str,
    delivery_id: str,
    file_name: str,
    at: datetime,
) -> pd.DataFrame:
    """The ``quarantine`` rows of the rows at positions ``idx`` of a delivery (table order).

    Args:
        raw: the delivery as read (the evidence is its raw values).
        idx: positions of the quarantined rows.
        reason: every row's reason code (see :class:`features.ingest.checks.CheckedRows`).
        detail: every row's column concerned.
        record_ids: every row's ``record_id`` as converted (kept only when it is text).
        agency: the delivery's agency.
        delivery_id: the delivery's id.
        file_name: the delivery's file name.
        at: the time of quarantine.
    """
    return pd.DataFrame(
        {
            "agency": agency,
            "delivery_id": delivery_id,
            "file_name": file_name,
            "row_no": (idx + 1).astype(np.int32),
            "record_id": pd.Series(record_ids[idx], dtype=object).map(
                lambda v: v if isinstance(v, str) else None
            ),
            "reason": REASON_NAMES[reason[idx]].astype(str),
            "detail": detail[idx].astype(str),
            "raw_json": _json_rows(raw, idx),
            "quarantined_at": pd.Series([at] * len(idx), dtype="datetime64[us, UTC]"),
        }
    )


def _json_rows(raw: pa.Table | pd.DataFrame, idx: np.ndarray) -> list[str]:
    if len(idx) == 0:
        return []
    if isinstance(raw, pa.Table):
        raw = raw.take(pa.array(idx)).to_pandas(date_as_object=True).astype(object)
        idx = np.arange(len(idx))

    def cell(v):
        if v is None or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
            return None
        return v.isoformat() if isinstance(v, date) else (v if isinstance(v, str) else str(v))

    sub = raw.iloc[idx]
    return [
        json.dumps({k: cell(v) for k, v in zip(sub.columns, row, strict=True)}, ensure_ascii=False)
        for row in sub.itertuples(index=False, name=None)
    ]


def masked_examples(quarantine: pd.DataFrame) -> list[dict]:
    """A few quarantined rows per reason, with the ID number and name masked."""
    out = []
    for _, group in quarantine.groupby("reason", sort=True):
        for row in group.head(EXAMPLES_PER_REASON).itertuples(index=False):
            raw = json.loads(row.raw_json)
            out.append(
                {
                    "row_no": int(row.row_no),
                    "record_id": row.record_id,
                    "reason": row.reason,
                    "column": row.detail,
                    "value": _masked_value(row.detail, raw.get(row.detail)),
                    "id_number": idnumber.mask_id(raw.get("id_number")),
                    "name": idnumber.mask_name(raw.get("name")),
                }
            )
    return out


def _masked_value(column: str, value):
    if column in ("id_number", "name", "birth_date"):
        return "masked"
    return value
