"""Clerical review for ``link --table --review N``: the N pairs the model is least sure of, side by
side with each field's agreement level, in a file a person marks (column ``match``: 1 or 0) and
feeds back with ``--labels``.

The file holds names and birth dates: it is written owner-only (0600) into the workspace's
owner-only review folder (``data/reports/review/``, 0700) under a UTC-stamped name
(:mod:`core.personal_files`), audited by the caller and removed by ``outreach purge`` after
``retention.personal_files_days``; nothing of it goes to the report or the log.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd

from core.personal_files import write_owner_only
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


REVIEW_PREFIX = "link-review"


def write_review(
    folder: Path,
    frames: list[pd.DataFrame],
    maps: list[TableMap],
    pairs,
    model,
    n: int,
    suffix: str = ".csv",
    at: dt.datetime | None = None,
) -> tuple[Path, int]:
    """Write the review file into ``folder`` (0700): ``link-review-<UTC time>-<hex>`` with
    ``suffix`` ``.csv`` (UTF-8 with a byte-order mark) or ``.xlsx``, 0600; ``(path, pairs)``."""
    rows = review_table(frames, maps, pairs, model, n)
    if suffix == ".xlsx":
        buf = io.BytesIO()
        rows.astype(object).where(rows.notna(), "").to_excel(buf, index=False)
        data = buf.getvalue()
    elif suffix == ".csv":
        data = rows.to_csv(index=False).encode("utf-8-sig")
    else:
        raise ValueError(f"a review file is .csv or .xlsx, not {suffix}")
    path = write_owner_only(folder, REVIEW_PREFIX, suffix, data, at or dt.datetime.now(dt.UTC))
    return path, len(rows)
