"""One population from training to lists, on the fixture county (issue 14, item 1).

The champion is trained and validated on the discovery population
(:func:`policies.population.listable_for_discovery`); the lists it produces hold only that
population, except the program-gap entries, which are enrolled households and are marked so
(``path``, and the program-gap purpose on the stored entry).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from core.settings import load_settings
from features.vectors.build import snapshot_path
from policies.parameters import load_parameters
from policies.population import KNOWN, PROGRAM_GAP_PROGRAMS, listable_for_discovery, segments
from serving.batch.frame import compute
from serving.batch.priority import ListSpec
from serving.batch.scoring import load_champion
from training.pipeline import train_and_evaluate

pytestmark = pytest.mark.integration

AS_OF = date(2024, 12, 31)


@pytest.fixture(scope="module")
def scored(trained_workspace):
    settings = load_settings(trained_workspace)
    frame = pq.read_table(snapshot_path(settings.snapshots_dir, AS_OF)).to_pandas()
    model, _ = load_champion(settings)
    params = load_parameters(settings.params_dir)
    # a larger program-gap share than the default, so that the path is exercised
    out = compute(frame, model, params, ListSpec(capacity_share=0.10), AS_OF)
    return frame, out, params


def test_training_and_validation_rows_are_the_discovery_population(trained_workspace):
    settings = load_settings(trained_workspace)
    result = train_and_evaluate(settings, valid_dates=1, n_boot=0)
    params = load_parameters(settings.params_dir)
    for part in (result.valid_frame, result.test_frame):
        assert part is not None and len(part)
        assert listable_for_discovery(part, params).all()


def test_no_listed_household_lies_outside_its_models_population(scored):
    frame, out, params = scored
    seg = segments(frame, params, AS_OF)
    seg.index = frame["household_id"].astype(str)
    lists = out.lists
    assert len(lists) and set(lists["path"]) <= {"ranked", "program_gap", "exploration"}
    discovery = lists.loc[lists["path"] != "program_gap", "household_id"]
    assert (seg.loc[discovery] == "discovery").all()
    gap = lists.loc[lists["path"] == "program_gap", "household_id"]
    assert (seg.loc[gap] == "enrolled").all()
    # known households (found in need, applied, monitored) are never listed
    assert not seg.loc[lists["household_id"]].isin(KNOWN).any()
    # exploration draws only from the discovery population
    assert (lists.loc[lists["exploration"], "path"] == "exploration").all()
    assert (lists["exploration"] == (lists["path"] == "exploration")).all()


def test_program_gap_entries_are_marked_and_have_a_gap(scored):
    _, out, _ = scored
    h = out.households.set_index("household_id")
    gap = out.lists.loc[out.lists["path"] == "program_gap"]
    assert len(gap) > 0, "the fixture should exercise the program-gap path"
    assert h.loc[gap["household_id"], "program_gap"].all()
    assert (h.loc[gap["household_id"], "program_gap_value"] > 0).all()
    codes = list(out.eligibility.program_codes)
    cols = [codes.index(c) for c in PROGRAM_GAP_PROGRAMS]
    rows = np.flatnonzero(out.households["household_id"].isin(set(gap["household_id"])))
    assert (out.eligibility.gap[np.ix_(rows, cols)] == 2).any(axis=1).all()
    # within each list, program-gap entries follow the ranked discovery entries
    for _, entries in out.lists.groupby("jurisdiction_code"):
        path = entries.sort_values("rank")["path"].tolist()
        ranked = entries.sort_values("rank")
        first_gap = next((i for i, p in enumerate(path) if p == "program_gap"), None)
        if first_gap is not None:
            assert not ranked["exploration"].iloc[:first_gap].any()
    share = pd.Series(out.lists["path"] == "program_gap").groupby(out.lists["jurisdiction_code"])
    assert (share.mean() <= 0.2 + 1e-9).all()
