"""The report of a scoring run: eligibility counts, gaps, lists and (on simulated data) truth.

Written by ``outreach score`` as ``data/reports/score/latest.json``; printed as tables. When the
pipeline may read the simulator's truth (``settings.truth_dir``: by default the raw folder's
``truth/``; :func:`core.truth.truth_dir_for`) it adds:

- precision and recall of "likely qualifies" (and of "likely or needs verification") for the
  minimum living allowance against true eligibility (:mod:`training.eligibility_eval`);
- how many **silent** households (:func:`training.definitions.silent`) the visit lists reach,
  beside rules lists built under the same conditions (same population, suppression, program-gap
  entries, sizes and exploration; ranked by :func:`policies.early_warning.rules_baseline`);
- ``lists_evaluation``: :func:`serving.batch.list_evaluation.evaluate_lists` — undiscovered
  need found, need found, onset recall and the list's composition, for our lists and the rules
  lists, with bootstrap intervals that rebuild the lists in every resample.

The population the lists are drawn from (:mod:`policies.population`) is reported in every run
(``population``): households per segment, the known ones counted apart.

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
from policies.population import DEFINITION as POPULATION
from policies.population import PROGRAM_GAP_SHARE
from serving.batch.frame import ScoredSnapshot
from serving.batch.list_evaluation import composition, evaluate_lists
from serving.batch.priority import ListSpec, build_lists
from training.definitions import DEFINITIONS, RECORD_INPUTS, silent
from training.eligibility_eval import eligibility_truth, score_result
from training.truth import has_truth, truth_frame

N_BOOT = 100
"""Bootstrap resamples of the list evaluation of a scoring run."""
MAX_BOOT_HOUSEHOLDS = 200_000
"""Above this many households a scoring run reports the list evaluation without intervals
(each resample rebuilds every list; the 6-month evaluation has them)."""


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
        "program_gap_entries": int((lists["path"] == "program_gap").sum()) if len(lists) else 0,
        "listed_with_gap": int((gap_any & listed.to_numpy()).sum()),
        "suppressed_after_visit": int(scored.households["suppressed"].sum()),
    }


def truth_section(
    scored: ScoredSnapshot,
    frame: pd.DataFrame,
    truth_dir: Path | None,
    pseudonymizer: Pseudonymizer,
    as_of: date,
    spec: ListSpec,
    params: ParameterSet,
    n_boot: int = N_BOOT,
) -> dict[str, Any] | None:
    """The simulated-data figures (see the module docstring), or None without a truth.

    ``truth_dir`` is the folder :func:`core.truth.truth_dir_for` allowed (None: read none)."""
    if not has_truth(truth_dir):
        return None
    assert truth_dir is not None
    elig = score_result(scored.eligibility, eligibility_truth(truth_dir, pseudonymizer, [as_of]))
    truth = truth_frame(truth_dir, pseudonymizer, [as_of])
    h = scored.households
    records = frame[["household_id", *RECORD_INPUTS]].assign(
        household_id=lambda d: d["household_id"].astype(str)
    )
    judged = h[["household_id"]].merge(records, on="household_id", how="left")
    judged = judged.merge(truth.drop(columns=["as_of"]), on="household_id", how="left")
    rules = rules_baseline(frame, params, as_of)
    share = float(params.get(PROGRAM_GAP_SHARE, as_of))
    if len(h) > MAX_BOOT_HOUSEHOLDS:
        n_boot = 0
    evaluation = evaluate_lists(
        h,
        judged,
        rules,
        spec,
        share,
        lists=scored.lists,
        n_boot=n_boot,
        seed=spec.seed,
        as_of=as_of,
    )
    ours, by_rules = evaluation["ours"]["all"], evaluation["rules"]["all"]
    silent_ids = set(h["household_id"][silent(judged)])
    lists = scored.lists
    reached = len(set(lists["household_id"]) & silent_ids)
    ranked = set(lists.loc[lists["path"] == "ranked", "household_id"])
    rules_reached = _rules_silent(silent_ids, h, rules, spec, share, as_of)
    return {
        "eligibility": elig,
        "silent_definition": DEFINITIONS["silent"],
        "silent_households": len(silent_ids),
        "silent_reached": {
            "lists": reached,
            "lists_ranked_part": len(ranked & silent_ids),
            "rules_lists": rules_reached,
            "ratio_vs_rules": reached / rules_reached if rules_reached else None,
            "list_entries": len(lists),
        },
        "undiscovered_need_found": {
            "lists": ours["undiscovered_need"],
            "rules_lists": by_rules["undiscovered_need"],
        },
        "lists_evaluation": evaluation,
    }


def _rules_silent(
    silent_ids: set[str],
    h: pd.DataFrame,
    rules: np.ndarray,
    spec: ListSpec,
    share: float,
    as_of: date,
) -> int:
    """Silent households on the rules lists built under the same conditions as ours."""
    lists = build_lists(h.assign(priority=rules, score=rules), spec, share, as_of)
    return len(set(lists["household_id"]) & silent_ids)


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
    truth_dir: Path | None,
    pseudonymizer: Pseudonymizer | None,
    spec: ListSpec,
    params: ParameterSet,
) -> dict[str, Any]:
    """The JSON report of a run (``scored`` is None when the run was already complete)."""
    out: dict[str, Any] = {"run": outcome}
    if scored is None or frame is None or pseudonymizer is None:
        return out
    out["eligibility"] = eligibility_counts(scored)
    out["lists"] = list_summary(scored)
    out["population"] = {
        "definition": POPULATION,
        **composition(scored.households, scored.lists),
    }
    out["scores"] = {
        "mean": float(np.mean(scored.households["score"])),
        "bands": scored.households["band"].value_counts().to_dict(),
    }
    truth = truth_section(scored, frame, truth_dir, pseudonymizer, outcome["as_of"], spec, params)
    if truth is not None:
        out["truth"] = truth
        out["goals"] = goals(truth)
    return out
