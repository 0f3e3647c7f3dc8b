"""Scoring the engine against true eligibility (training.eligibility_eval) on a tiny frame."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

import policies
from features.eligibility.cases import BASE_HOUSEHOLD
from features.eligibility.engine import evaluate
from policies.parameters import load_parameters
from training.eligibility_eval import precision_recall, score_result

DAY = date(2025, 6, 30)


def test_precision_recall_counts() -> None:
    m = precision_recall(np.array([1, 1, 0, 0], bool), np.array([1, 0, 1, 0], bool))
    assert (m["precision"], m["recall"], m["true_positive"]) == (0.5, 0.5, 1)
    assert precision_recall(np.zeros(2, bool), np.zeros(2, bool))["precision"] is None


def test_score_result_joins_on_household_and_date() -> None:
    frame = pd.DataFrame(
        [
            {"household_id": "a", "as_of": DAY, **BASE_HOUSEHOLD,
             "income_per_capita_monthly": 600.0, "utility_arrears_months_3m": 4},
            {"household_id": "b", "as_of": DAY, **BASE_HOUSEHOLD,
             "income_per_capita_monthly": 600.0},
            {"household_id": "c", "as_of": DAY, **BASE_HOUSEHOLD},
        ]
    )  # fmt: skip
    result = evaluate(frame, load_parameters(policies.PARAMS_DIR))
    truth = pd.DataFrame(
        {"household_id": ["a", "b", "c"], "as_of": [DAY] * 3, "dibao_eligible": [1, 1, 0]}
    ).astype({"dibao_eligible": bool})
    scores = score_result(result, truth)
    assert scores["unmatched"] == 0
    assert scores["dibao"]["likely"]["precision"] == 1.0
    assert scores["dibao"]["likely"]["recall"] == 0.5
    assert scores["dibao"]["likely_or_verify"]["recall"] == 1.0
