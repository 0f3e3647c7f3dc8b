"""Clerical review for ``link --table --review N``: the N pairs the model is least sure of, side by
side with each field's agreement level, in a file a person marks (column ``match``: 1 or 0) and
feeds back with ``--labels``.

The file holds names and birth dates: it is written owner-only (0600), like every export of
personal data, and nothing of it goes to the report or the log.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from features.linkage.model import MATCH_THRESHOLD
from features.linkage.table_prep import TableMap

THRESHOLD_WEIGHT = math.log2(MATCH_THRESHOLD / (1 - MATCH_THRESHOLD))
"""The match weight at the threshold: review takes the pairs closest to it."""


def uncertain_pairs(pairs: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` scored pairs whose match weight is closest to the threshold's (ties by record)."""
    w = pairs["match_weight"].replace([np.inf, -np.inf], np.nan)
    scored = pairs[w.notna()].assign(_d=(w[w.notna()] - THRESHOLD_WEIGHT).abs())
    return scored.sort_values(["_d", "uid_l", "uid_r"]).head(n).drop(columns="_d")


def _level_weights(model: dict | None) -> dict[str, list[tuple[float, str]]]:
    """Each comparison's levels as (match weight, label); the null level weighs 0."""
    out: dict[str, list[tuple[float, str]]] = {}
    for comp in (model or {}).get("comparisons", []):
        levels = []
        for lv in comp["comparison_levels"]:
            if lv.get("is_null_level"):
                levels.append((0.0, "null"))
                continue
            m, u = lv.get("m_probability"), lv.get("u_probability")
            if m and u:
                levels.append((math.log2(m / u), lv.get("label_for_charts", "")))
        out[comp["output_column_name"]] = levels
    return out


def _label_of(weight: float, levels: list[tuple[float, str]]) -> str:
    """The level whose weight is nearest a pair's (Splink reports weights, not level numbers;
    a term-frequency adjustment is kept apart, so the nearest is the level)."""
    if not levels or weight != weight:
        return ""
    return min(levels, key=lambda lv: abs(lv[0] - weight))[1]


def review_table(
    frames: list[pd.DataFrame], maps: list[TableMap], pairs: pd.DataFrame, model, n: int
) -> pd.DataFrame:
    """The review rows: ``record_l``, ``record_r``, the probability and weight, each mapped
    field's two values and each comparison's level, and an empty ``match`` column to mark."""
    pick = uncertain_pairs(pairs, n)
    offsets = np.cumsum([0] + [len(f) for f in frames])
    where = np.searchsorted(offsets, np.arange(offsets[-1]), side="right") - 1

    def values(uids: np.ndarray, field: str, column_of) -> list:
        out = []
        for u in uids:
            t = int(where[u])
            col = column_of(maps[t])
            out.append(None if col is None else frames[t].iloc[int(u - offsets[t])][col])
        return out

    rows = pd.DataFrame(
        {
            "record_l": pick["uid_l"].to_numpy(np.int64),
            "record_r": pick["uid_r"].to_numpy(np.int64),
            "match_probability": pick["match_probability"].round(4).to_numpy(),
            "match_weight": pick["match_weight"].round(2).to_numpy(),
        }
    )
    fields = sorted({f for m in maps for f in m.fields})
    for f in fields:
        for side in ("l", "r"):
            rows[f"{f}_{side}"] = values(
                rows[f"record_{side}"].to_numpy(), f, lambda m, f=f: m.fields.get(f)
            )
    for i in range(max(len(m.other) for m in maps)):
        for side in ("l", "r"):
            rows[f"other_{i + 1}_{side}"] = values(
                rows[f"record_{side}"].to_numpy(),
                "other",
                lambda m, i=i: m.other[i] if i < len(m.other) else None,
            )
    for comp, levels in _level_weights(model).items():
        if f"mw_{comp}" in pick:
            rows[f"agreement_{comp}"] = [_label_of(float(w), levels) for w in pick[f"mw_{comp}"]]
    rows["match"] = ""
    return rows


def _owner_only_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)


def write_review(
    path: Path, frames: list[pd.DataFrame], maps: list[TableMap], pairs, model, n: int
) -> Path:
    """Write the review file (``.csv`` in UTF-8 with a byte-order mark, or ``.xlsx``), 0600."""
    rows = review_table(frames, maps, pairs, model, n)
    if path.suffix == ".xlsx":
        buf = io.BytesIO()
        rows.astype(object).where(rows.notna(), "").to_excel(buf, index=False)
        data = buf.getvalue()
    else:
        data = rows.to_csv(index=False).encode("utf-8-sig")
    _owner_only_write(path, data)
    return path
