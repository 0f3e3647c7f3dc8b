"""Explanations: TreeSHAP contributions, reason codes and global importance.

SHAP values come from LightGBM itself (``booster.predict(X, pred_contrib=True)``, exact TreeSHAP,
the numbers ``shap.TreeExplainer`` returns). For a binary model they are in **log-odds**: per row,
the feature contributions plus ``bias`` (the expected raw score) sum to the raw score
``booster.predict(X, raw_score=True)``. Calibration (a monotone map of the raw score) is applied
after, so it changes no ranking of reasons.

Reason codes (:func:`top_reasons`) are the features that push a household's risk **up** most,
rendered with the household's own value by :func:`features.vectors.catalogue.reason`.

Missing-value rule: a feature whose value is missing is skipped, unless the registry marks it
``nullable`` (a null there means something, e.g. ``months_since_last_visit`` null = never
visited), in which case it may be a reason and reads as the registry's "no record" phrase. A null
in any other feature is a data defect; the model routes it down LightGBM's default branch, which
says nothing about the household, so it is never shown as a reason.

Example:
    >>> contrib = contributions(booster, X)                  # doctest: +SKIP
    >>> top_reasons(contrib.iloc[0], X.iloc[0], k=3, lang="en")  # doctest: +SKIP
    [{'feature': 'serious_illness_12m', 'shap': 1.9, 'value': True,
      'text': 'a member had claims for a serious illness in the last 12 months', ...}]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.vectors.catalogue import FEATURES, feature, reason

BIAS = "bias"
"""Column of :func:`contributions` holding the expected raw score (the SHAP base value)."""

UNITS = "log-odds"
AXIS_LABEL = "SHAP value (log-odds)"
SUM_TOLERANCE = 1e-6
"""Largest accepted gap between the summed contributions and the raw score."""

_REGISTRY = {f.name for f in FEATURES}


def _model_input(booster, X: pd.DataFrame) -> pd.DataFrame:
    names = list(booster.feature_name())
    missing = [n for n in names if n not in X.columns]
    if missing:
        raise ValueError(f"X lacks model features: {', '.join(missing)}")
    return X[names]


def contributions(booster, X: pd.DataFrame, chunk_size: int = 50_000) -> pd.DataFrame:
    """TreeSHAP contributions of every feature, plus ``bias``, in log-odds.

    Args:
        booster: a trained binary ``lightgbm.Booster``.
        X: the model's input (columns in any order; every ``booster.feature_name()`` present).
        chunk_size: rows per ``predict`` call, to bound memory on large inputs.

    Returns:
        One row per row of ``X`` (same index), one column per model feature then ``bias``;
        each row sums to the raw score.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    X = _model_input(booster, X)
    names = list(X.columns)
    if BIAS in names:
        raise ValueError(f"a feature may not be called {BIAS!r}")
    parts = [
        np.asarray(booster.predict(X.iloc[i : i + chunk_size], pred_contrib=True))
        for i in range(0, len(X), chunk_size)
    ]
    values = np.vstack(parts) if parts else np.empty((0, len(names) + 1))
    if values.shape[1] != len(names) + 1:
        raise ValueError(
            f"expected {len(names) + 1} contribution columns (a binary model), "
            f"got {values.shape[1]}"
        )
    return pd.DataFrame(values, index=X.index, columns=[*names, BIAS])


def raw_scores(booster, X: pd.DataFrame, chunk_size: int = 50_000) -> np.ndarray:
    """The raw scores (log-odds) of ``X``, in chunks."""
    X = _model_input(booster, X)
    parts = [
        np.asarray(booster.predict(X.iloc[i : i + chunk_size], raw_score=True))
        for i in range(0, len(X), chunk_size)
    ]
    return np.concatenate(parts) if parts else np.empty(0)


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, float | np.floating) and math.isnan(value))
    except TypeError:
        return False


def _json_value(name: str, value: Any) -> Any:
    """The value as plain JSON (bool/int/float/str/None), typed by the registry when known."""
    if _is_missing(value):
        return None
    dtype = feature(name).dtype if name in _REGISTRY else None
    if dtype == "bool":
        return bool(value)
    if dtype == "int":
        return int(value)
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return float(value)
    if isinstance(value, int | str):
        return value
    return str(value)


def _text(name: str, value: Any, lang: str) -> str:
    if name in _REGISTRY:
        return reason(name, None if _is_missing(value) else value, lang)
    shown = "NA" if _is_missing(value) else value
    return f"{name} = {shown}"


def top_reasons(
    contrib_row: Mapping[str, float] | pd.Series,
    values_row: Mapping[str, Any] | pd.Series,
    k: int = 3,
    lang: str = "zh",
) -> list[dict]:
    """The ``k`` features pushing this household's risk up most (largest positive SHAP).

    Args:
        contrib_row: one row of :func:`contributions` (``bias`` is ignored).
        values_row: the household's feature values (the model input row, or the snapshot row).
        k: at most this many reasons; fewer when fewer features push risk up.
        lang: ``zh`` or ``en``.

    Returns:
        Dicts with ``feature``, ``shap`` (log-odds), ``value`` (JSON-ready), ``text`` (the
        registry phrase at the value) and ``group``, largest SHAP first (ties: registry order).
        Missing values are skipped unless the feature is ``nullable`` (see the module doc).
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"unknown language {lang!r} (zh or en)")
    return _render(_candidates(contrib_row, values_row), k, lang)


def _candidates(
    contrib_row: Mapping[str, float] | pd.Series, values_row: Mapping[str, Any] | pd.Series
) -> list[tuple[float, int, str, Any]]:
    """Features pushing risk up with a showable value, largest SHAP first (ties: order)."""
    candidates = []
    for order, (name, shap_value) in enumerate(contrib_row.items()):
        if name == BIAS or not shap_value > 0:
            continue
        value = values_row.get(name) if hasattr(values_row, "get") else values_row[name]
        known = name in _REGISTRY
        if _is_missing(value) and not (known and feature(name).nullable):
            continue
        candidates.append((-float(shap_value), order, name, value))
    candidates.sort()
    return candidates


def _render(candidates: list[tuple[float, int, str, Any]], k: int, lang: str) -> list[dict]:
    out = []
    for neg, _, name, value in candidates[:k]:
        out.append(
            {
                "feature": name,
                "shap": -neg,
                "value": _json_value(name, value),
                "text": _text(name, value, lang),
                "group": feature(name).group if name in _REGISTRY else None,
            }
        )
    return out


def explain_households(
    booster,
    frame_X: pd.DataFrame,
    ids: Sequence[Any],
    k: int = 3,
    values: pd.DataFrame | None = None,
    chunk_size: int = 50_000,
) -> list[dict]:
    """JSON-ready explanations of the rows of ``frame_X``.

    Args:
        booster: a trained binary ``lightgbm.Booster``.
        frame_X: the model input of the households to explain.
        ids: household ids, one per row of ``frame_X``.
        k: reasons per household and language.
        values: values to render in the phrases (aligned with ``frame_X`` by position);
            defaults to ``frame_X``.

    Returns:
        Per household, :func:`explanation_record`.
    """
    if len(ids) != len(frame_X):
        raise ValueError(f"{len(ids)} ids for {len(frame_X)} rows")
    values = frame_X if values is None else values
    if len(values) != len(frame_X):
        raise ValueError("values and frame_X differ in length")
    contrib = contributions(booster, frame_X, chunk_size)
    raw = raw_scores(booster, frame_X, chunk_size)
    names = list(contrib.columns)
    matrix = contrib.to_numpy()
    # the values as object columns once: a row is then a dict of plain lookups, not a pandas row
    shown = {n: values[n].to_numpy(dtype=object) for n in names if n in values.columns}
    sums = matrix.sum(axis=1)
    return [
        explanation_record(
            hid,
            names,
            matrix[i],
            float(raw[i]),
            {n: col[i] for n, col in shown.items()},
            k,
            total=float(sums[i]),
        )
        for i, hid in enumerate(ids)
    ]


def numeric_matrix(X: pd.DataFrame) -> np.ndarray:
    """A model matrix as the float64 array LightGBM reads from it: numbers as they are, a
    category as its code (missing: NaN). ``booster.predict`` on this array equals
    ``booster.predict`` on ``X`` when ``X`` carries the training categories (as
    :func:`training.estimators.model_matrix` builds it), without pandas' per-call conversion."""
    columns = []
    for name in X.columns:
        col = X[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = col.cat.codes.to_numpy().astype(float)
            codes[codes < 0] = np.nan
            columns.append(codes)
        else:
            columns.append(col.to_numpy(dtype=float, na_value=np.nan))
    if not columns:
        return np.empty((len(X), 0))
    return np.ascontiguousarray(np.column_stack(columns))


def explain_row(
    booster, names: Sequence[str], row: np.ndarray, hid: Any, values: Mapping[str, Any], k: int = 3
) -> dict:
    """:func:`explanation_record` of one household from its :func:`numeric_matrix` row
    (shape ``(1, len(names))``): the on-demand path, a fraction of a millisecond."""
    contrib = np.asarray(booster.predict(row, pred_contrib=True))[0]
    raw = float(np.asarray(booster.predict(row, raw_score=True))[0])
    return explanation_record(hid, [*names, BIAS], contrib, raw, values, k)


def explanation_record(
    hid: Any,
    names: Sequence[str],
    contrib: np.ndarray,
    raw: float,
    values: Mapping[str, Any] | pd.Series,
    k: int = 3,
    total: float | None = None,
) -> dict:
    """One household's explanation, the same for batch and on-demand scoring.

    Args:
        hid: the household id.
        names: the contribution columns (model features, then ``bias``).
        contrib: the household's contributions, aligned with ``names``.
        raw: the raw score (log-odds) from the booster.
        values: the household's values to render in the phrases.
        k: reasons per language.
        total: the contributions' sum when the caller summed a whole matrix at once.

    Returns:
        ``household_id``, ``raw_score`` (log-odds), ``base_value`` (``bias``), ``shap_sum``
        (contributions + bias), ``sum_ok`` (``|shap_sum - raw_score| <= 1e-6``), ``units`` and
        ``reasons`` ``{"zh": [...], "en": [...]}`` as from :func:`top_reasons`.
    """
    by_name = dict(zip(names, contrib.tolist(), strict=True))
    found = _candidates(by_name, values)  # once for both languages
    total = float(np.sum(contrib)) if total is None else total
    return {
        "household_id": hid.item() if isinstance(hid, np.generic) else hid,
        "raw_score": raw,
        "base_value": float(by_name[BIAS]),
        "shap_sum": total,
        "sum_ok": bool(abs(total - raw) <= SUM_TOLERANCE),
        "units": UNITS,
        "reasons": {lang: _render(found, k, lang) for lang in ("zh", "en")},
    }


def global_importance(contrib: pd.DataFrame) -> pd.DataFrame:
    """Mean |SHAP| per feature (log-odds), largest first, with zh/en names and group.

    Returns:
        Columns ``feature``, ``mean_abs_shap``, ``share`` (of the total), ``zh``, ``en``,
        ``group``; names outside the registry get their column name as labels.
    """
    cols = [c for c in contrib.columns if c != BIAS]
    mean_abs = contrib[cols].abs().mean(axis=0) if len(contrib) else pd.Series(0.0, index=cols)
    total = float(mean_abs.sum())
    rows = []
    for name in cols:
        f = feature(name) if name in _REGISTRY else None
        rows.append(
            {
                "feature": name,
                "mean_abs_shap": float(mean_abs[name]),
                "share": float(mean_abs[name]) / total if total > 0 else 0.0,
                "zh": f.zh if f else name,
                "en": f.en if f else name,
                "group": f.group if f else None,
            }
        )
    out = pd.DataFrame(rows, columns=["feature", "mean_abs_shap", "share", "zh", "en", "group"])
    return out.sort_values(
        ["mean_abs_shap", "feature"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def _color_values(col: pd.Series) -> np.ndarray:
    """Feature values as ranks scaled to 0-1 (NaN for missing), for the colour scale."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        num = pd.Series(col.cat.codes, index=col.index).where(col.notna())
    else:
        num = pd.to_numeric(col, errors="coerce")
    num = pd.Series(num.to_numpy(dtype=float, na_value=np.nan), index=col.index)
    rank = num.rank(method="average").to_numpy(dtype=float)
    low, high = np.nanmin(rank, initial=np.inf), np.nanmax(rank, initial=-np.inf)
    if not high > low:
        return np.where(np.isnan(rank), np.nan, 0.5)
    return (rank - low) / (high - low)


def summary_plot(
    contrib: pd.DataFrame,
    X: pd.DataFrame,
    path: str | Path,
    max_display: int = 20,
    kind: str = "beeswarm",
    max_points: int = 5_000,
    seed: int = 0,
) -> Path:
    """A SHAP summary plot (PNG via matplotlib's Agg backend) with English feature names.

    Args:
        contrib: from :func:`contributions`.
        X: the values behind ``contrib`` (same rows), for the colour of each dot.
        path: the file to write.
        max_display: features shown, by mean |SHAP|.
        kind: ``beeswarm`` (one dot per household, coloured by the feature's value
            percentile, jittered vertically) or ``bar`` (mean |SHAP|).
        max_points: households drawn in a beeswarm (a seeded sample beyond it).
    """
    if kind not in ("beeswarm", "bar"):
        raise ValueError(f"unknown kind {kind!r} (beeswarm or bar)")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    imp = global_importance(contrib).head(max_display)
    names, labels = list(imp["feature"]), list(imp["en"])
    n = len(names)
    fig, ax = plt.subplots(figsize=(8, 1.0 + 0.35 * max(n, 1)))
    ys = np.arange(n)[::-1]  # most important on top
    if kind == "bar":
        ax.barh(ys, imp["mean_abs_shap"], color="#3b75af")
        ax.set_xlabel(f"mean |{AXIS_LABEL}|")
    else:
        rng = np.random.default_rng(seed)
        rows = np.arange(len(contrib))
        if len(rows) > max_points:
            rows = np.sort(rng.choice(rows, max_points, replace=False))
        cmap = plt.get_cmap("coolwarm")
        for y, name in zip(ys, names, strict=True):
            sv = contrib[name].to_numpy()[rows]
            col = _color_values(X[name])[rows] if name in X.columns else np.full(len(rows), np.nan)
            jitter = rng.uniform(-0.3, 0.3, len(rows))
            known = ~np.isnan(col)
            ax.scatter(sv[~known], y + jitter[~known], s=6, color="#999999", alpha=0.6, lw=0)
            ax.scatter(
                sv[known], y + jitter[known], s=6, c=col[known], cmap=cmap, vmin=0, vmax=1,
                alpha=0.7, lw=0,
            )  # fmt: skip
        ax.axvline(0, color="grey", lw=0.8)
        sm = plt.cm.ScalarMappable(cmap=cmap, norm=matplotlib.colors.Normalize(0, 1))
        bar = fig.colorbar(sm, ax=ax, pad=0.01, ticks=[0, 1])
        bar.ax.set_yticklabels(["low", "high"])
        bar.set_label("feature value (grey: missing)")
        ax.set_xlabel(AXIS_LABEL)
    ax.set_yticks(ys, labels, fontsize=8)
    ax.set_title("What drives the risk score (TreeSHAP)")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
