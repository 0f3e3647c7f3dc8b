"""TreeSHAP contributions and reason codes on a tiny LightGBM model trained on synthetic data."""

from __future__ import annotations

import json
import warnings

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from features.vectors.catalogue import feature, reason
from training.explain import (
    AXIS_LABEL,
    BIAS,
    contributions,
    explain_households,
    explain_row,
    global_importance,
    numeric_matrix,
    summary_plot,
    top_reasons,
)

FEATS = [
    "serious_illness_12m",
    "unemployed_members",
    "income_per_capita_monthly",
    "children",
    "school_absence_rate_3m",
    "months_since_last_visit",
]


def _frame(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "serious_illness_12m": rng.random(n) < 0.3,
            "unemployed_members": rng.integers(0, 3, n).astype(float),
            "income_per_capita_monthly": rng.gamma(2.0, 800.0, n),
            "children": rng.integers(0, 4, n).astype(float),
            "school_absence_rate_3m": rng.beta(1, 10, n),
            "months_since_last_visit": np.where(
                rng.random(n) < 0.4, np.nan, rng.integers(0, 30, n)
            ),
        }
    )
    # the planted driver: serious illness decides the label, the rest is noise
    p = np.where(X["serious_illness_12m"], 0.9, 0.05)
    return X, (rng.random(n) < p).astype(int)


@pytest.fixture(scope="module")
def model():
    X, y = _frame(600, seed=1)
    params = {
        "objective": "binary",
        "num_leaves": 7,
        "min_data_in_leaf": 20,
        "learning_rate": 0.2,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 1,
        "seed": 7,
        "verbose": -1,
    }
    booster = lgb.train(params, lgb.Dataset(X, y), num_boost_round=25)
    return booster, X


def test_contributions_match_shap_and_sum_to_raw_score(model):
    shap = pytest.importorskip("shap")
    booster, X = model
    contrib = contributions(booster, X)
    assert list(contrib.columns) == [*FEATS, BIAS]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = shap.TreeExplainer(booster).shap_values(X)
    if isinstance(expected, list):  # older shap: one array per class
        expected = expected[-1]
    expected = np.asarray(expected)
    if expected.ndim == 3:  # (rows, features, classes)
        expected = expected[..., -1]
    np.testing.assert_allclose(contrib[FEATS].to_numpy(), expected, atol=1e-6)
    raw = booster.predict(X, raw_score=True)
    np.testing.assert_allclose(contrib.sum(axis=1).to_numpy(), raw, atol=1e-6)


def test_contributions_chunked_and_column_order(model):
    booster, X = model
    whole = contributions(booster, X)
    shuffled = X[FEATS[::-1]]  # column order does not matter
    chunked = contributions(booster, shuffled, chunk_size=7)
    np.testing.assert_allclose(chunked.to_numpy(), whole.to_numpy(), atol=1e-12)
    assert list(chunked.index) == list(X.index)
    with pytest.raises(ValueError, match="children"):
        contributions(booster, X.drop(columns="children"))


def test_planted_driver_is_reason_one_in_both_languages(model):
    booster, X = model
    contrib = contributions(booster, X)
    sick = X.index[X["serious_illness_12m"]][:5]
    for i in sick:
        zh = top_reasons(contrib.loc[i], X.loc[i], k=3, lang="zh")
        en = top_reasons(contrib.loc[i], X.loc[i], k=3, lang="en")
        assert zh[0]["feature"] == en[0]["feature"] == "serious_illness_12m"
        assert zh[0]["value"] is True
        assert zh[0]["text"] == "近12个月家庭成员有重大疾病就医记录"
        assert en[0]["text"] == "a member had claims for a serious illness in the last 12 months"
        assert en[0]["group"] == "early_warning_illness"
        assert en[0]["shap"] == pytest.approx(contrib.loc[i, "serious_illness_12m"])
        assert 1 <= len(en) <= 3
        assert all(r["shap"] > 0 for r in en)
        assert [r["shap"] for r in en] == sorted((r["shap"] for r in en), reverse=True)
    # a household without the flag never gets the illness phrase as a reason
    well = X.index[~X["serious_illness_12m"]][0]
    feats = [r["feature"] for r in top_reasons(contrib.loc[well], X.loc[well], k=6, lang="en")]
    assert "serious_illness_12m" not in feats


def test_reasons_render_value_and_follow_missing_rule():
    contrib = pd.Series(
        {
            "unemployed_members": 0.8,
            "income_per_capita_monthly": 0.9,  # missing value, not nullable: skipped
            "months_since_last_visit": 0.5,  # missing but nullable (never visited): kept
            "school_absence_rate_3m": 0.2,
            "children": -0.4,  # pushes risk down: never a reason
            BIAS: -2.0,
        }
    )
    values = pd.Series(
        {
            "unemployed_members": 2.0,
            "income_per_capita_monthly": np.nan,
            "months_since_last_visit": np.nan,
            "school_absence_rate_3m": 0.25,
            "children": 3.0,
        }
    )
    en = top_reasons(contrib, values, k=5, lang="en")
    assert [r["feature"] for r in en] == [
        "unemployed_members",
        "months_since_last_visit",
        "school_absence_rate_3m",
    ]
    assert en[0]["value"] == 2 and isinstance(en[0]["value"], int)
    assert en[0]["text"] == "2 members registered unemployed"
    assert en[1]["value"] is None
    assert en[1]["text"] == "never visited"
    assert en[2]["text"] == "children missed 25% of school days in the last 3 months"
    zh = top_reasons(contrib, values, k=2, lang="zh")
    assert [r["text"] for r in zh] == ["家庭中有 2 人处于失业登记状态", "从未被走访"]
    assert feature("months_since_last_visit").nullable
    with pytest.raises(ValueError):
        top_reasons(contrib, values, lang="fr")


def test_flag_false_uses_false_phrase():
    contrib = pd.Series({"enrolled_dibao": 0.6, BIAS: 0.0})
    [r] = top_reasons(contrib, {"enrolled_dibao": 0.0}, lang="en")
    assert r["value"] is False
    assert r["text"] == reason("enrolled_dibao", False, "en") == "no member is enrolled in dibao"


def test_explain_households_json_ready(model):
    booster, X = model
    rows = X.iloc[:4]
    records = explain_households(booster, rows, ids=["h1", "h2", "h3", "h4"], k=2, chunk_size=3)
    json.dumps(records, ensure_ascii=False)  # plain JSON
    raw = booster.predict(rows, raw_score=True)
    for rec, r in zip(records, raw, strict=True):
        assert rec["sum_ok"] is True
        assert rec["raw_score"] == pytest.approx(r, abs=1e-9)
        assert rec["shap_sum"] == pytest.approx(r, abs=1e-6)
        assert rec["units"] == "log-odds"
        assert set(rec["reasons"]) == {"zh", "en"}
        assert [x["feature"] for x in rec["reasons"]["zh"]] == [
            x["feature"] for x in rec["reasons"]["en"]
        ]
        assert len(rec["reasons"]["en"]) <= 2
    assert [r["household_id"] for r in records] == ["h1", "h2", "h3", "h4"]
    with pytest.raises(ValueError):
        explain_households(booster, rows, ids=["h1"])


def test_one_row_path_equals_the_batch_path_with_categories():
    """On-demand scoring (numeric array, one row) explains exactly as batch scoring (frame):
    same raw score, same base value, same reasons, including a category with a missing level."""
    rng = np.random.default_rng(4)
    X, y = _frame(500, seed=4)
    levels = ["rural", "town", "urban"]
    kind = rng.choice([*levels, None], size=len(X), p=[0.4, 0.3, 0.2, 0.1])
    X["area_kind"] = pd.Categorical(kind, categories=levels)
    y = (y | ((X["area_kind"] == "urban") & (rng.random(len(X)) < 0.5))).astype(int)
    booster = lgb.train(
        {"objective": "binary", "num_leaves": 7, "min_data_in_leaf": 10, "verbose": -1,
         "deterministic": True, "seed": 1, "num_threads": 1},
        lgb.Dataset(X, y), num_boost_round=30,
    )  # fmt: skip
    A = numeric_matrix(X)
    assert A.dtype == np.float64 and A.shape == X.shape
    assert np.isnan(A[kind == None, -1]).all()  # noqa: E711 - elementwise on an object array
    ids = [f"h{i}" for i in range(len(X))]
    batch = explain_households(booster, X, ids, k=4)
    names = list(X.columns)
    for i in range(0, len(X), 7):
        values = {n: X[n].iloc[i] for n in names}
        one = explain_row(booster, names, A[i : i + 1], ids[i], values, k=4)
        assert one["raw_score"] == pytest.approx(batch[i]["raw_score"], abs=1e-12)
        assert one["base_value"] == pytest.approx(batch[i]["base_value"], abs=1e-12)
        assert one["reasons"] == batch[i]["reasons"]
        assert one["sum_ok"] is True


def test_global_importance_and_plots(model, tmp_path):
    booster, X = model
    contrib = contributions(booster, X)
    imp = global_importance(contrib)
    assert list(imp.columns) == ["feature", "mean_abs_shap", "share", "zh", "en", "group"]
    assert imp.loc[0, "feature"] == "serious_illness_12m"
    assert imp.loc[0, "en"] == "serious illness in the last 12 months"
    assert imp.loc[0, "zh"] == "近12个月有重大疾病"
    assert imp["mean_abs_shap"].is_monotonic_decreasing
    assert imp["share"].sum() == pytest.approx(1.0)
    assert BIAS not in set(imp["feature"])
    assert AXIS_LABEL == "SHAP value (log-odds)"
    for kind in ("beeswarm", "bar"):
        path = summary_plot(contrib, X, tmp_path / f"{kind}.png", kind=kind)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
