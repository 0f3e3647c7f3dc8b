"""A small county with a planted selection, for the need-now model's recovery test.

A group G (30 % of households) is never visited by the world; only the exploration draw reaches
it (the ranked list follows a score of recorded events, which G never has). Inside G need rises
with ``z``; outside it, where the world looks, need falls with ``z`` and rises with ``a``. The
truth (``p_need``) is known, so a model's ranking of G can be judged against it.

Run as a study (the figures in docs/model.md)::

    PYTHONPATH=tests .venv/bin/python -m support.planted --seeds 8
"""

from __future__ import annotations

import argparse
from datetime import date

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from core.months import shift_months
from core.settings import NeedNowConfig
from training.need_now import NeedNowFit, exploration_check, fit_need_now
from training.visit_labels import assemble_labels

FEATURES = ("g", "z", "a", "trig")
CONFIG = NeedNowConfig(min_exploration=30)
PARAMS = {"num_threads": 1}  # otherwise the need-now model's own parameters
EXPLORE = 0.01
RANKED = 0.03
T0 = date(2025, 1, 31)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _month(rng: np.random.Generator, t: date, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One month-end's vectors (with the true need probability) and the next month's visits."""
    g = rng.random(n) < 0.3
    z, a = rng.random(n), rng.random(n)
    trig = ~g & (rng.random(n) < 0.5 * a)
    p_need = np.where(g, _sigmoid(-2.5 + 5 * z), _sigmoid(-1.5 + 3 * a - 2 * z))
    need = rng.random(n) < p_need
    pop = pd.DataFrame({"household_id": [f"H{i:05d}" for i in range(n)], "as_of": t,
                        "g": g.astype(float), "z": z, "a": a, "trig": trig.astype(float),
                        "p_need": p_need})  # fmt: skip
    # the lists: the top of a score that, like the rules, sees recorded events (so never G),
    # then a simple random exploration draw of the rest
    ranked = np.zeros(n, bool)
    ranked[np.argsort(-(a + trig), kind="stable")[: int(RANKED * n)]] = True
    pool = np.flatnonzero(~ranked)
    k = int(round(EXPLORE * len(pool)))
    explored = np.zeros(n, bool)
    explored[rng.choice(pool, k, replace=False)] = True
    # the world's visits: never in G; triggered after a recorded event, else routine
    world = ~g & (rng.random(n) < 0.04 + 0.3 * trig)
    rows = []
    for kind, mask in (("list", ranked | explored), ("world", world)):
        for i in np.flatnonzero(mask):
            r = rng.random()
            found = r >= 0.04
            report = need[i] and r < 0.04 + 0.85 or (not need[i]) and r < 0.08
            rows.append({
                "household_id": pop.household_id[i], "as_of": t,
                "event_date": shift_months(t, 1), "record_id": f"{kind}{i}",
                "trigger": "outreach_list" if kind == "list" else
                ("hospitalization" if trig[i] else "elderly_alone"),
                "outcome": "not_found" if not found else ("in_need" if report else "not_in_need"),
                "township_code": "330226001",
                "list_exploration": bool(explored[i]) if kind == "list" else None,
                "list_selection_probability": (k / len(pool) if explored[i] else 1.0)
                if kind == "list" else None,
            })  # fmt: skip
    return pop, pd.DataFrame(rows)


def county(seed: int, months: int, n: int) -> pd.DataFrame:
    """Every month's vectors joined to their visit labels (``world_visit`` on every row)."""
    rng = np.random.default_rng(seed)
    pops, visits = [], []
    for m in range(months):
        pop, vis = _month(rng, shift_months(T0, m), n)
        pops.append(pop)
        visits.append(vis)
    labels = assemble_labels(pd.concat(visits, ignore_index=True))
    frame = pd.concat(pops, ignore_index=True).merge(labels, on=["household_id", "as_of"],
                                                     how="left")  # fmt: skip
    frame["world_visit"] = frame["world_visit"].fillna(False).astype(bool)
    return frame


def fit(frame: pd.DataFrame, weighted: bool) -> NeedNowFit:
    """The need-now model on all but the last two months (those validate); naive unweighted."""
    dates = sorted(frame["as_of"].unique())
    train_dates, valid_dates = dates[:-2], dates[-2:]
    labelled = frame.loc[frame["labelled"].fillna(False).astype(bool)]
    return fit_need_now(
        frame.loc[frame["as_of"].isin(train_dates)],
        labelled.loc[labelled["as_of"].isin(train_dates)],
        labelled.loc[labelled["as_of"].isin(valid_dates)],
        CONFIG, weighted=weighted, features=FEATURES, params=PARAMS,
    )  # fmt: skip


def within_group(fitted: NeedNowFit, fresh: pd.DataFrame) -> float:
    """Spearman, inside G, of the predicted need and the true need probability (first month)."""
    group = fresh.loc[(fresh["g"] == 1) & (fresh["as_of"] == fresh["as_of"].min())]
    return float(spearmanr(fitted.model.predict_need(group), group["p_need"]).statistic)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    args = parser.parse_args()
    print("seed | Spearman in G: corrected, naive | exploration AUC: corrected, naive | "
          "ECE: corrected, naive | slope corrected")  # fmt: skip
    for seed in range(args.seeds):
        frame, fresh = county(seed, 8, 10_000), county(100 + seed, 3, 10_000)
        seen = fresh.loc[fresh["labelled"].fillna(False).astype(bool)]
        w, n = fit(frame, True), fit(frame, False)
        cw, cn = exploration_check(w.model, seen), exploration_check(n.model, seen)
        print(f"{seed} | {within_group(w, fresh):.3f}, {within_group(n, fresh):.3f} | "
              f"{cw['roc_auc']:.3f}, {cn['roc_auc']:.3f} | {cw['ece']:.3f}, {cn['ece']:.3f} | "
              f"{cw['calibration_slope']:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
