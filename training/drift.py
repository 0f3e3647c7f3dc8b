"""Drift: reference distributions saved at training, the population stability index (PSI) later.

At training, :func:`reference_distributions` bins every feature and the score on the reference
(training) population: numeric values into 10 equal-mass bins (right-closed, cut at the
reference's deciles taken as observed values, numpy's ``inverted_cdf``; tied deciles merge, so
a count that is mostly 0 gets fewer bins), flags and categories by level, and
missing values always in a bin of their own. At scoring, :func:`psi` puts the new population in
the same bins and compares shares:

    PSI = sum over bins of (c - r) * ln(c / r)

with ``r`` and ``c`` the reference and current shares, each floored at :data:`EPSILON` so that an
empty bin gives a large but finite term (a bin empty in both gives 0). Bands: ``stable`` below
0.1, ``moderate`` from 0.1 to 0.25, ``major`` above 0.25.

Both functions are pure and their output is JSON-ready.

Example:
    >>> ref = reference_distributions(train_X, train_scores)   # doctest: +SKIP
    >>> psi(ref, new_X, new_scores)["features"][0]            # doctest: +SKIP
    {'feature': 'unemployed_members', 'psi': 0.31, 'band': 'major', ...}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from features.vectors.catalogue import FEATURES

N_BINS = 10
EPSILON = 1e-4
MODERATE, MAJOR = 0.1, 0.25
MISSING, OTHER = "missing", "other"
SCORE = "score"
VERSION = 1

_REGISTRY = {f.name: f for f in FEATURES}


def band(value: float) -> str:
    """``stable`` (< 0.1), ``moderate`` (0.1 to 0.25) or ``major`` (> 0.25)."""
    if value < MODERATE:
        return "stable"
    return "moderate" if value <= MAJOR else "major"


def psi_value(reference: Sequence[float], current: Sequence[float], eps: float = EPSILON) -> float:
    """PSI of two share vectors over the same bins, shares floored at ``eps``."""
    r = np.maximum(np.asarray(reference, float), eps)
    c = np.maximum(np.asarray(current, float), eps)
    if r.shape != c.shape:
        raise ValueError(f"bins differ: {r.shape} vs {c.shape}")
    return float(np.sum((c - r) * np.log(c / r)))


def _kind(name: str, col: pd.Series) -> str:
    f = _REGISTRY.get(name)
    if f is not None:
        return "categorical" if f.dtype in ("bool", "category") else "numeric"
    if pd.api.types.is_bool_dtype(col.dtype) or not pd.api.types.is_numeric_dtype(col.dtype):
        return "categorical"
    return "numeric"


def _as_float(col: pd.Series | np.ndarray) -> np.ndarray:
    s = pd.to_numeric(pd.Series(col), errors="coerce")
    return s.to_numpy(dtype=float, na_value=np.nan)


def _levels(name: str, col: pd.Series) -> pd.Series:
    """Values as level strings (flags as ``True``/``False``), None when missing."""
    f = _REGISTRY.get(name)
    is_flag = (f is not None and f.dtype == "bool") or pd.api.types.is_bool_dtype(col.dtype)
    col = col.astype("object")
    out = col.map(lambda v: str(bool(v)) if is_flag else str(v))
    return out.where(col.notna(), None)


def _edge(x: float) -> str:
    return f"{x:.4g}"


def _numeric_labels(edges: list[float]) -> list[str]:
    if not edges:
        return ["all", MISSING]
    labels = [f"<= {_edge(edges[0])}"]
    labels += [f"({_edge(a)}, {_edge(b)}]" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return [*labels, f"> {_edge(edges[-1])}", MISSING]


def _numeric_shares(values: np.ndarray, edges: list[float]) -> list[float]:
    """Shares of ``(-inf, e1], (e1, e2], ..., (ek, inf)`` then missing."""
    known = values[~np.isnan(values)]
    counts = np.bincount(np.searchsorted(edges, known, side="left"), minlength=len(edges) + 1)
    counts = np.append(counts, len(values) - len(known))
    return [float(x) for x in counts / len(values)]


def _categorical_shares(levels: pd.Series, known: list[str]) -> list[float]:
    """Shares of each known level, then ``other`` (unseen levels), then missing."""
    counts = levels.value_counts(dropna=True)
    n = len(levels)
    shares = [float(counts.get(level, 0)) / n for level in known]
    other = float(counts[~counts.index.isin(known)].sum()) / n
    return [*shares, other, float(levels.isna().sum()) / n]


def _reference_one(name: str, col: pd.Series, kind: str) -> dict[str, Any]:
    if kind == "categorical":
        levels = _levels(name, col)
        known = sorted(levels.dropna().unique().tolist())
        return {
            "kind": kind,
            "levels": known,
            "labels": [*known, OTHER, MISSING],
            "shares": _categorical_shares(levels, known),
        }
    values = _as_float(col)
    finite = values[~np.isnan(values)]
    qs = np.arange(1, N_BINS) / N_BINS
    edges = (
        sorted({float(e) for e in np.quantile(finite, qs, method="inverted_cdf")})
        if len(finite)
        else []
    )
    return {
        "kind": kind,
        "edges": edges,
        "labels": _numeric_labels(edges),
        "shares": _numeric_shares(values, edges),
    }


def _current_shares(name: str, col: pd.Series, ref: dict[str, Any]) -> list[float]:
    if ref["kind"] == "categorical":
        return _categorical_shares(_levels(name, col), ref["levels"])
    return _numeric_shares(_as_float(col), ref["edges"])


def reference_distributions(
    frame_X: pd.DataFrame, scores: Sequence[float] | np.ndarray | None
) -> dict[str, Any]:
    """Bins and shares of every column of ``frame_X`` and of ``scores`` on the reference.

    Args:
        frame_X: the reference (training) model input; every column is binned.
        scores: the reference scores (one per row), or None to skip the score.

    Returns:
        ``{"version", "n", "epsilon", "features": {name: entry}, "score": entry | None}``;
        an entry is ``{"kind": "numeric", "edges", "labels", "shares"}`` or ``{"kind":
        "categorical", "levels", "labels", "shares"}``, with ``shares`` aligned to ``labels``
        (the last bin is ``missing``; categorical entries also have ``other`` for levels
        unseen in the reference).
    """
    if len(frame_X) == 0:
        raise ValueError("an empty reference has no distribution")
    features = {
        str(name): _reference_one(str(name), frame_X[name], _kind(str(name), frame_X[name]))
        for name in frame_X.columns
    }
    score = None
    if scores is not None:
        s = pd.Series(np.asarray(scores, float))
        if len(s) != len(frame_X):
            raise ValueError(f"{len(s)} scores for {len(frame_X)} rows")
        score = _reference_one(SCORE, s, "numeric")
    return {
        "version": VERSION,
        "n": len(frame_X),
        "epsilon": EPSILON,
        "features": features,
        "score": score,
    }


def _result(ref: dict[str, Any], cur: list[float], eps: float) -> dict[str, Any]:
    value = psi_value(ref["shares"], cur, eps)
    return {
        "psi": value,
        "band": band(value),
        "bins": [
            {"bin": label, "reference": r, "current": c}
            for label, r, c in zip(ref["labels"], ref["shares"], cur, strict=True)
        ],
    }


def psi(
    reference: dict[str, Any],
    frame_X: pd.DataFrame,
    scores: Sequence[float] | np.ndarray | None = None,
) -> dict[str, Any]:
    """PSI of every reference feature and of the score, in the reference's bins.

    Args:
        reference: from :func:`reference_distributions` (or its JSON).
        frame_X: the current population's model input (must hold every reference feature).
        scores: the current scores, or None (then ``score`` is None).

    Returns:
        ``{"n_reference", "n_current", "epsilon", "thresholds", "score": {"psi", "band",
        "bins"} | None, "features": [{"feature", "zh", "en", "psi", "band", "bins"}, ...]
        (largest PSI first), "bands": {"stable": n, "moderate": n, "major": n}}``; each bin is
        ``{"bin", "reference", "current"}`` (shares).
    """
    if len(frame_X) == 0:
        raise ValueError("an empty population has no distribution")
    missing = [n for n in reference["features"] if n not in frame_X.columns]
    if missing:
        raise ValueError(f"frame_X lacks reference features: {', '.join(missing)}")
    eps = float(reference.get("epsilon", EPSILON))
    rows = []
    for name, ref in reference["features"].items():
        f = _REGISTRY.get(name)
        res = _result(ref, _current_shares(name, frame_X[name], ref), eps)
        rows.append({"feature": name, "zh": f.zh if f else name, "en": f.en if f else name, **res})
    rows.sort(key=lambda r: (-r["psi"], r["feature"]))
    score = None
    if scores is not None and reference.get("score") is not None:
        s = pd.Series(np.asarray(scores, float))
        if len(s) != len(frame_X):
            raise ValueError(f"{len(s)} scores for {len(frame_X)} rows")
        score = _result(reference["score"], _current_shares(SCORE, s, reference["score"]), eps)
    counts = {b: 0 for b in ("stable", "moderate", "major")}
    for r in rows:
        counts[r["band"]] += 1
    return {
        "n_reference": reference.get("n"),
        "n_current": len(frame_X),
        "epsilon": eps,
        "thresholds": {"moderate": MODERATE, "major": MAJOR},
        "score": score,
        "features": rows,
        "bands": counts,
    }
