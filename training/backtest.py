"""Figures over the rolling origin's test months, each with a 95 % bootstrap interval.

Input: the :class:`training.rolling.Origin` test frames (one per test month; rows = the
discovery population). Each figure pools the months (sums of hits over sums of positives; the
mean of the monthly AUCs). Intervals: households resampled with replacement within each (month,
township), ``n_boot`` times; **every list is rebuilt in every resample**, and comparisons
(``model-rules``, ``model-logistic``) are paired (both scores judged on the same resample).

Lists: per township, the top ``ceil(c x households)`` by the score (ties by household key),
as :func:`training.evaluation.capacity_selection` cuts them; ``county`` lists take the top
``ceil(c x all households)`` of the month.

Figures (``{name: {"value", "ci95"}}``; definitions in :mod:`training.definitions`):

- ``<score>.auc_observed``, ``<score>.recall_observed@c``: the observable label;
- ``<score>.auc_onset`` (rows not in hardship at t, complete future) and
  ``<score>.onset_recall@c``: true onsets reached by lists cut on the whole population;
- calibration of each probability (the model, the logistic regression and the rules' score,
  all Platt-calibrated on the same held-out half): ``<score>.ece``, ``<score>.ece_over_prevalence``,
  ``<score>.oe_top@c`` (observed / expected among the listed: the list region);
- ``model.township_oe``: observed / expected per township (all rows);
- the fairness decomposition at each capacity, against true onset when there is a truth
  (else the observable label): ``fair.achievable@c`` (recall of a perfect ranking under each
  township's capacity), ``fair.recall@c``, ``fair.efficiency@c`` (= recall / achievable), the
  same per township (``fair.township_*``) and per hukou group, and the county-wide list's
  recall per group (ranking fairness, ``fair.county_recall_<group>@c``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from training.evaluation import ece, roc_auc

if TYPE_CHECKING:
    from training.rolling import Origin

SCORES = {"model": "score_model", "logistic": "score_logistic", "rules": "score_rules"}
PROBS = {"model": "score_model", "logistic": "score_logistic", "rules": "p_rules"}
CAPACITIES = (0.01, 0.02, 0.05)
N_BOOT = 200


@dataclass
class Month:
    """One test month as arrays (row order fixed)."""

    code: np.ndarray  # township index 0..K-1 (shared across months)
    tie: np.ndarray  # household key rank (ties)
    label: np.ndarray
    onset: np.ndarray  # a true onset on a judged row (False without a truth)
    judged: np.ndarray
    urban: np.ndarray
    scores: dict[str, np.ndarray]
    probs: dict[str, np.ndarray]

    def take(self, rows: np.ndarray) -> Month:
        return Month(
            self.code[rows], self.tie[rows], self.label[rows], self.onset[rows],
            self.judged[rows], self.urban[rows],
            {k: v[rows] for k, v in self.scores.items()},
            {k: v[rows] for k, v in self.probs.items()},
        )  # fmt: skip


def months_of(origins: Sequence[Origin]) -> tuple[list[Month], list[str]]:
    """The origins' test frames as :class:`Month` arrays, and the township codes."""
    towns = sorted({str(c) for o in origins for c in o.test["township_code"]})
    index = {c: i for i, c in enumerate(towns)}
    out = []
    for o in origins:
        t = o.test
        has_truth = "true_onset_6m" in t.columns
        judged = (
            t["complete_future"].fillna(False).astype(bool) & ~t["in_hardship"].fillna(True)
        ).to_numpy(bool) if has_truth else np.zeros(len(t), bool)  # fmt: skip
        onset = judged & (t["true_onset_6m"].fillna(False).to_numpy(bool) if has_truth else False)
        out.append(
            Month(
                code=t["township_code"].astype(str).map(index).to_numpy(np.int64),
                tie=t["household_id"].astype(str).rank(method="first").to_numpy(np.int64),
                label=t["label"].to_numpy(float) == 1,
                onset=np.asarray(onset, bool),
                judged=judged,
                urban=t["hukou"].astype(str).eq("urban").to_numpy()
                if "hukou" in t.columns
                else np.zeros(len(t), bool),
                scores={k: t[c].to_numpy(float) for k, c in SCORES.items()},
                probs={k: t[c].to_numpy(float) for k, c in PROBS.items()},
            )
        )
    return out, towns


def select(code: np.ndarray, score: np.ndarray, tie: np.ndarray, c: float, n_codes: int):
    """Per-township lists: the top ``ceil(c x n_k)`` of each township (ties by key)."""
    order = np.lexsort((tie, -np.nan_to_num(score, nan=-np.inf), code))
    codes = code[order]
    size = np.bincount(code, minlength=n_codes)
    first = np.concatenate([[0], np.cumsum(size)[:-1]])
    rank = np.arange(len(code)) - first[codes]
    chosen = np.zeros(len(code), bool)
    chosen[order[rank < np.ceil(c * size[codes] - 1e-9)]] = True
    return chosen


def select_county(score: np.ndarray, tie: np.ndarray, c: float) -> np.ndarray:
    order = np.lexsort((tie, -np.nan_to_num(score, nan=-np.inf)))
    chosen = np.zeros(len(score), bool)
    chosen[order[: int(np.ceil(c * len(score) - 1e-9))]] = True
    return chosen


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b else float("nan")


def figures(months: Sequence[Month], n_codes: int, truth: bool) -> dict[str, Any]:
    """Every figure of the module docstring on one (possibly resampled) set of months."""
    out: dict[str, Any] = {}
    for name in SCORES:
        out[f"{name}.auc_observed"] = float(
            np.nanmean([roc_auc(m.label, m.scores[name]) for m in months])
        )
        if truth:
            out[f"{name}.auc_onset"] = float(
                np.nanmean([roc_auc(m.onset[m.judged], m.scores[name][m.judged]) for m in months])
            )
        for c in CAPACITIES:
            hits = pos = onset_hits = onsets = obs = exp = 0.0
            for m in months:
                chosen = select(m.code, m.scores[name], m.tie, c, n_codes)
                hits += (m.label & chosen).sum()
                pos += m.label.sum()
                onset_hits += (m.onset & chosen).sum()
                onsets += m.onset.sum()
                listed = select(m.code, m.probs[name], m.tie, c, n_codes)
                obs += m.label[listed].sum()
                exp += m.probs[name][listed].sum()
            out[f"{name}.recall_observed@{c:g}"] = _ratio(hits, pos)
            if truth:
                out[f"{name}.onset_recall@{c:g}"] = _ratio(onset_hits, onsets)
            out[f"{name}.oe_top@{c:g}"] = _ratio(obs, exp)
        y = np.concatenate([m.label for m in months]).astype(float)
        p = np.concatenate([m.probs[name] for m in months])
        out[f"{name}.ece"] = ece(y, p)
        out[f"{name}.ece_over_prevalence"] = _ratio(out[f"{name}.ece"], y.mean())
    for other in ("rules", "logistic"):
        for key in [k for k in out if k.startswith("model.")]:
            tail = key.removeprefix("model.")
            if f"{other}.{tail}" in out:
                out[f"model-{other}.{tail}"] = out[key] - out[f"{other}.{tail}"]
    obs = sum(np.bincount(m.code, m.label.astype(float), n_codes) for m in months)
    exp = sum(np.bincount(m.code, m.probs["model"], n_codes) for m in months)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["model.township_oe"] = obs / exp
    out.update(_fairness(months, n_codes, truth))
    return out


def _fairness(months: Sequence[Month], n_codes: int, truth: bool) -> dict[str, Any]:
    """Achievable recall x ranking efficiency, per township, per hukou group and county-wide."""
    out: dict[str, Any] = {}
    for c in CAPACITIES:
        hits_k = np.zeros(n_codes)
        pos_k = np.zeros(n_codes)
        reach_k = np.zeros(n_codes)  # positives a perfect ranking lists
        group = {g: np.zeros(4) for g in ("urban", "rural")}  # hits, pos, reach, county hits
        county_hits = county_pos = 0.0
        for m in months:
            y = m.onset if truth else m.label
            chosen = select(m.code, m.scores["model"], m.tie, c, n_codes)
            county = select_county(m.scores["model"], m.tie, c)
            size = np.bincount(m.code, minlength=n_codes)
            pos = np.bincount(m.code, y.astype(float), n_codes)
            cap = np.ceil(c * size - 1e-9)
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(pos > 0, np.minimum(cap, pos) / np.maximum(pos, 1), 0.0)
            hits_k += np.bincount(m.code, (y & chosen).astype(float), n_codes)
            pos_k += pos
            reach_k += np.minimum(cap, pos)
            county_hits += (y & county).sum()
            county_pos += y.sum()
            for g, rows in (("urban", m.urban), ("rural", ~m.urban)):
                yy = y & rows
                group[g] += [
                    (yy & chosen).sum(), yy.sum(), (yy * share[m.code]).sum(), (yy & county).sum()
                ]  # fmt: skip
        recall = _ratio(hits_k.sum(), pos_k.sum())
        achievable = _ratio(reach_k.sum(), pos_k.sum())
        out[f"fair.recall@{c:g}"] = recall
        out[f"fair.achievable@{c:g}"] = achievable
        out[f"fair.efficiency@{c:g}"] = _ratio(recall, achievable)
        county_recall = _ratio(county_hits, county_pos)
        out[f"fair.county_recall@{c:g}"] = county_recall
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"fair.township_recall@{c:g}"] = hits_k / pos_k
            out[f"fair.township_achievable@{c:g}"] = reach_k / pos_k
            out[f"fair.township_efficiency@{c:g}"] = hits_k / reach_k
        out[f"fair.township_positives@{c:g}"] = pos_k
        for g, (h, p, r, ch) in group.items():
            out[f"fair.{g}_recall@{c:g}"] = _ratio(h, p)
            out[f"fair.{g}_achievable@{c:g}"] = _ratio(r, p)
            out[f"fair.{g}_efficiency@{c:g}"] = _ratio(h, r)
            out[f"fair.county_recall_{g}@{c:g}"] = _ratio(ch, p)
            out[f"fair.county_ratio_{g}@{c:g}"] = _ratio(_ratio(ch, p), county_recall)
    return out


def _resample(m: Month, rng: np.random.Generator) -> Month:
    rows = []
    for k in np.unique(m.code):
        idx = np.flatnonzero(m.code == k)
        rows.append(rng.choice(idx, size=len(idx), replace=True))
    return m.take(np.concatenate(rows))


def backtest(origins: Sequence[Origin], n_boot: int = N_BOOT, seed: int = 0) -> dict[str, Any]:
    """Figures with 95 % intervals over the origins' test months (see the module docstring).

    Returns:
        ``{"figures": {name: {"value", "ci95"}}, "townships": [{"township_code", "oe",
        "oe_ci95", "positives@c", "recall@c", "achievable@c", "efficiency@c" (with
        intervals)}], "months": [...], "n_boot", "truth"}``.
    """
    months, towns = months_of(origins)
    truth = any(m.onset.any() for m in months)
    point = figures(months, len(towns), truth)
    rng = np.random.default_rng(seed)
    draws = [figures([_resample(m, rng) for m in months], len(towns), truth) for _ in range(n_boot)]

    def ci(key: str, index: int | None = None) -> list[float | None]:
        vals = np.array([d[key] if index is None else d[key][index] for d in draws], float)
        vals = vals[np.isfinite(vals)]
        if not len(vals):
            return [None, None]
        return [float(np.quantile(vals, 0.025)), float(np.quantile(vals, 0.975))]

    def clean(v: float) -> float | None:
        return float(v) if np.isfinite(v) else None

    scalars = {k: v for k, v in point.items() if not isinstance(v, np.ndarray)}
    out_figures = {k: {"value": clean(v), "ci95": ci(k)} for k, v in scalars.items()}
    townships = []
    for i, code in enumerate(towns):
        row: dict[str, Any] = {
            "township_code": code,
            "oe": clean(point["model.township_oe"][i]),
            "oe_ci95": ci("model.township_oe", i),
        }
        for c in CAPACITIES:
            for what in ("recall", "achievable", "efficiency"):
                key = f"fair.township_{what}@{c:g}"
                row[f"{what}@{c:g}"] = clean(point[key][i])
                row[f"{what}@{c:g}_ci95"] = ci(key, i)
            row[f"positives@{c:g}"] = int(point[f"fair.township_positives@{c:g}"][i])
        townships.append(row)
    return {
        "figures": out_figures,
        "townships": townships,
        "months": [o.test_date.isoformat() for o in origins],
        "n_boot": n_boot,
        "truth": truth,
        "fairness_label": "true onset" if truth else "observable label",
    }


def frame_of(result: dict[str, Any]) -> pd.DataFrame:
    """The figures as a table (name, value, low, high)."""
    rows = [
        {"figure": k, "value": v["value"], "low": v["ci95"][0], "high": v["ci95"][1]}
        for k, v in result["figures"].items()
    ]
    return pd.DataFrame(rows)


def fairness_decomposition(
    test: pd.DataFrame, label_col: str, n_boot: int = N_BOOT, seed: int = 0
) -> dict[str, Any]:
    """The fairness decomposition of one test split (the model's lists), with a paired
    bootstrap that rebuilds the lists: achievable recall x ranking efficiency per capacity,
    per township and per hukou group, and the county-wide list's recall per group.

    Args:
        test: rows with ``township_code``, ``household_id``, ``hukou``, ``score_model`` and
            the 0/1 ``label_col`` (NaN rows are dropped).
    """
    rows = test.loc[test[label_col].notna()]
    towns = sorted(rows["township_code"].astype(str).unique())
    index = {c: i for i, c in enumerate(towns)}
    y = rows[label_col].to_numpy(float) == 1
    score = rows["score_model"].to_numpy(float)
    month = Month(
        code=rows["township_code"].astype(str).map(index).to_numpy(np.int64),
        tie=rows["household_id"].astype(str).rank(method="first").to_numpy(np.int64),
        label=y, onset=y, judged=np.ones(len(rows), bool),
        urban=rows["hukou"].astype(str).eq("urban").to_numpy(),
        scores={"model": score}, probs={"model": score},
    )  # fmt: skip
    point = _fairness([month], len(towns), truth=True)
    rng = np.random.default_rng(seed)
    draws = [_fairness([_resample(month, rng)], len(towns), True) for _ in range(n_boot)]

    def ci(key: str, i: int | None = None) -> list[float | None]:
        v = np.array([d[key] if i is None else d[key][i] for d in draws], float)
        v = v[np.isfinite(v)]
        return [float(np.quantile(v, 0.025)), float(np.quantile(v, 0.975))] if len(v) else [
            None, None]  # fmt: skip

    def clean(v: float) -> float | None:
        return float(v) if np.isfinite(v) else None

    figures_ = {
        k: {"value": clean(v), "ci95": ci(k)}
        for k, v in point.items()
        if not isinstance(v, np.ndarray)
    }
    townships = [
        {
            "township_code": code,
            **{
                f"{what}@{c:g}": {
                    "value": clean(point[f"fair.township_{what}@{c:g}"][i]),
                    "ci95": ci(f"fair.township_{what}@{c:g}", i),
                }
                for c in CAPACITIES
                for what in ("recall", "achievable", "efficiency")
            },
            "positives": int(point[f"fair.township_positives@{CAPACITIES[0]:g}"][i]),
        }
        for i, code in enumerate(towns)
    ]
    return {
        "label": label_col,
        "capacities": list(CAPACITIES),
        "figures": figures_,
        "townships": townships,
        "n_boot": n_boot,
        "note": "achievable recall: a perfect ranking under each township's capacity; ranking "
        "efficiency = recall / achievable recall; county_recall_*: one county-wide list "
        "(ranking fairness, capacity not split by township)",
    }
