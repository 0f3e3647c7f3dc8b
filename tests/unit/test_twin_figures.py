"""The twin's figures on tiny hand-made data: Kaplan-Meier, time to help, the oracle's order,
paired intervals, the retraining schedule and the policies' names."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

import outreach.month
import outreach.twin.compare
import outreach.twin.outcomes
from core.errors import ConfigError
from outreach.twin.compare import interval, summarize
from outreach.twin.oracle import oracle_list
from outreach.twin.outcomes import kaplan_meier, time_to_help
from outreach.twin.policies import get_policy, parse_policies
from serving.batch.priority import ListSpec


@pytest.mark.parametrize("module", [outreach.twin.outcomes, outreach.twin.compare, outreach.month])
def test_doctests(module):
    assert doctest.testmod(module).failed == 0


def test_kaplan_meier_counts_censored_households_at_risk_until_they_leave():
    # 4 households: helped after 1 and 2 months, censored after 2 and 3
    s = kaplan_meier(np.array([1, 2, 2, 3]), np.array([True, True, False, False]), 4)
    assert s == [0.75, 0.5, 0.5, 0.5]
    assert kaplan_meier(np.array([1]), np.array([False]), 2) == [1.0, 1.0]


def _months(rows):
    return pd.DataFrame(rows, columns=["household_id", "month", "hardship", "silent", "assisted"])


def test_time_to_help_follows_silent_spells_to_enrolment_or_censoring():
    t = _months([
        # household 1: silent from month 10, enrolled in month 12 -> helped after 2 months
        (1, 10, True, True, False), (1, 11, True, False, False), (1, 12, True, False, True),
        # household 2: silent at 10, hardship ends at 12 unassisted -> censored after 2
        (2, 10, True, True, False), (2, 11, True, True, False), (2, 12, False, False, False),
        # household 3: never silent -> not in the cohort
        (3, 10, False, False, False), (3, 11, True, False, True), (3, 12, True, False, True),
    ])  # fmt: skip
    out = time_to_help(t, 10, 12)
    assert out["households"] == 2 and out["helped"] == 1
    assert out["survival"] == [1.0, 0.5]
    assert out["helped_within_1m"] == 0.0


def test_the_oracle_lists_undiscovered_need_first_deepest_first_and_skips_recent():
    truth = pd.DataFrame({
        "household_id": [0, 1, 2, 3, 4, 5],
        "township_idx": [0, 0, 0, 0, 0, 1],
        "undiscovered_need": [False, True, True, False, True, True],
        "dibao_eligible": [True, True, True, False, True, True],
        "enrolled_dibao": [False] * 6,
        "enrolled_tekun": [False] * 6,
        "case_pending": [False] * 6,
        "income_per_capita": [100.0, 500.0, 200.0, 50.0, 10.0, 300.0],
        "standard": [1000.0] * 6,
    })  # fmt: skip
    spec = ListSpec(capacity_share=0.6)  # 3 of township 0's 5, 1 of township 1's 1
    chosen = oracle_list(truth, np.array(["330226001", "330226002"]), spec, recently_listed={4})
    assert chosen["household_id"].tolist() == [2, 1, 0, 5]
    assert chosen["township_code"].tolist() == ["330226001"] * 3 + ["330226002"]


def test_paired_differences_are_over_seeds():
    def res(unassisted, reached):
        return {"unassisted_hardship_household_months": unassisted,
                "undiscovered_need_reached": reached, "list_visits": 10,
                "newly_assisted_households": reached,
                **{k: 0 for k in ("undiscovered_need_reached_found_in_need", "silent_reached",
                                  "undiscovered_need_recall_last3",
                                  "list_visits_finding_need_share")},
                "time_to_help": {"helped_within_6m": 0.5}}  # fmt: skip

    per_seed = {s: {"status-quo": res(100 + s, 0), "model": res(90 + s, 5)} for s in range(3)}
    out = summarize(per_seed, ["status-quo", "model"])
    removed = out["paired"]["model vs status-quo"]["unassisted_months_removed"]
    assert removed["mean"] == 10 and removed["ci95"] == [10.0, 10.0]
    assert (
        out["paired"]["model vs status-quo"]["list_visits_per_extra_household_assisted"]["mean"]
        == 2
    )
    assert interval([1.0])["ci95"] == [None, None]


def test_policies_by_name():
    assert get_policy("oracle").lists == "oracle"
    assert [p.name for p in parse_policies("model, rules,model")] == ["model", "rules"]
    with pytest.raises(ConfigError, match="unknown policy"):
        get_policy("random")
    with pytest.raises(ConfigError, match="names no policy"):
        parse_policies(" , ")
