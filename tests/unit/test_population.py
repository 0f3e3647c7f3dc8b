"""The discovery population, the program-gap path, the evaluation definitions and the list
evaluation on tiny frames (issue 14, items 1-3)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from core.errors import ConfigError
from policies.parameters import load_parameters
from policies.population import INPUTS, KNOWN, SEGMENTS, segments
from serving.batch.list_evaluation import evaluate_lists, judge
from serving.batch.priority import ListSpec, build_lists, program_gap_places
from training.definitions import add_definitions, need_found, silent, undiscovered_need

DAY = date(2024, 6, 30)


def _snapshot(n: int, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "enrolled_dibao": rng.random(n) < 0.1,
            "enrolled_tekun": rng.random(n) < 0.03,
            "visit_in_need_6m": rng.random(n) < 0.05,
            "assistance_applications_12m": rng.integers(0, 2, n) * (rng.random(n) < 0.2),
            "assistance_rejections_12m": rng.integers(0, 2, n) * (rng.random(n) < 0.2),
            "rural_monitored": rng.random(n) < 0.03,
        }
    )


def test_segments_are_a_partition_in_the_stated_order():
    rng = np.random.default_rng(0)
    snap = _snapshot(500, rng)
    seg = segments(snap, load_parameters(), DAY)
    assert set(seg) <= set(SEGMENTS)
    enrolled = snap["enrolled_dibao"] | snap["enrolled_tekun"]
    assert (seg[enrolled] == "enrolled").all()
    assert (seg[~enrolled & snap["visit_in_need_6m"]] == "found_in_need").all()
    discovery = seg == "discovery"
    assert not (discovery & (enrolled | snap["visit_in_need_6m"] | snap["rural_monitored"])).any()
    applied = snap["assistance_applications_12m"] > snap["assistance_rejections_12m"]
    assert not (discovery & applied).any()
    assert set(KNOWN) < set(SEGMENTS)


def test_segments_need_their_columns():
    snap = pd.DataFrame({c: [0] for c in INPUTS})
    with pytest.raises(ConfigError, match="visit_in_need_6m"):
        segments(snap, load_parameters(), DAY)


def _households(n: int, rng: np.random.Generator) -> pd.DataFrame:
    seg = rng.choice(["discovery", "enrolled", "applied"], size=n, p=[0.8, 0.15, 0.05])
    gap = (seg == "enrolled") & (rng.random(n) < 0.5)
    return pd.DataFrame(
        {
            "household_id": [f"H{i:04d}" for i in range(n)],
            "township_code": rng.choice(["330000001", "330000002"], size=n),
            "village_code": "330000001001",
            "score": rng.random(n),
            "priority": rng.random(n),
            "segment": seg,
            "listable": seg == "discovery",
            "program_gap": gap,
            "program_gap_value": np.where(gap, rng.choice([0.3, 0.6, 0.9], size=n), 0.0),
        }
    )


@pytest.mark.parametrize("share", [0.0, 0.2, 0.5])
def test_program_gap_path_is_capped_marked_and_apart(share):
    rng = np.random.default_rng(1)
    h = _households(600, rng)
    spec = ListSpec(capacity_share=0.1, exploration_share=0.1, seed=3)
    lists = build_lists(h, spec, share)
    merged = lists.merge(h, on="household_id")
    for _, entries in merged.groupby("jurisdiction_code"):
        size = int(entries["capacity"].iloc[0])
        gap = entries[entries["path"] == "program_gap"]
        assert len(gap) <= program_gap_places(size, share)
        assert gap["program_gap"].all() and not gap["exploration"].any()
        assert entries.loc[entries["path"] != "program_gap", "listable"].all()
        assert len(entries) == size
    if share == 0.0:
        plain = build_lists(h.drop(columns=["program_gap", "program_gap_value"]), spec)
        pd.testing.assert_frame_equal(plain, lists)


def test_definitions_nest():
    rng = np.random.default_rng(2)
    n = 400
    frame = pd.DataFrame(
        {
            "in_hardship": rng.random(n) < 0.2,
            "enrolled": rng.random(n) < 0.1,
            "applied_12m": rng.random(n) < 0.1,
            "true_onset_6m": rng.random(n) < 0.05,
            "complete_future": True,
            "assistance_applications_12m": rng.integers(0, 2, n),
            "assistance_rejections_12m": 0,
            "visit_in_need_6m": rng.random(n) < 0.05,
            "rural_monitored": rng.random(n) < 0.05,
        }
    )
    u, s, f = undiscovered_need(frame), silent(frame), need_found(frame)
    assert not (u & ~s).any() and not (s & ~f).any()
    # a case started by a visit counts as an application: never silent
    assert not (s & frame["visit_in_need_6m"].to_numpy()).any()
    flags = add_definitions(frame)
    assert not (flags["onset"] & frame["in_hardship"]).any()


def test_list_evaluation_rebuilds_rules_lists_under_the_same_conditions():
    rng = np.random.default_rng(4)
    h = _households(500, rng)
    truth = pd.DataFrame(
        {
            "in_hardship": rng.random(len(h)) < 0.15,
            "enrolled": h["segment"] == "enrolled",
            "applied_12m": False,
            "true_onset_6m": rng.random(len(h)) < 0.05,
            "complete_future": True,
            "assistance_applications_12m": 0,
            "assistance_rejections_12m": 0,
            "visit_in_need_6m": False,
            "rural_monitored": False,
        }
    )
    spec = ListSpec(capacity_share=0.1, exploration_share=0.05)
    rules = rng.random(len(h))
    out = evaluate_lists(h, truth, rules, spec, 0.2, n_boot=30, seed=1)
    ours, by_rules = out["ours"], out["rules"]
    # same sizes, program-gap entries and exploration count: only the ranking differs
    for part in ("all", "program_gap", "exploration", "ranked"):
        assert ours[part]["entries"]["value"] == by_rules[part]["entries"]["value"]
    diff = out["ours_minus_rules"]["all"]["undiscovered_need"]
    assert diff["value"] == (
        ours["all"]["undiscovered_need"]["value"] - by_rules["all"]["undiscovered_need"]["value"]
    )
    low, high = ours["all"]["need_found"]["ci95"]
    assert low <= high and out["n_boot"] == 30
    # the point figures are those of judge() on the lists a run would cut
    flags = add_definitions(truth).set_axis(h["household_id"])
    lists = build_lists(h, spec, 0.2)
    assert judge(lists, flags)["all"]["need_found"] == ours["all"]["need_found"]["value"]
    assert out["composition"]["known_listed"] == 0
