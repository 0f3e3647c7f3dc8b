"""The one-row fast predictor gives exactly ``Booster.predict``'s numbers."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from serving.runtime.onerow import OneRowPredictor


@pytest.fixture(scope="module")
def booster_and_rows():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(600, 12))
    X[rng.random(X.shape) < 0.15] = np.nan  # missing values take the default branches
    X[:, 3] = rng.integers(0, 5, size=600)  # a categorical column
    y = (np.nan_to_num(X[:, 0]) + (X[:, 3] == 2) + rng.normal(size=600) > 0.5).astype(int)
    params = {"objective": "binary", "num_leaves": 15, "verbose": -1, "num_threads": 1}
    trained = lgb.train(params, lgb.Dataset(X, y, categorical_feature=[3]), num_boost_round=40)
    return lgb.Booster(model_str=trained.model_to_string()), X  # as the registry loads it


def test_contributions_and_raw_score_equal_booster_predict(booster_and_rows):
    booster, X = booster_and_rows
    fast = OneRowPredictor(booster, X.shape[1])
    for i in range(0, 600, 7):
        contrib, raw = fast.contrib_and_raw(X[i])
        assert np.array_equal(contrib, booster.predict(X[i : i + 1], pred_contrib=True)[0])
        assert raw == booster.predict(X[i : i + 1], raw_score=True)[0]
        assert contrib.sum() == pytest.approx(raw, abs=1e-9)


def test_results_are_copies_not_the_shared_buffer(booster_and_rows):
    booster, X = booster_and_rows
    fast = OneRowPredictor(booster, X.shape[1])
    first, _ = fast.contrib_and_raw(X[0])
    kept = first.copy()
    fast.contrib_and_raw(X[1])
    assert np.array_equal(first, kept)


def test_a_row_of_the_wrong_width_is_refused(booster_and_rows):
    booster, X = booster_and_rows
    with pytest.raises(ValueError, match="12 values"):
        OneRowPredictor(booster, X.shape[1]).contrib_and_raw(X[0, :5])
