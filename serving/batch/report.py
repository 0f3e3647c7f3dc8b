"""The report of a scoring run: eligibility counts, gaps, lists and (on simulated data) truth.

Written by ``outreach score`` as ``data/reports/score/latest.json``; printed as tables. On a
workspace whose raw folder holds the simulator's truth it adds:

- precision and recall of "likely qualifies" (and of "likely or needs verification") for the
  minimum living allowance against true eligibility (:mod:`training.eligibility_eval`);
- how many **silent** households (in true hardship, not enrolled, no application in 12 months)
  the visit lists reach, beside lists of the same sizes built from the early-warning rules
  alone (ranked by :func:`policies.early_warning.rules_baseline`), and the ratio of the two.

The truth is read here for evaluation only; nothing that scores or lists reads it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.pseudonym import Pseudonymizer
from policies.early_warning import rules_baseline
from policies.parameters import ParameterSet
from serving.batch.frame import ScoredSnapshot
from training.eligibility_eval import eligibility_truth, score_result
from training.truth import has_truth, truth_frame


def eligibility_counts(scored: ScoredSnapshot) -> dict[str, dict[str, int]]:
    """Per program: households by status, receiving, and gaps (likely / needs verification)."""
    return scored.eligibility.counts()


def list_summary(scored: ScoredSnapshot) -> dict[str, Any]:
    """Entries, exploration share and jurisdictions of the lists, and gaps among the listed."""
    lists = scored.lists
    listed = scored.households["household_id"].isin(set(lists["household_id"]))
    gap_any = (scored.eligibility.gap > 0).any(axis=1)
    return {
        "jurisdictions": int(lists["jurisdiction_code"].nunique()),
        "entries": int(len(lists)),
        "exploration_entries": int(lists["exploration"].sum()),
        "exploration_share": float(lists["exploration"].mean()) if len(lists) else 0.0,
        "listed_with_gap": int((gap_any & listed.to_numpy()).sum()),
        "suppressed_after_visit": int(scored.households["suppressed"].sum()),
    }


def rules_lists(
    frame: pd.DataFrame, lists: pd.DataFrame, code_col: str, params: ParameterSet, as_of: date
) -> set[str]:
    """Households a list built from the early-warning rules would hold, with the same sizes
    per jurisdiction as ``lists`` (ties broken by household key)."""
    ranked = pd.DataFrame(
        {
            "household_id": frame["household_id"].astype(str).to_numpy(),
            "code": frame[code_col].astype(str).to_numpy(),
            "rules": rules_baseline(frame, params, as_of),
        }
    ).sort_values(["code", "rules", "household_id"], ascending=[True, False, True])
    sizes = lists.groupby("jurisdiction_code").size()
    out: set[str] = set()
    for code, group in ranked.groupby("code", sort=True):
        out.update(group["household_id"].head(int(sizes.get(code, 0))))
    return out


def truth_section(
    scored: ScoredSnapshot,
    frame: pd.DataFrame,
    raw_dir: Path | None,
    pseudonymizer: Pseudonymizer,
    as_of: date,
    level: str,
    params: ParameterSet,
) -> dict[str, Any] | None:
    """The simulated-data figures (see the module docstring), or None without a truth."""
    if not has_truth(raw_dir):
        return None
    assert raw_dir is not None
    elig = score_result(scored.eligibility, eligibility_truth(raw_dir, pseudonymizer, [as_of]))
    truth = truth_frame(raw_dir, pseudonymizer, [as_of])
    silent = set(truth.loc[truth["silent"], "household_id"])
    lists = scored.lists
    ours = set(lists["household_id"])
    ranked = set(lists.loc[~lists["exploration"], "household_id"])
    rules = rules_lists(frame, lists, f"{level}_code", params, as_of)
    reached = len(ours & silent)
    by_rules = len(rules & silent)
    return {
        "eligibility": elig,
        "silent_households": len(silent),
        "silent_reached": {
            "lists": reached,
            "lists_ranked_part": len(ranked & silent),
            "rules_lists": by_rules,
            "ratio_vs_rules": reached / by_rules if by_rules else None,
            "list_entries": len(ours),
        },
    }


def goals(truth: dict[str, Any] | None) -> dict[str, Any]:
    """The issue's goals on simulated data, met or not."""
    if truth is None:
        return {}
    d = truth["eligibility"].get("dibao", {}).get("likely", {})
    p, r = d.get("precision"), d.get("recall")
    ratio = truth["silent_reached"]["ratio_vs_rules"]
    return {
        "dibao_precision": p,
        "dibao_precision_ok": p is not None and p >= 0.85,
        "dibao_recall": r,
        "dibao_recall_ok": r is not None and r >= 0.75,
        "silent_vs_rules": ratio,
        "silent_vs_rules_ok": ratio is not None and ratio >= 2.0,
    }


def report(
    scored: ScoredSnapshot | None,
    outcome: dict[str, Any],
    frame: pd.DataFrame | None,
    raw_dir: Path | None,
    pseudonymizer: Pseudonymizer | None,
    level: str,
    params: ParameterSet,
) -> dict[str, Any]:
    """The JSON report of a run (``scored`` is None when the run was already complete)."""
    out: dict[str, Any] = {"run": outcome}
    if scored is None or frame is None or pseudonymizer is None:
        return out
    out["eligibility"] = eligibility_counts(scored)
    out["lists"] = list_summary(scored)
    out["scores"] = {
        "mean": float(np.mean(scored.households["score"])),
        "bands": scored.households["band"].value_counts().to_dict(),
    }
    truth = truth_section(scored, frame, raw_dir, pseudonymizer, outcome["as_of"], level, params)
    if truth is not None:
        out["truth"] = truth
        out["goals"] = goals(truth)
    return out
