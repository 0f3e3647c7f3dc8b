"""Priority formula and visit lists (serving.batch.priority): pure functions on tiny frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serving.batch.priority import (
    PROGRAM_WEIGHTS,
    ListSpec,
    build_lists,
    gap_value,
    new_warning,
    priority,
)

PROGRAMS = ("dibao", "tekun", "near_dibao", "medical_assistance", "temporary")


def test_gap_value_counts_a_family_once_and_verification_at_half():
    gap = np.array(
        [
            [0, 0, 0, 0, 0],  # nothing missing
            [2, 0, 0, 0, 0],  # dibao likely, not receiving
            [2, 2, 2, 0, 0],  # dibao, tekun and near-dibao: one subsistence family
            [1, 0, 0, 0, 0],  # dibao needs verification
            [0, 0, 0, 2, 2],  # medical + temporary add up
        ],
        dtype=np.int8,
    )
    v = gap_value(gap, PROGRAMS)
    w = PROGRAM_WEIGHTS
    assert v.tolist() == pytest.approx(
        [0.0, w["dibao"], max(w["dibao"], w["tekun"], w["near_dibao"]), 0.5 * w["dibao"],
         w["medical_assistance"] + w["temporary"]]
    )  # fmt: skip


def test_gap_value_rejects_a_shape_mismatch():
    with pytest.raises(ValueError, match="one column per program"):
        gap_value(np.zeros((2, 3), np.int8), PROGRAMS)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(0.001, 1.0),
    st.lists(st.sampled_from([0, 1, 2]), min_size=len(PROGRAMS), max_size=len(PROGRAMS)),
)
def test_receiving_what_you_qualify_for_never_outranks_an_equal_risk_gap(p, gaps):
    """Same risk: a household with a gap ranks at least as high as one without."""
    with_gap = np.array([gaps], np.int8)
    covered = np.zeros_like(with_gap)
    a = priority(np.array([p]), gap_value(with_gap, PROGRAMS))[0]
    b = priority(np.array([p]), gap_value(covered, PROGRAMS))[0]
    assert a >= b
    if any(g > 0 for g in gaps):
        assert a > b


@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, 0.99), st.floats(0.001, 0.009), st.integers(0, 2))
def test_priority_grows_with_risk(p, dp, kind):
    gap = np.array([[kind, 0, 0, 0, 0]], np.int8)
    g = gap_value(gap, PROGRAMS)
    assert priority(np.array([p + dp]), g)[0] > priority(np.array([p]), g)[0]


def test_new_warning_is_a_rule_that_fires_now_and_did_not_before():
    before = np.array([[1, 0], [0, 0], [1, 1]], bool)
    now = np.array([[1, 0], [0, 1], [0, 1]], bool)
    assert new_warning(before, now).tolist() == [False, True, False]


def _county(n_town: int = 3, per_town: int = 200, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_town * per_town
    town = np.repeat([f"33022610{i}" for i in range(n_town)], per_town)
    score = rng.random(n).round(2)  # rounded: many ties
    return pd.DataFrame(
        {
            "household_id": [f"H{i:024x}" for i in rng.permutation(n)],
            "township_code": town,
            "village_code": [f"{t}{i % 4:03d}" for i, t in enumerate(town)],
            "score": score,
            "priority": score,
            "listable": rng.random(n) > 0.05,
        }
    )


def test_lists_are_sized_by_capacity_ranked_and_stable():
    frame = _county()
    spec = ListSpec(capacity_share=0.05, exploration_share=0.0)
    lists = build_lists(frame, spec)
    assert lists.groupby("jurisdiction_code").size().tolist() == [10, 10, 10]
    for code, entries in lists.groupby("jurisdiction_code"):
        merged = entries.merge(frame, on="household_id")
        assert merged["rank"].tolist() == list(range(1, 11))
        assert merged["listable"].all()
        key = list(zip(-merged["priority"], -merged["score"], merged["household_id"], strict=True))
        assert key == sorted(key)  # priority, then score, then key
        others = frame[(frame.township_code == code) & frame.listable
                       & ~frame.household_id.isin(merged.household_id)]  # fmt: skip
        assert others["priority"].max() <= merged["priority"].min()
    shuffled = frame.sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(build_lists(shuffled, spec), lists)


def test_exploration_share_and_draws_are_reproducible():
    frame = _county(n_town=40, per_town=500, seed=2)
    spec = ListSpec(capacity=50, exploration_share=0.1, seed=7)
    lists = build_lists(frame, spec)
    share = lists["exploration"].mean()
    assert share == pytest.approx(0.1, abs=0.02)
    explored = lists[lists.exploration].merge(frame, on="household_id")
    assert explored["listable"].all()
    top = lists[~lists.exploration]
    assert not set(explored.household_id) & set(top.household_id)
    # exploration entries come after the ranked ones within each list
    for _, entries in lists.groupby("jurisdiction_code"):
        flags = entries.sort_values("rank")["exploration"].tolist()
        assert flags == sorted(flags)
    pd.testing.assert_frame_equal(build_lists(frame, spec), lists)
    other = build_lists(frame, ListSpec(capacity=50, exploration_share=0.1, seed=8))
    assert set(other.household_id) != set(lists.household_id)


def test_village_lists_and_fixed_capacity():
    frame = _county()
    lists = build_lists(frame, ListSpec(level="village", capacity=3, exploration_share=0.0))
    assert lists["jurisdiction_code"].str.len().eq(12).all()
    assert lists.groupby("jurisdiction_code").size().eq(3).all()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"level": "county"}, "level"),
        ({"capacity_share": 0.0}, "capacity share"),
        ({"capacity": 0}, "capacity must"),
        ({"exploration_share": 1.0}, "exploration share"),
    ],
)
def test_list_spec_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ListSpec(**kwargs)


def test_every_program_of_the_rules_has_a_weight():
    from features.eligibility.engine import default_programs

    assert {p.code for p in default_programs()} == set(PROGRAM_WEIGHTS)
