"""Checks of a simulated world against its own truth: the figures the simulator promises.

Used by the test suite (which asserts the ranges), by ``bench/`` and by data scientists who
want to know what a world looks like before modelling it. Reads only ``truth/``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from simulator.risk import HORIZON

EARLY_WARNING_RULES = {
    "serious_illness": "a member fell seriously ill in the last 12 months",
    "severe_disability": "a member has a severe (grade 1-2) disability",
    "unemployment": "an earner lost their job in the last 12 months",
    "school_absence": "children missed 3 or more school days this month",
    "elderly_alone": "an elderly person lives alone",
    "utility_arrears": "utility bills 2 or more months in arrears",
}


def load_household_months(out: Path, columns: list[str] | None = None) -> pd.DataFrame:
    return pq.read_table(out / "truth" / "household_months.parquet", columns=columns).to_pandas()


def future_onset(hm: pd.DataFrame, horizon: int = HORIZON) -> np.ndarray:
    """For each row, whether the household has an onset in months t+1..t+horizon."""
    hid = hm["household_id"].to_numpy()
    month = hm["month"].to_numpy().astype(np.int64)
    ids, inv = np.unique(hid, return_inverse=True)
    m0 = month.min()
    grid = np.zeros((len(ids), month.max() - m0 + 2 + horizon), np.int32)
    grid[inv, month - m0 + 1] = hm["onset"].to_numpy()
    csum = np.cumsum(grid, axis=1)
    col = month - m0 + 1
    return (csum[inv, col + horizon] - csum[inv, col]) > 0


def rule_flags(hm: pd.DataFrame) -> pd.DataFrame:
    """The early-warning rules of today's practice, evaluated on the true state."""
    return pd.DataFrame(
        {
            "serious_illness": hm["serious_illness"].to_numpy()
            | (hm["months_since_illness"].to_numpy() < 12),
            "severe_disability": hm["severe_disability_members"].to_numpy() > 0,
            "unemployment": hm["job_loss_spell"].to_numpy()
            | (hm["months_since_job_loss"].to_numpy() < 12),
            "school_absence": hm["school_days_absent"].to_numpy() >= 3,
            "elderly_alone": hm["elderly_alone"].to_numpy(),
            "utility_arrears": hm["utility_arrears_months"].to_numpy() >= 2,
        }
    )


def roc_auc(label: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC by the rank-sum formula (ties get their mean rank)."""
    label = np.asarray(label, bool)
    ranks = pd.Series(score).rank(method="average").to_numpy()
    n_pos = int(label.sum())
    n_neg = len(label) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    return float((ranks[label].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def calibration_table(p: np.ndarray, y: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Equal-mass bins of the predicted probability with observed rates and tolerances."""
    order = np.argsort(p, kind="stable")
    rows = []
    for k, idx in enumerate(np.array_split(order, bins)):
        mean_p = float(p[idx].mean())
        rate = float(y[idx].mean())
        se = float(np.sqrt(max(mean_p * (1 - mean_p), 1e-12) / len(idx)))
        tol = max(0.01, 2 * se)
        rows.append(
            {
                "bin": k,
                "n": len(idx),
                "mean_p": mean_p,
                "observed": rate,
                "tolerance": tol,
                "ok": abs(rate - mean_p) <= tol,
            }
        )
    return pd.DataFrame(rows)


def world_checks(out: Path) -> dict:
    """Every headline figure of a world, as plain data (see the tests for the promised ranges)."""
    hm = load_household_months(out)
    hardship = hm["hardship"].to_numpy()
    rule_ok = bool(((hm["income_per_capita"] < hm["standard"]) == hm["hardship"]).all())
    by_month = hm.groupby("month")["hardship"].mean()
    flags = rule_flags(hm)

    def rr(flag: np.ndarray) -> float:
        return float(hardship[flag].mean() / hardship[~flag].mean())

    onset6 = future_onset(hm)
    rows = (hm["complete_future"] & ~hm["hardship"]).to_numpy()
    p = hm["p_onset_6m"].to_numpy()[rows]
    y = onset6[rows]
    calib = calibration_table(p, y)
    rule_auc = {name: roc_auc(y, flags[name].to_numpy()[rows]) for name in flags}
    silent = hm["silent"].to_numpy()
    return {
        "household_months": len(hm),
        "hardship_rule_holds": rule_ok,
        "hardship_share_min": float(by_month.min()),
        "hardship_share_max": float(by_month.max()),
        "hardship_share": float(hardship.mean()),
        # relative risk of hardship in the month the indicator holds
        "relative_risk": {
            "serious_illness": rr(hm["serious_illness"].to_numpy()),
            "severe_disability": rr(flags["severe_disability"].to_numpy()),
            "unemployment": rr(hm["job_loss_spell"].to_numpy()),
        },
        "silent_share_of_hardship": float(silent.sum() / max(hardship.sum(), 1)),
        "evaluation_rows": int(rows.sum()),
        "onset_rate_6m": float(y.mean()),
        "oracle_auc": roc_auc(y, p),
        "rule_auc": rule_auc,
        "best_rule": max(rule_auc, key=rule_auc.get),
        "best_rule_auc": max(rule_auc.values()),
        "calibration": calib.to_dict(orient="records"),
        "calibration_ok": bool(calib["ok"].all()),
    }


def namesake_share(out: Path) -> float:
    """Share of people who share their registered name and birth date with someone else."""
    p = pq.read_table(
        out / "truth" / "persons.parquet", columns=["name", "registered_birth_date"]
    ).to_pandas()
    return float(p.duplicated(keep=False).mean())


def defect_rates(out: Path, agency: str) -> dict[str, float]:
    """Observed defect shares of an agency's records, from the record truth."""
    t = pq.read_table(out / "truth" / "records" / agency).to_pandas()
    persons = pq.read_table(
        out / "truth" / "persons.parquet", columns=["person_id", "birth_date"]
    ).to_pandas()
    born = persons.set_index("person_id")["birth_date"].reindex(t["person_id"])
    return {
        "records": len(t),
        # legacy 15-digit numbers exist only for people born before 2000
        "legacy_eligible_share": float((born.dt.year < 2000).mean()),
        "mistyped_id": float(t["id_mistyped"].mean()),
        "legacy_id": float(t["id_legacy"].mean()),
        "missing_id": float(t["id_missing"].mean()),
        "name_variant": float(t["name_variant"].mean()),
        "duplicate": float(t["duplicated"].mean()),
    }
