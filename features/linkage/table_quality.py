"""How good a ``link --table`` run is: estimated from its own match probabilities when nobody
labelled the table, measured (with 95 % intervals) against labels when there are some.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.linkage.evaluate import pairwise_counts
from features.linkage.model import MATCH_THRESHOLD, SEED
from features.linkage.table_labels import Labels

NEAR = (0.5, 0.99)
"""A pair scored in this band is *near the threshold*: the band clerical review looks at."""
BOOTSTRAP = 200
"""Resamples behind each interval (seeded with :data:`~.model.SEED`)."""


def estimated_quality(pairs: pd.DataFrame, clusters: np.ndarray) -> dict:
    """Without labels: the match-weight distribution of the scored pairs, the cluster sizes,
    the share near the threshold, and precision and recall as the model expects them (the
    mean probability of the accepted pairs; the accepted probability mass over all scored mass —
    pairs no rule proposed are not counted)."""
    w = pairs["match_weight"].replace([np.inf, -np.inf], np.nan).dropna().to_numpy(float)
    edges = np.arange(-10, 32, 4, dtype=float)
    hist, _ = np.histogram(np.clip(w, -10, 27.99), bins=edges)
    p = pairs["match_probability"].to_numpy(float)
    acc = p >= MATCH_THRESHOLD
    sizes = pd.Series(clusters).value_counts().value_counts().sort_index()
    bands = {"1": 0, "2": 0, "3": 0, "4-9": 0, "10+": 0}
    for size, count in sizes.items():
        key = str(size) if size <= 3 else ("4-9" if size <= 9 else "10+")
        bands[key] += int(count)
    near = (p >= NEAR[0]) & (p < NEAR[1])
    return {
        "scored_pairs": len(pairs),
        "accepted_pairs": int(acc.sum()),
        "match_weight_histogram": {
            f"[{int(a)},{int(b)})": int(c)
            for a, b, c in zip(edges[:-1], edges[1:], hist, strict=True)
        },
        "cluster_sizes": bands,
        "largest_cluster": int(sizes.index.max()) if len(sizes) else 0,
        "pairs_near_threshold": int(near.sum()),
        "share_near_threshold": float(near.mean()) if len(p) else 0.0,
        "expected_precision": float(p[acc].mean()) if acc.any() else 1.0,
        "expected_recall": float(p[acc].sum() / p.sum()) if p.sum() > 0 else 1.0,
    }


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _interval(values: list[float]) -> list[float]:
    return [float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975))]


def measured_quality(clusters: np.ndarray, labels: Labels, source: pd.Series) -> dict:
    """Pairwise precision, recall and F1 against the labels, each with a 95 % bootstrap interval
    (over labelled clusters, or over marked pairs). In-sample when the labels also trained m."""
    rng = np.random.default_rng(SEED)
    if labels.clusters is not None:
        recs = np.array(sorted(labels.clusters), np.int64)
        truth = np.array([labels.clusters[r] for r in recs], object)
        pred = clusters[recs]
        point = pairwise_counts(pred, truth)
        groups = pd.Series(np.arange(len(recs))).groupby(truth).indices
        keys = list(groups)
        boot = []
        for _ in range(BOOTSTRAP):
            pick = rng.integers(0, len(keys), len(keys))
            idx = np.concatenate([groups[keys[k]] for k in pick])
            tag = np.concatenate([np.full(len(groups[keys[k]]), j) for j, k in enumerate(pick)])
            # resampled copies of one cluster stay apart: tag the predicted id with the copy
            c = pairwise_counts(
                np.array([f"{a}_{t}" for a, t in zip(pred[idx], tag, strict=True)]), tag
            )
            boot.append((c["precision"], c["recall"], _f1(c["precision"], c["recall"])))
        kind, n = "clusters", len(recs)
    else:
        marks = labels.marked_pairs()
        same = clusters[marks["a"].to_numpy()] == clusters[marks["b"].to_numpy()]
        truth = marks["match"].to_numpy(bool)
        tp, fp, fn = (
            int((same & truth).sum()),
            int((same & ~truth).sum()),
            int((~same & truth).sum()),
        )
        point = {
            "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0,
        }
        boot = []
        for _ in range(BOOTSTRAP):
            i = rng.integers(0, len(marks), len(marks))
            s, t = same[i], truth[i]
            a, b, c = (s & t).sum(), (s & ~t).sum(), (~s & t).sum()
            pr, rc = (a / (a + b) if a + b else 1.0), (a / (a + c) if a + c else 1.0)
            boot.append((pr, rc, _f1(pr, rc)))
        kind, n = "pairs", len(marks)
    boot_arr = np.array(boot) if boot else np.zeros((1, 3))
    out = {
        "labels": kind,
        "labelled": n,
        "precision": float(point["precision"]),
        "recall": float(point["recall"]),
        "f1": _f1(point["precision"], point["recall"]),
        "precision_95": _interval(boot_arr[:, 0]),
        "recall_95": _interval(boot_arr[:, 1]),
        "f1_95": _interval(boot_arr[:, 2]),
        "in_sample": True,
    }
    if "true_pairs" in point:
        out.update({k: point[k] for k in ("true_pairs", "predicted_pairs", "correct_pairs")})
    return out
