"""What a policy did for people, from its world's truth (evaluation only: reads the truth).

Definitions (per loop month ``m``; a list for ``m`` is made from the month end of ``m - 1``):

- **unassisted hardship household-months**: household-months in true hardship and not in
  低保/特困, summed over the loop months (hardship is measured before assistance, so only
  enrolment removes one);
- **undiscovered need** at ``m - 1``: in hardship, not enrolled, no application or case in the
  12 months up to it (a case started by any visit counts), not on the rural monitoring list
  (the truth's ``undiscovered_need``); **silent**: the same without the monitoring condition;
- **undiscovered need reached**: distinct households listed for ``m`` with undiscovered need
  at ``m - 1`` whose list visit took place (the world found them: outcome not ``not_found``),
  and of them how many the visit found in need; the same for silent beside it;
- **undiscovered-need recall** of ``m``: households reached in ``m`` / households with
  undiscovered need at ``m - 1`` in this policy's own world;
- **time to help**: households silent at the checkpoint (2025-12) and households whose hardship
  starts silent in a loop month; months from then to the first month enrolled in 低保/特困
  (Kaplan-Meier; censored when the hardship ends unassisted or at the last loop month);
- **visits per household newly assisted**: list visits / households not enrolled at the
  checkpoint and enrolled in some loop month (the comparison also gives it against status quo);
- **share of list visits that find need**: ``in_need`` outcomes / list visits.

Splits: urban/rural, elderly living alone, severe disability (a member with grade 1-2) and
township, for the unassisted months and the undiscovered need reached.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

COLUMNS = ["household_id", "month", "township_idx", "urban", "hardship", "enrolled_dibao",
           "enrolled_tekun", "silent", "undiscovered_need", "elderly_alone",
           "severe_disability_members"]  # fmt: skip
KM_MONTHS = (1, 3, 6, 12)


def _truth(folder: Path, labels: list[str]) -> pd.DataFrame:
    parts = [
        pd.read_parquet(folder / "truth" / "household_months" / f"{label}.parquet", columns=COLUMNS)
        for label in labels
    ]
    t = pd.concat(parts, ignore_index=True)
    t["assisted"] = t["enrolled_dibao"] | t["enrolled_tekun"]
    t["unassisted"] = t["hardship"] & ~t["assisted"]
    t["severe_disability"] = t["severe_disability_members"] > 0
    return t


def _previous_label(label: str) -> str:
    year, month = map(int, label.split("-"))
    year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return f"{year:04d}-{month:02d}"


def kaplan_meier(duration: np.ndarray, event: np.ndarray, horizon: int) -> list[float]:
    """Survival S(t) for t = 1..horizon (share still waiting for help after t months).

    >>> kaplan_meier(np.array([1, 2, 2, 3]), np.array([True, True, False, False]), 3)
    [0.75, 0.5, 0.5]
    """
    surv, out = 1.0, []
    for t in range(1, horizon + 1):
        at_risk = int((duration >= t).sum())
        helped = int(((duration == t) & event).sum())
        if at_risk:
            surv *= 1 - helped / at_risk
        out.append(round(surv, 6))
    return out


def time_to_help(t: pd.DataFrame, fork: int, last: int) -> dict[str, Any]:
    """Kaplan-Meier of months from silent hardship to enrolment (see the module docstring)."""
    t = t.sort_values(["household_id", "month"])
    wide = {c: t.pivot(index="household_id", columns="month", values=c) for c in
            ("hardship", "silent", "assisted")}  # fmt: skip
    months = list(range(fork, last + 1))
    hard = wide["hardship"].reindex(columns=months).fillna(False).to_numpy(bool)
    silent = wide["silent"].reindex(columns=months).fillna(False).to_numpy(bool)
    assisted = wide["assisted"].reindex(columns=months).fillna(False).to_numpy(bool)
    durations, events = [], []
    n_h, n_m = hard.shape
    for i in range(n_h):
        j = 0
        while j < n_m:
            starts = silent[i, j] and (j == 0 or not hard[i, j - 1])
            if not starts:
                j += 1
                continue
            k = j + 1
            while k < n_m and hard[i, k] and not assisted[i, k]:
                k += 1
            helped = k < n_m and assisted[i, k]
            durations.append(k - j)
            events.append(bool(helped))
            j = k + 1
    d, e = np.asarray(durations, int), np.asarray(events, bool)
    horizon = last - fork
    surv = kaplan_meier(d, e, horizon) if len(d) else []
    return {
        "households": int(len(d)),
        "helped": int(e.sum()),
        "survival": surv,
        **{
            f"helped_within_{k}m": (round(1 - surv[k - 1], 4) if len(surv) >= k else None)
            for k in KM_MONTHS
        },  # fmt: skip
    }


def _groups(frame: pd.DataFrame, value: str) -> dict[str, dict[str, int]]:
    return {
        "urban": {str(k): int(v) for k, v in frame.groupby("urban")[value].sum().items()},
        "elderly_alone": {
            str(k): int(v) for k, v in frame.groupby("elderly_alone")[value].sum().items()
        },
        "severe_disability": {
            str(k): int(v) for k, v in frame.groupby("severe_disability")[value].sum().items()
        },
        "township_idx": {
            str(k): int(v) for k, v in frame.groupby("township_idx")[value].sum().items()
        },
    }


def evaluate_policy(folder: Path, labels: list[str]) -> dict[str, Any]:
    """The figures of one policy's run over the loop months ``labels`` (see the docstring)."""
    fork_label = _previous_label(labels[0])
    t = _truth(folder, [fork_label, *labels])
    fork = int(t["month"].min())
    last = int(t["month"].max())
    loop = t[t["month"] > fork]
    by_month = loop.groupby("month")["unassisted"].sum()
    per_month, reached_ids, silent_ids, found_ids = [], set(), set(), set()
    visits = found_need = 0
    for i, label in enumerate(labels):
        path = folder / "lists" / f"{label}.parquet"
        entries = pd.read_parquet(path) if path.exists() else pd.DataFrame()
        prev = t[t["month"] == fork + i].set_index("household_id")  # the list's month end
        present = int(prev["undiscovered_need"].sum())
        row = {"month": label, "listed": int(len(entries)), "undiscovered_need_present": present}
        if len(entries):
            e = entries[entries["true_household"] >= 0]
            e = e.join(prev[["undiscovered_need", "silent"]], on="true_household")
            took_place = e["outcome"] != "not_found"
            reach = e[took_place & e["undiscovered_need"].fillna(False).astype(bool)]
            reach_silent = e[took_place & e["silent"].fillna(False).astype(bool)]
            reached_ids |= set(reach["true_household"])
            silent_ids |= set(reach_silent["true_household"])
            found_ids |= set(reach.loc[reach["outcome"] == "in_need", "true_household"])
            visits += int(len(entries))
            found_need += int((entries["outcome"] == "in_need").sum())
            row |= {"reached": int(len(reach)), "silent_reached": int(len(reach_silent)),
                    "recall": (len(reach) / present) if present else None}  # fmt: skip
        else:
            row |= {"reached": 0, "silent_reached": 0, "recall": 0.0 if present else None}
        per_month.append(row)
    fork_assisted = set(t.loc[(t["month"] == fork) & t["assisted"], "household_id"])
    ever = set(loop.loc[loop["assisted"], "household_id"])
    newly = len(ever - fork_assisted)
    recalls = [r["recall"] for r in per_month[-3:] if r["recall"] is not None]
    return {
        "months": labels,
        "unassisted_hardship_household_months": int(by_month.sum()),
        "unassisted_by_month": {str(k): int(v) for k, v in by_month.items()},
        "unassisted_by_group": _groups(loop, "unassisted"),
        "undiscovered_need_reached": len(reached_ids),
        "undiscovered_need_reached_found_in_need": len(found_ids),
        "silent_reached": len(silent_ids),
        "undiscovered_need_recall_last3": float(np.mean(recalls)) if recalls else None,
        "by_month": per_month,
        "list_visits": visits,
        "list_visits_finding_need_share": (found_need / visits) if visits else None,
        "newly_assisted_households": newly,
        "list_visits_per_newly_assisted": (visits / newly) if newly else None,
        "time_to_help": time_to_help(t, fork, last),
        "reached_by_group": _reached_groups(t, reached_ids, fork),
    }


def _reached_groups(t: pd.DataFrame, reached: set[int], fork: int) -> dict[str, dict[str, int]]:
    at_fork = t[t["month"] == fork].assign(reached=lambda f: f["household_id"].isin(reached))
    return _groups(at_fork, "reached")
