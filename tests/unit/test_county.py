"""The steppable county (simulator/county.py): the twin's world.

- with no lists, its deliveries are byte-identical to ``simulate`` of the same config, through
  a checkpoint too;
- common random numbers: one list visit changes no other household's path;
- bad lists are refused with one clear error.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import ConfigError
from simulator.config import build_config
from simulator.county import County
from simulator.simulation import simulate

CONFIG = build_config(300, 14, 3)


def _digests(raw: Path) -> dict[str, str]:
    return {
        str(p.relative_to(raw)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((raw / "agencies").rglob("*.parquet"))
    }


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, params) -> Path:
    root = tmp_path_factory.mktemp("county")
    county = County.start(CONFIG, params, root / "raw", root / "truth")
    county.advance_to(5)
    county.save(root / "county.pkl")
    return root


def test_without_lists_the_deliveries_equal_simulate_byte_for_byte(checkpoint, params, tmp_path):
    simulate(CONFIG, params, tmp_path / "sim")
    county = County.load(checkpoint / "county.pkl", tmp_path / "raw", tmp_path / "truth")
    # the forked county writes months 6.. into its own folder: join the checkpoint's months
    county.advance_to(CONFIG.months - 1)
    county.world.rec.close()
    forked = {**_digests(checkpoint / "raw"), **_digests(tmp_path / "raw")}
    expected = _digests(tmp_path / "sim")
    assert len(expected) > 100
    assert forked == expected
    assert not (tmp_path / "raw" / "truth").exists()  # the truth stays outside the raw folder


def _truth(folder: Path, since: str) -> pd.DataFrame:
    parts = [
        pd.read_parquet(p)
        for p in sorted((folder / "household_months").glob("*.parquet"))
        if p.stem >= since
    ]
    return pd.concat(parts).set_index(["household_id", "month"]).sort_index()


def test_one_list_visit_changes_no_other_household(checkpoint, tmp_path):
    start = pd.read_parquet(checkpoint / "truth" / "household_months" / "2023-06.parquet")
    need = start[start.hardship & ~start.enrolled_dibao & ~start.enrolled_tekun]
    visited = int(need["household_id"].iloc[0])
    runs = {}
    for name, listed in (("none", []), ("one", [visited])):
        county = County.load(
            checkpoint / "county.pkl", tmp_path / name / "raw", tmp_path / name / "truth"
        )
        county.visit(6, np.array(listed, dtype=np.int64))
        result = county.step()
        assert result.list_visits.num_rows == len(listed)
        county.advance_to(CONFIG.months - 1)
        county.world.rec.close()
        runs[name] = _truth(tmp_path / name / "truth", "2023-07")
    a, b = runs["none"], runs["one"]
    assert a.index.equals(b.index)
    differs = ((a != b) & ~(a.isna() & b.isna())).any(axis=1)
    changed = set(differs[differs].index.get_level_values(0))
    assert changed == {visited}  # its case counts as an application: no longer silent
    others = a.index.get_level_values(0) != visited
    for column in ("hardship", "onset", "income_per_capita", "p_onset_6m", "job_state"):
        pd.testing.assert_series_equal(a.loc[others, column], b.loc[others, column])


def test_the_visit_model_answers_a_list(checkpoint, tmp_path):
    county = County.load(checkpoint / "county.pkl", tmp_path / "raw", tmp_path / "truth")
    listed = np.arange(0, 300, 2)
    county.visit(6, listed)
    visits = county.step().list_visits.to_pandas()
    assert set(visits["outcome"]) <= {"in_need", "not_in_need", "not_found"}
    assert set(visits["household_id"]) <= set(listed.tolist())
    assert visits["visit_day"].between(1, 28).all()
    assert (tmp_path / "truth" / "list_visits" / "2023-07.parquet").exists()


@pytest.mark.parametrize(
    ("month", "households", "message"),
    [
        (5, [1], "already simulated"),
        (7, [1], "next month"),
        (6, [10**6], "does not exist"),
        (6, [-1], "does not exist"),
    ],
)
def test_bad_lists_are_refused(checkpoint, tmp_path, month, households, message):
    county = County.load(checkpoint / "county.pkl", tmp_path / "raw", tmp_path / "truth")
    with pytest.raises(ConfigError, match=message):
        county.visit(month, np.array(households))


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path):
    bad = tmp_path / "county.pkl"
    bad.write_bytes(b"not a pickle")
    with pytest.raises(ConfigError, match="cannot read the county checkpoint"):
        County.load(bad, tmp_path / "raw", tmp_path / "truth")
