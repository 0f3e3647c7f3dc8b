"""Metrics of a score against a 0/1 label, including precision and recall at visit capacity.

Capacity is the share of households a township can visit. For capacity ``c`` the list of a
township holds its top ``ceil(c × households in the township)`` by score (ties broken by
``household_id``, ascending), and the township lists are pooled (:func:`capacity_selection`);
the county-wide figure takes the top ``ceil(c × all households)`` instead. When the frame holds
several as-of dates, lists are made per date (and township).

Probability metrics (Brier, ECE, calibration slope) are reported only for scores in [0, 1].

Example:
    >>> evaluate_scores(frame, {"model": p, "rules": r}, "label")  # doctest: +SKIP
    {'n_rows': 18412, 'n_positive': 502, 'prevalence': 0.027, 'scores': {'model': {...}}}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

CAPACITIES = (0.01, 0.02, 0.05, 0.10)
ECE_BINS = 20
_EPS = 1e-6


def _clean(value: float) -> float | None:
    """A float for JSON: NaN and infinities become None."""
    value = float(value)
    return value if math.isfinite(value) else None


def roc_auc(label: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC (NaN when only one class is present)."""
    y = np.asarray(label, dtype=float)
    if y.min(initial=1) == y.max(initial=0):
        return float("nan")
    return float(roc_auc_score(y, np.asarray(score, dtype=float)))


def pr_auc(label: np.ndarray, score: np.ndarray) -> float:
    """Average precision (NaN without a positive)."""
    y = np.asarray(label, dtype=float)
    if y.sum() == 0:
        return float("nan")
    return float(average_precision_score(y, np.asarray(score, dtype=float)))


def brier(label: np.ndarray, p: np.ndarray) -> float:
    """Mean squared difference between probability and outcome."""
    y, p = np.asarray(label, dtype=float), np.asarray(p, dtype=float)
    return float(np.mean((p - y) ** 2))


def ece(label: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> float:
    """Expected calibration error over ``bins`` equal-mass bins of ``p`` (stable sort):
    the row-weighted mean of ``|mean p - observed rate|``."""
    y, p = np.asarray(label, dtype=float), np.asarray(p, dtype=float)
    if len(p) == 0:
        return float("nan")
    order = np.argsort(p, kind="stable")
    total = 0.0
    for idx in np.array_split(order, min(bins, len(p))):
        total += len(idx) * abs(p[idx].mean() - y[idx].mean())
    return float(total / len(p))


RELIABILITY_BINS = 10


def reliability(label: np.ndarray, p: np.ndarray, bins: int = RELIABILITY_BINS) -> list[dict]:
    """The reliability diagram's points: ``bins`` equal-mass bins of ``p`` (stable sort), each
    ``{"mean_score", "observed", "n"}`` (mean predicted probability, observed rate, rows)."""
    y, p = np.asarray(label, dtype=float), np.asarray(p, dtype=float)
    if len(p) == 0:
        return []
    order = np.argsort(p, kind="stable")
    return [
        {"mean_score": float(p[idx].mean()), "observed": float(y[idx].mean()), "n": len(idx)}
        for idx in np.array_split(order, min(bins, len(p)))
    ]


def calibration_slope(
    label: np.ndarray, p: np.ndarray, iterations: int = 50
) -> tuple[float, float]:
    """Slope and intercept of the logistic regression of the label on ``logit(p)``
    (unpenalized, Newton-Raphson). A calibrated score has slope 1 and intercept 0."""
    y, p = np.asarray(label, dtype=float), np.asarray(p, dtype=float)
    if len(y) == 0 or y.min() == y.max():
        return float("nan"), float("nan")
    x = np.log(np.clip(p, _EPS, 1 - _EPS) / (1 - np.clip(p, _EPS, 1 - _EPS)))
    X = np.column_stack([np.ones_like(x), x])
    beta = np.array([0.0, 1.0])
    for _ in range(iterations):
        eta = np.clip(X @ beta, -30, 30)
        mu = 1 / (1 + np.exp(-eta))
        w = np.maximum(mu * (1 - mu), 1e-12)
        hess = X.T @ (X * w[:, None])
        step = np.linalg.solve(hess + 1e-9 * np.eye(2), X.T @ (y - mu))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    return float(beta[1]), float(beta[0])


def _list_keys(frame: pd.DataFrame, group_col: str | None) -> list[str]:
    keys = []
    if "as_of" in frame.columns and frame["as_of"].nunique() > 1:
        keys.append("as_of")
    if group_col is not None:
        keys.append(group_col)
    return keys


def capacity_selection(
    frame: pd.DataFrame, score: np.ndarray, capacity: float, group_col: str | None = "township_code"
) -> np.ndarray:
    """Boolean mask of the rows on the visit lists at ``capacity``.

    Within each group (township; and as-of date when several), the top
    ``ceil(capacity × rows in the group)`` by score, ties broken by ``household_id`` ascending.
    ``group_col=None`` makes one county-wide list.
    """
    n = len(frame)
    order_frame = pd.DataFrame(
        {
            "score": np.asarray(score, dtype=float),
            "hid": frame["household_id"].astype(str).to_numpy()
            if "household_id" in frame.columns
            else np.arange(n).astype(str),
            "pos": np.arange(n),
        }
    )
    keys = _list_keys(frame, group_col)
    for k in keys:
        order_frame[k] = frame[k].astype(str).fillna("").to_numpy()
    order_frame["score"] = order_frame["score"].fillna(-np.inf)
    ranked = order_frame.sort_values(
        [*keys, "score", "hid"], ascending=[True] * len(keys) + [False, True], kind="stable"
    )
    if keys:
        rank = ranked.groupby(keys, sort=False).cumcount().to_numpy()
        size = ranked.groupby(keys, sort=False)["pos"].transform("size").to_numpy()
    else:
        rank = np.arange(n)
        size = np.full(n, n)
    take = rank < np.ceil(capacity * size - 1e-9)
    mask = np.zeros(n, dtype=bool)
    mask[ranked["pos"].to_numpy()[take]] = True
    return mask


def _at_capacity(y: np.ndarray, chosen: np.ndarray, silent: np.ndarray | None) -> dict:
    pos = y.sum()
    hits = y[chosen].sum()
    out = {
        "n_selected": int(chosen.sum()),
        "precision": _clean(hits / chosen.sum()) if chosen.any() else None,
        "recall": _clean(hits / pos) if pos else None,
    }
    if silent is not None:
        out["silent_found_share"] = (
            _clean(silent[chosen].sum() / silent.sum()) if silent.any() else None
        )
    return out


def capacity_metrics(
    frame: pd.DataFrame,
    score: np.ndarray,
    label: np.ndarray,
    capacities: Sequence[float] = CAPACITIES,
    group_col: str | None = "township_code",
    silent: np.ndarray | None = None,
) -> dict[str, dict]:
    """Per capacity (key ``"0.05"``): per-township precision/recall (and the share of silent
    households found), and the county-wide ones under ``county``."""
    y = np.asarray(label, dtype=float) == 1
    s = None if silent is None else np.asarray(silent, dtype=bool)
    out = {}
    for c in capacities:
        per = _at_capacity(y, capacity_selection(frame, score, c, group_col), s)
        per["county"] = _at_capacity(y, capacity_selection(frame, score, c, None), s)
        out[f"{c:g}"] = per
    return out


def score_metrics(label: np.ndarray, score: np.ndarray) -> dict:
    """ROC-AUC, PR-AUC and, for a score in [0, 1], Brier, ECE and calibration slope."""
    y = np.asarray(label, dtype=float)
    s = np.asarray(score, dtype=float)
    out: dict = {"roc_auc": _clean(roc_auc(y, s)), "pr_auc": _clean(pr_auc(y, s))}
    if len(s) and np.nanmin(s) >= 0 and np.nanmax(s) <= 1:
        slope, intercept = calibration_slope(y, s)
        out.update(
            brier=_clean(brier(y, s)),
            ece=_clean(ece(y, s)),
            calibration_slope=_clean(slope),
            calibration_intercept=_clean(intercept),
            calibration_bins=reliability(y, s),
            mean_score=_clean(s.mean()),
        )
    else:
        out.update(brier=None, ece=None, calibration_slope=None, calibration_intercept=None)
    return out


def evaluate_scores(
    frame: pd.DataFrame,
    scores: Mapping[str, np.ndarray],
    label_col: str,
    group_col: str | None = "township_code",
    capacities: Sequence[float] = CAPACITIES,
    silent_col: str | None = None,
) -> dict:
    """Every metric of every score on the rows of ``frame`` with a label (NaN labels dropped).

    Args:
        frame: one row per household (and as-of date): ``household_id``, the label, the group
            column, optionally a boolean ``silent_col`` (default: ``silent`` when present).
        scores: name -> one score per row of ``frame`` (higher = more at risk).
        label_col: the 0/1 label column.

    Returns:
        JSON-ready ``{"n_rows", "n_positive", "prevalence", "capacities", "scores": {name:
        {roc_auc, pr_auc, brier, ece, calibration_slope, calibration_intercept,
        calibration_bins (:func:`reliability`), capacity:
        {"0.05": {precision, recall, n_selected, [silent_found_share], county: {...}}}}}}``.
    """
    if silent_col is None and "silent" in frame.columns:
        silent_col = "silent"
    keep = frame[label_col].notna().to_numpy()
    rows = frame.loc[keep].reset_index(drop=True)
    y = rows[label_col].to_numpy(dtype=float)
    silent = rows[silent_col].fillna(False).to_numpy(dtype=bool) if silent_col else None
    out: dict = {
        "n_rows": len(rows),
        "n_positive": int(y.sum()),
        "prevalence": _clean(y.mean()) if len(y) else None,
        "capacities": [float(c) for c in capacities],
        "scores": {},
    }
    if silent is not None:
        out["n_silent"] = int(silent.sum())
    for name, score in scores.items():
        s = np.asarray(score, dtype=float)
        if len(s) != len(frame):
            raise ValueError(f"score {name!r} has {len(s)} values for {len(frame)} rows")
        s = s[keep]
        metrics = score_metrics(y, s)
        metrics["capacity"] = capacity_metrics(rows, s, y, capacities, group_col, silent)
        out["scores"][name] = metrics
    return out
