"""Who the visit lists reach: precision and recall at capacity by population group.

The lists are made as in :func:`training.evaluation.capacity_selection` (per township, top
``ceil(c × households)`` by score); then, for each value of each group column, we compare the
group's precision (positives among its listed households) and recall (its positives that were
listed) with the overall figures. Bootstrap intervals resample the group's households with
replacement (``n_boot`` times, percentile 95 %). A group is flagged ``few_positives`` when it has
fewer than 20 positives (its figures are noise) and ``flag_low_recall`` when its recall is below
0.8 × the overall recall.

``has_disability`` (a member with a disability certificate, ``disabled_members > 0``) is derived
when absent. Missing group values read ``unknown``.

Example:
    >>> report = capacity_by_group(test, "score", "label")  # doctest: +SKIP
    >>> report["flagged"][0]  # doctest: +SKIP
    {'group': 'head_age_band', 'value': '75+', 'capacity': 0.05, 'recall_ratio': 0.71, ...}
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from training.evaluation import CAPACITIES, _clean, capacity_selection

GROUPS = ("hukou", "head_sex", "head_age_band", "has_disability", "township_code")
MIN_POSITIVES = 20
LOW_RECALL_RATIO = 0.8


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return _clean(a / b)


def _precision_recall(y: np.ndarray, chosen: np.ndarray) -> tuple[float | None, float | None]:
    n_sel, n_pos = chosen.sum(), y.sum()
    hits = (y & chosen).sum()
    return (
        _clean(hits / n_sel) if n_sel else None,
        _clean(hits / n_pos) if n_pos else None,
    )


def _bootstrap(
    y: np.ndarray, chosen: np.ndarray, n_boot: int, rng: np.random.Generator
) -> tuple[list, list]:
    """Percentile 95 % intervals of precision and recall over resampled rows."""
    n = len(y)
    if n == 0 or n_boot <= 0:
        return [None, None], [None, None]
    idx = rng.integers(0, n, size=(n_boot, n))
    yy, cc = y[idx], chosen[idx]
    hits = (yy & cc).sum(axis=1).astype(float)
    sel, pos = cc.sum(axis=1).astype(float), yy.sum(axis=1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        prec = np.where(sel > 0, hits / np.where(sel > 0, sel, 1), np.nan)
        rec = np.where(pos > 0, hits / np.where(pos > 0, pos, 1), np.nan)

    def ci(values: np.ndarray) -> list:
        values = values[~np.isnan(values)]
        if len(values) == 0:
            return [None, None]
        return [_clean(np.quantile(values, 0.025)), _clean(np.quantile(values, 0.975))]

    return ci(prec), ci(rec)


def group_values(frame: pd.DataFrame, group: str) -> pd.Series:
    """The group column as text (``has_disability`` derived from ``disabled_members``)."""
    if group == "has_disability" and group not in frame.columns:
        values = pd.to_numeric(frame["disabled_members"].astype("object"), errors="coerce") > 0
    else:
        values = frame[group]
    return values.astype("object").where(values.notna(), "unknown").astype(str)


def capacity_by_group(
    frame: pd.DataFrame,
    score_col: str,
    label_col: str,
    groups: Sequence[str] = GROUPS,
    capacities: Sequence[float] = CAPACITIES,
    n_boot: int = 200,
    seed: int = 0,
    list_group_col: str | None = "township_code",
) -> dict:
    """Precision and recall at each capacity for every value of every group.

    Args:
        frame: one row per household (and date) with the score, the 0/1 label (NaN rows are
            dropped), ``household_id``, ``township_code`` and the group columns.
        list_group_col: how lists are made (per township by default; None: county-wide).

    Returns:
        JSON-ready ``{"summary", "capacities", "overall": {"0.05": {precision, recall}},
        "groups": [record...], "flagged": [record...]}``; a record holds ``group, value,
        capacity, n, positives, selected, precision, recall, precision_ratio, recall_ratio,
        precision_ci, recall_ci, few_positives, flag_low_recall``.
    """
    rows = frame.loc[frame[label_col].notna()].reset_index(drop=True)
    y = rows[label_col].to_numpy(dtype=float) == 1
    score = rows[score_col].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    values = {g: group_values(rows, g).to_numpy() for g in groups}
    overall, records = {}, []
    for c in capacities:
        chosen = capacity_selection(rows, score, c, list_group_col)
        prec_all, rec_all = _precision_recall(y, chosen)
        overall[f"{c:g}"] = {"precision": prec_all, "recall": rec_all}
        for g in groups:
            for v in sorted(set(values[g])):
                m = values[g] == v
                prec, rec = _precision_recall(y[m], chosen[m])
                p_ci, r_ci = _bootstrap(y[m], chosen[m], n_boot, rng)
                rec_ratio = _ratio(rec, rec_all)
                records.append(
                    {
                        "group": g,
                        "value": v,
                        "capacity": float(c),
                        "n": int(m.sum()),
                        "positives": int(y[m].sum()),
                        "selected": int(chosen[m].sum()),
                        "precision": prec,
                        "recall": rec,
                        "precision_ratio": _ratio(prec, prec_all),
                        "recall_ratio": rec_ratio,
                        "precision_ci": p_ci,
                        "recall_ci": r_ci,
                        "few_positives": bool(y[m].sum() < MIN_POSITIVES),
                        "flag_low_recall": bool(
                            rec_ratio is not None and rec_ratio < LOW_RECALL_RATIO
                        ),
                    }
                )
    flagged = [r for r in records if r["flag_low_recall"]]
    summary = (
        f"{len(flagged)} of {len(records)} group-capacity cells have recall below "
        f"{LOW_RECALL_RATIO:g} x the overall recall ({sum(r['few_positives'] for r in flagged)} "
        f"of them with fewer than {MIN_POSITIVES} positives)."
    )
    return {
        "summary": summary,
        "capacities": [float(c) for c in capacities],
        "overall": overall,
        "groups": records,
        "flagged": flagged,
    }
