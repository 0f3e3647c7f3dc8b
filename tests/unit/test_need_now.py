"""The need-now model: selection correction, noise correction, and the planted-selection test.

The planted-selection test generates a small county whose truth is known. A group G (30 % of
households) is never visited by the world; only the exploration draw reaches it. Inside G need
rises with a feature ``z``; outside it, where the world's visits look, need *falls* with ``z``
and rises with ``a``. The naive model learns the world's visits and ranks G backwards; the
inverse-propensity-weighted model must find the planted cause (``z`` inside G) from the few
exploration outcomes. It goes through the real chain: visit rows -> :func:`assemble_labels` ->
:class:`WorldPropensity` -> weights -> :func:`fit_need_now`.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from core.months import shift_months
from core.settings import NeedNowConfig
from training import need_now as nn
from training.need_now import exploration_check, fit_need_now, need_from_report
from training.visit_labels import assemble_labels
from training.visit_weights import inclusion_probability, ipw_weights

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


def _county(seed: int, months: int, n: int) -> pd.DataFrame:
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


def _fit(frame: pd.DataFrame, weighted: bool) -> nn.NeedNowFit:
    dates = sorted(frame["as_of"].unique())
    train_dates, valid_dates = dates[:-2], dates[-2:]
    labelled = frame.loc[frame["labelled"].fillna(False).astype(bool)]
    return fit_need_now(
        frame.loc[frame["as_of"].isin(train_dates)],
        labelled.loc[labelled["as_of"].isin(train_dates)],
        labelled.loc[labelled["as_of"].isin(valid_dates)],
        CONFIG, weighted=weighted, features=FEATURES, params=PARAMS,
    )  # fmt: skip


@pytest.fixture(scope="module")
def county() -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = _county(seed=7, months=8, n=10_000)
    fresh = _county(seed=8, months=3, n=10_000)  # later months: nothing trained on them
    return frame, fresh


def _within_group(fit: nn.NeedNowFit, fresh: pd.DataFrame) -> float:
    """Spearman, inside G, of the predicted need and the true need probability."""
    group = fresh.loc[(fresh["g"] == 1) & (fresh["as_of"] == fresh["as_of"].min())]
    return float(spearmanr(fit.model.predict_need(group), group["p_need"]).statistic)


def test_the_planted_group_is_ranked_by_its_true_need_only_after_correction(county):
    frame, fresh = county
    labelled = frame.loc[frame["labelled"].fillna(False).astype(bool)]
    # the design of the test: the world never visits G, exploration does
    in_g = labelled["g"] == 1
    assert set(labelled.loc[in_g, "channel"]) <= {"exploration", "ranked"}
    assert (labelled.loc[in_g, "channel"] == "exploration").sum() >= 200
    corrected, naive = _fit(frame, weighted=True), _fit(frame, weighted=False)
    rho_corrected, rho_naive = _within_group(corrected, fresh), _within_group(naive, fresh)
    assert rho_corrected >= 0.5, (rho_corrected, rho_naive)
    assert rho_naive <= 0.2, (rho_corrected, rho_naive)
    assert corrected.report["calibrated_on"].startswith("exploration")


def test_without_the_weights_the_correction_is_lost(county, monkeypatch):
    """Remove the weighting inside the pipeline (weights all 1): the planted cause is missed."""
    frame, fresh = county
    monkeypatch.setattr(nn, "ipw_weights", lambda pi, floor, cap: np.ones(len(pi)))
    assert _within_group(_fit(frame, weighted=True), fresh) <= 0.2


def test_exploration_outcomes_check_the_report_probability(county):
    """On held-out months, the report probability matches what exploration visits found."""
    frame, fresh = county
    fit = _fit(frame, weighted=True)
    check = exploration_check(fit.model, fresh.loc[fresh["labelled"].fillna(False).astype(bool)])
    naive = exploration_check(
        _fit(frame, weighted=False).model, fresh.loc[fresh["labelled"].fillna(False).astype(bool)]
    )
    assert check["rows"] >= 250 and check["roc_auc"] > 0.7, check
    assert check["ece"] < 0.1, check  # 283 rows in 10 bins: sampling noise alone is ~0.04
    assert check["roc_auc"] > naive["roc_auc"] + 0.1, (check, naive)


def test_noise_correction_inverts_the_visit_model():
    p = np.linspace(0, 1, 11)
    q = 0.04 + (0.85 - 0.04) * p
    assert np.allclose(need_from_report(q, 0.85, 0.04), p)
    assert need_from_report(np.array([0.0, 1.0]), 0.85, 0.04).tolist() == [0.0, 1.0]


def test_inclusion_probability_combines_the_designs():
    rows = pd.DataFrame({"channel": ["ranked", "exploration", "triggered", "routine"],
                         "list_probability": [1.0, 0.1, np.nan, np.nan],
                         "exploration_rate": [0.1, 0.1, 0.1, 0.0]})  # fmt: skip
    pi = inclusion_probability(rows, np.array([0.5, 0.5, 0.5, 0.2]))
    assert pi.tolist() == pytest.approx([1.0, 0.55, 0.55, 0.2])


def test_weights_are_stabilised_and_clipped():
    pi = np.array([1.0, 0.5, 0.25, 1e-9])
    free = ipw_weights(pi, 0.01, 1e9)
    assert free.mean() == pytest.approx(1.0)
    assert (free / free[0]).tolist() == pytest.approx([1, 2, 4, 100])  # floored at 0.01
    capped = ipw_weights(pi, 0.01, 2.0)
    assert capped.mean() == pytest.approx(1.0)
    assert np.all(np.diff(capped) >= 0)  # a rarer inclusion never weighs less
    assert capped.max() == pytest.approx(2.0) and capped[3] / capped[0] < 100
