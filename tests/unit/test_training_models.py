"""The estimators on synthetic rows: model matrix, LightGBM, calibration, logistic baseline."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss

from features.vectors.catalogue import FEATURES
from training.estimators import (
    FEATURES_FOR_MODEL,
    LOGISTIC_C_GRID,
    Calibrator,
    LogisticBaseline,
    OutreachModel,
    fit_lightgbm,
    model_matrix,
)
from training.evaluation import roc_auc

# ---------------------------------------------------------------- models


def _synthetic(n: int, seed: int) -> pd.DataFrame:
    """A snapshot-like frame with every registry feature; need driven by a few of them."""
    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {
        "household_id": [f"H{seed}{i:05d}" for i in range(n)],
        "township_code": rng.choice(["T1", "T2", "T3"], n),
    }
    for f in FEATURES:
        if f.dtype == "bool":
            cols[f.name] = rng.random(n) < 0.15
        elif f.dtype == "int":
            cols[f.name] = rng.poisson(0.3, n).astype("int32")
        elif f.dtype == "float":
            v = rng.gamma(2.0, 1.0, n)
            cols[f.name] = np.where(rng.random(n) < 0.1, np.nan, v) if f.nullable else v
        else:
            cols[f.name] = rng.choice(["a", "b"], n)
    df = pd.DataFrame(cols)
    z = (
        -3.0
        + 1.5 * df["serious_illness_12m"]
        + 1.0 * df["unemployed_members"]
        - 0.6 * df["income_to_dibao_ratio"]
        + 1.0 * df["utility_arrears_months_3m"].clip(upper=2)
    )
    df["label"] = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(float)
    return df


FAST = {"learning_rate": 0.2}


@pytest.fixture(scope="module")
def frames():
    return _synthetic(3000, 1), _synthetic(1500, 2), _synthetic(1500, 3)


@pytest.fixture(scope="module")
def fitted(frames):
    train, valid, _ = frames
    return fit_lightgbm(train, valid, FAST, num_boost_round=200, early_stopping_rounds=20)


def test_model_matrix_types_and_columns():
    f = _synthetic(50, 0)
    f.loc[0, "months_since_last_visit"] = None
    X = model_matrix(f)
    assert list(X.columns) == list(FEATURES_FOR_MODEL)
    assert all(X[c].dtype == "float64" for c in X.columns)
    assert np.isnan(X.loc[0, "months_since_last_visit"])
    for key in ("household_id", "township_code", "enrolled_dibao", "visit_in_need_6m"):
        assert key not in FEATURES_FOR_MODEL
    with pytest.raises(ValueError, match="lacks"):
        model_matrix(f.drop(columns=["children"]))
    # a category feature keeps the given levels, unseen values become missing
    g = pd.DataFrame({"c": ["x", "y", None, "z"]})
    from training import estimators

    estimators._DTYPES["c"] = "category"
    try:
        Xc = model_matrix(g, ["c"], {"c": ["x", "y"]})
    finally:
        del estimators._DTYPES["c"]
    assert list(Xc["c"].cat.categories) == ["x", "y"]
    assert Xc["c"].isna().tolist() == [False, False, True, True]


def test_training_is_deterministic_and_learns(frames, fitted):
    train, valid, test = frames
    again = fit_lightgbm(train, valid, FAST, num_boost_round=200, early_stopping_rounds=20)
    assert again.booster.model_to_string() == fitted.booster.model_to_string()
    assert fitted.booster.num_trees() == fitted.best_iteration
    assert roc_auc(test["label"], fitted.predict_proba(test)) > 0.7
    # the calibrated probability is a monotone map of the raw score
    raw, p = fitted.predict_raw(test), fitted.predict_proba(test)
    order = np.argsort(raw)
    assert np.all(np.diff(p[order]) >= -1e-12)


def test_save_and_load_give_the_same_predictions(fitted, frames, tmp_path):
    test = frames[2]
    fitted.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["calibrator"]["method"] == "platt" and meta["best_iteration"] > 0
    loaded = OutreachModel.load(tmp_path / "m")
    np.testing.assert_allclose(loaded.predict_proba(test), fitted.predict_proba(test))
    assert loaded.feature_names == list(FEATURES_FOR_MODEL)
    assert loaded.feature_set_version == fitted.feature_set_version


def test_isotonic_calibrator_round_trips_through_json():
    rng = np.random.default_rng(0)
    raw = rng.normal(size=2000)
    y = rng.random(2000) < 1 / (1 + np.exp(-raw))
    cal = Calibrator("isotonic").fit(raw, y)
    back = Calibrator.from_dict(json.loads(json.dumps(cal.to_dict())))
    np.testing.assert_allclose(back.predict(raw), cal.predict(raw))
    assert 0 <= back.predict(np.array([-99.0]))[0] <= back.predict(np.array([99.0]))[0] <= 1
    with pytest.raises(ValueError):
        Calibrator("beta")


def test_logistic_baseline_is_deterministic(frames):
    train, _, test = frames
    a = LogisticBaseline().fit(train, train["label"]).predict_proba(test)
    b = LogisticBaseline().fit(train, train["label"]).predict_proba(test)
    np.testing.assert_array_equal(a, b)
    assert roc_auc(test["label"], a) > 0.7


def test_logistic_baseline_picks_c_on_validation(frames):
    train, valid, _ = frames
    fixed = LogisticBaseline(C=0.5).fit(train, train["label"])
    assert fixed.C_ == 0.5
    tuned = LogisticBaseline().fit(train, train["label"], valid, valid["label"])
    assert tuned.C_ in LOGISTIC_C_GRID
    losses = {
        C: log_loss(valid["label"], LogisticBaseline(C=C).fit(train, train["label"])
                    .predict_proba(valid))
        for C in LOGISTIC_C_GRID
    }  # fmt: skip
    assert min(losses, key=losses.get) == tuned.C_
