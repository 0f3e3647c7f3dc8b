"""Judge the lists the system produces, beside rules lists built the same way (evaluation only).

The lists judged are the ones a county gets (:func:`serving.batch.priority.build_lists` on the
scoring run's households): the discovery population ranked by priority, with suppression, the
program-gap entries and the exploration draw. The **rules lists** are built by the same function
on the same households — same population, suppression, program-gap entries, sizes and exploration
— ranked by the early-warning rules (:func:`policies.early_warning.rules_baseline`) instead of
the priority.

Figures (definitions in :mod:`training.definitions`, named in the output):

- ``composition``: entries by part — ranked discovery, program gap, exploration — and the known
  households (found in need, applied, monitored), who are counted apart and never listed;
- per part and in all: ``undiscovered_need`` found, ``need_found``, ``onsets`` listed;
- ``onset_recall``: true onsets on the list / true onsets among the judged rows of the county.

Intervals: a stratified bootstrap (households resampled with replacement within each
jurisdiction, ``n_boot`` times) that **rebuilds both lists in every resample**, so the interval
covers the list's own variation; ``ours_minus_rules`` is the paired difference over the same
resamples. Percentile 95 %.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from serving.batch.priority import ListSpec, build_lists
from training.definitions import DEFINITIONS, add_definitions

PARTS = ("ranked", "program_gap", "exploration", "all")
FIGURES = ("entries", "undiscovered_need", "need_found", "onsets", "onsets_total", "onset_recall")
COUNTS = FIGURES[:-1]
"""Figures that add up over months (``onset_recall`` is ``onsets / onsets_total``)."""
LIST_COLUMNS = (
    "household_id", "township_code", "village_code", "score", "priority", "listable",
    "program_gap", "program_gap_value",
)  # fmt: skip


def _parts(lists: pd.DataFrame) -> dict[str, np.ndarray]:
    gap = (lists["path"] == "program_gap").to_numpy()
    explore = lists["exploration"].to_numpy(dtype=bool)
    return {
        "ranked": ~gap & ~explore,
        "program_gap": gap,
        "exploration": explore,
        "all": np.ones(len(lists), dtype=bool),
    }


def judge(lists: pd.DataFrame, flags: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The figures of one set of lists: per part, entries and the households found.

    Args:
        lists: list entries (``household_id``, ``path``, ``exploration``).
        flags: indexed by household id, boolean ``undiscovered_need``, ``need_found``,
            ``onset``, ``onset_row`` (:func:`training.definitions.add_definitions`).
    """
    f = flags.loc[lists["household_id"].to_numpy()]
    total_onsets = float(flags["onset"].sum())
    out: dict[str, dict[str, float]] = {}
    for part, mask in _parts(lists).items():
        sub = f.loc[mask]
        onsets = float(sub["onset"].sum())
        out[part] = {
            "entries": float(mask.sum()),
            "undiscovered_need": float(sub["undiscovered_need"].sum()),
            "need_found": float(sub["need_found"].sum()),
            "onsets": onsets,
            "onsets_total": total_onsets,
            "onset_recall": onsets / total_onsets if total_onsets else float("nan"),
        }
    return out


def _lists(
    households: pd.DataFrame,
    spec: ListSpec,
    share: float,
    rules: np.ndarray | None,
    as_of: date | None = None,
):
    frame = households
    if rules is not None:
        frame = households.assign(priority=rules, score=rules)
    return build_lists(frame, spec, share, as_of)


def _resample(households: pd.DataFrame, code_col: str, rng: np.random.Generator) -> np.ndarray:
    """Row positions of a stratified resample (with replacement within each jurisdiction)."""
    codes = households[code_col].to_numpy()
    out = []
    for code in np.unique(codes):
        rows = np.flatnonzero(codes == code)
        out.append(rng.choice(rows, size=len(rows), replace=True))
    return np.concatenate(out)


def _interval(values: list[float]) -> list[float | None]:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return [None, None]
    return [float(np.quantile(v, 0.025)), float(np.quantile(v, 0.975))]


def evaluate_lists(
    households: pd.DataFrame,
    truth: pd.DataFrame,
    rules_score: np.ndarray,
    spec: ListSpec,
    program_gap_share: float,
    *,
    lists: pd.DataFrame | None = None,
    n_boot: int = 200,
    seed: int = 0,
    keep_draws: bool = False,
    as_of: date | None = None,
) -> dict[str, Any]:
    """Our lists against rules lists built under the same conditions, with intervals.

    Args:
        households: the scoring run's households (:class:`serving.batch.frame.ScoredSnapshot`).
        truth: the definitions' inputs (:mod:`training.definitions`), one row per household in
            the order of ``households``.
        rules_score: the early-warning score of each household (same order).
        spec / program_gap_share: how the run cut its lists.
        lists: the run's lists (default: rebuilt from ``households``).
        n_boot: bootstrap resamples (0: no intervals).
        keep_draws: also return the point figures and every resample's (``point``,
            ``draws``: ``{"ours": [...], "rules": [...]}``), to pool months
            (:func:`pool_months`).
        as_of: the run's date (keys the exploration draws of rebuilt lists, as in the run).

    Returns:
        ``{"definitions", "composition", "ours", "rules", "ours_minus_rules", "n_boot"}``;
        ``ours``/``rules``/``ours_minus_rules`` map part -> figure -> ``{"value", "ci95"}``.
    """
    h = households.reset_index(drop=True)
    flags = add_definitions(truth.reset_index(drop=True))
    flags.index = h["household_id"].astype(str).to_numpy()
    cols = ["undiscovered_need", "need_found", "onset", "onset_row"]
    flags = flags[cols]
    base = h[list(LIST_COLUMNS)]
    rules_score = np.asarray(rules_score, dtype=float)
    ours_lists = lists if lists is not None else _lists(base, spec, program_gap_share, None, as_of)
    point = {
        "ours": judge(ours_lists, flags),
        "rules": judge(_lists(base, spec, program_gap_share, rules_score, as_of), flags),
    }
    code_col = f"{spec.level}_code"
    rng = np.random.default_rng(seed)
    draws: dict[str, list] = {"ours": [], "rules": []}
    for b in range(n_boot):
        rows = _resample(base, code_col, rng)
        sample = base.iloc[rows].reset_index(drop=True)
        sample["household_id"] = (
            sample["household_id"].astype(str)
            + f"#{b}:"
            + pd.Series(np.arange(len(rows))).astype(str)
        )
        f = flags.iloc[rows].set_axis(sample["household_id"].to_numpy())
        draws["ours"].append(judge(_lists(sample, spec, program_gap_share, None, as_of), f))
        rebuilt = _lists(sample, spec, program_gap_share, rules_score[rows], as_of)
        draws["rules"].append(judge(rebuilt, f))

    diff_point = _difference(point["ours"], point["rules"])
    diff_draws = [_difference(o, r) for o, r in zip(draws["ours"], draws["rules"], strict=True)]
    return {
        "definitions": {k: DEFINITIONS[k] for k in ("undiscovered_need", "need_found", "onset")},
        "composition": composition(h, ours_lists),
        "ours": _summary(point["ours"], draws["ours"], n_boot),
        "rules": _summary(point["rules"], draws["rules"], n_boot),
        "ours_minus_rules": _summary(diff_point, diff_draws, n_boot),
        "n_boot": n_boot,
        "judged_onsets": int(flags["onset"].sum()),
        "undiscovered_need_households": int(flags["undiscovered_need"].sum()),
    } | ({"point": point, "draws": draws} if keep_draws else {})


def _pooled(parts: list[dict]) -> dict:
    """Sum the counts of several months' judged lists; recompute the recall."""
    out = {}
    for part in PARTS:
        row = {f: float(sum(p[part][f] for p in parts)) for f in COUNTS}
        row["onset_recall"] = (
            row["onsets"] / row["onsets_total"] if row["onsets_total"] else float("nan")
        )
        out[part] = row
    return out


def pool_months(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Pool several months' :func:`evaluate_lists` results (made with ``keep_draws``): the
    counts add up, and resample ``b`` of the pool is the sum of every month's resample ``b``
    (the months were resampled independently)."""
    n_boot = min(r["n_boot"] for r in results)
    point = {w: _pooled([r["point"][w] for r in results]) for w in ("ours", "rules")}
    draws = {
        w: [_pooled([r["draws"][w][b] for r in results]) for b in range(n_boot)]
        for w in ("ours", "rules")
    }
    diff_point = _difference(point["ours"], point["rules"])
    diff_draws = [_difference(o, r) for o, r in zip(draws["ours"], draws["rules"], strict=True)]
    comp = [r["composition"] for r in results]
    return {
        "definitions": results[0]["definitions"],
        "months": len(results),
        "composition": {
            "entries": {p: sum(c["entries"][p] for c in comp) for p in PARTS},
            "county_segments": _sum_maps([c["county_segments"] for c in comp]),
            "known_listed": sum(c["known_listed"] for c in comp),
        },
        "ours": _summary(point["ours"], draws["ours"], n_boot),
        "rules": _summary(point["rules"], draws["rules"], n_boot),
        "ours_minus_rules": _summary(diff_point, diff_draws, n_boot),
        "n_boot": n_boot,
    }


def _sum_maps(maps: list[Mapping[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for m in maps:
        for k, v in m.items():
            out[k] = out.get(k, 0) + int(v)
    return out


def _difference(a: dict, b: dict) -> dict:
    return {p: {f: a[p][f] - b[p][f] for f in FIGURES} for p in PARTS}


def _summary(point: dict, draws: list[dict], n_boot: int) -> dict:
    return {
        p: {
            f: {
                "value": _finite(point[p][f]),
                "ci95": _interval([d[p][f] for d in draws]) if n_boot else None,
            }
            for f in FIGURES
        }
        for p in PARTS
    }


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def composition(households: pd.DataFrame, lists: pd.DataFrame) -> dict[str, Any]:
    """Entries by part and the county's households by population segment (known apart)."""
    parts = _parts(lists)
    segment: Mapping[str, int] = (
        households["segment"].value_counts().to_dict() if "segment" in households else {}
    )
    return {
        "entries": {p: int(m.sum()) for p, m in parts.items()},
        "county_segments": {str(k): int(v) for k, v in segment.items()},
        "known_listed": 0
        if "segment" not in households
        else int(
            households.set_index("household_id")
            .loc[lists["household_id"], "segment"]
            .isin(["found_in_need", "applied", "monitored"])
            .sum()
        ),
    }
