"""The early-warning rules (policies.early_warning): what fires, the ranking, dated thresholds."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from policies.early_warning import (
    ARREARS_MONTHS,
    INPUTS,
    PARAMETERS,
    RULES,
    SCHOOL_ABSENCE_SHARE,
    rule_flags,
    rules_baseline,
)
from policies.parameters import DatedValue, ParameterSet, load_parameters

T = date(2024, 6, 30)


@pytest.fixture(scope="module")
def params() -> ParameterSet:
    return load_parameters()


def _frame(n: int, as_of: date = T) -> pd.DataFrame:
    f = pd.DataFrame({c: [0] * n for c in INPUTS})
    for c in ("serious_illness_12m", "elderly_living_alone", "children_without_support",
              "school_dropout_12m", "disability_new_12m", "unemployment_new_3m"):  # fmt: skip
        f[c] = False
    f["school_absence_rate_3m"] = 0.0
    f["as_of"] = as_of
    return f


def test_rules_baseline_ranks_by_the_number_of_rules_firing(params):
    f = _frame(6)
    f.loc[1, "serious_illness_12m"] = True
    f.loc[2, ["elderly_living_alone", "serious_illness_12m"]] = True
    f.loc[3, "utility_arrears_months_3m"] = 1  # below the rule
    f.loc[4, "utility_arrears_months_3m"] = 3
    f.loc[5, "school_absence_rate_3m"] = 0.2
    f["label"] = [1, 0, 1, 0, 1, 0]  # never read
    s = rules_baseline(f, params)
    assert rule_flags(f, params).sum(axis=1).tolist() == [0, 1, 2, 0, 1, 1]
    assert np.floor(s).tolist() == [0, 1, 2, 0, 1, 1]
    assert s[3] > s[0]  # intensity breaks the tie within a count
    np.testing.assert_array_equal(s, rules_baseline(f.assign(label=[0] * 6), params))


def test_flags_keep_the_rule_order_and_missing_values_never_fire(params):
    f = _frame(2).astype(object)
    f.loc[0, list(INPUTS)] = None
    flags = rule_flags(f, params)
    assert list(flags.columns) == list(RULES)
    assert not flags.to_numpy().any()


def test_thresholds_are_the_dated_parameters_at_the_boundary(params):
    absence = params.get(SCHOOL_ABSENCE_SHARE, T)
    arrears = params.get(ARREARS_MONTHS, T)
    assert (absence, arrears) == (0.10, 2)  # today's values: results unchanged by the move
    f = _frame(4)
    f.loc[0, "school_absence_rate_3m"] = absence
    f.loc[1, "school_absence_rate_3m"] = absence - 1e-9
    f.loc[2, "utility_arrears_months_3m"] = arrears
    f.loc[3, "utility_arrears_months_3m"] = arrears - 1
    flags = rule_flags(f, params)
    assert flags["school"].tolist() == [True, False, False, False]
    assert flags["utility_arrears"].tolist() == [False, False, True, False]


def test_a_new_threshold_applies_from_its_date_row_by_row(params):
    changed = dict(params._params)
    p = changed[ARREARS_MONTHS]
    later = date(2025, 1, 1)
    changed[ARREARS_MONTHS] = p.model_copy(
        update={"values": {**p.values, later: DatedValue(value=3, source="test")}}
    )
    moved = ParameterSet(changed)
    f = pd.concat([_frame(1, T), _frame(1, date(2025, 6, 30))], ignore_index=True)
    f["utility_arrears_months_3m"] = 2
    assert rule_flags(f, moved)["utility_arrears"].tolist() == [True, False]
    assert rule_flags(f, moved, as_of=T)["utility_arrears"].tolist() == [True, True]


def test_every_parameter_the_rules_read_is_shipped(params):
    assert set(PARAMETERS) <= set(params.names())
