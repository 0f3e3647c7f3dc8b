"""The opt-in hard defect profile (``outreach simulate --defects hard``): each error kind reaches
its floor (issue 17: 5 % names, 10 % birth dates, 2 % IDs, 10 % villages), measured on the
delivered records against the registered identity; the default profile is untouched.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from simulator.config import build_config
from simulator.defects_hard import FLAGS, realised_rates
from simulator.simulation import simulate

pytestmark = pytest.mark.integration

PERSON_FIELDS = {"name", "id_number", "birth_date", "sex", "village_code"}


@pytest.fixture(scope="module")
def hard_world(tmp_path_factory, params) -> Path:
    out = tmp_path_factory.mktemp("hard") / "raw"
    simulate(build_config(400, 12, 3, defect_profile="hard"), params, out)
    return out


@pytest.fixture(scope="module")
def rates(hard_world) -> dict:
    return realised_rates(hard_world)


@pytest.fixture(scope="module")
def record_truth(hard_world):
    return ds.dataset(hard_world / "truth" / "records", format="parquet").to_table().to_pandas()


def test_names_with_a_homophone_or_look_alike(rates, record_truth):
    assert rates["name_confused"]["records"] > 5000
    assert rates["name_confused"]["rate"] >= 0.05
    # the hard profile's own share, without the default profile's homophone variants
    assert record_truth["name_confused"].mean() >= 0.05


def test_birth_dates_missing_swapped_or_on_the_1st(rates):
    assert rates["birth_date"]["records"] > 3000
    assert rates["birth_date"]["rate"] >= 0.10


def test_ids_with_two_digits_transposed(rates):
    assert rates["id_transposed"]["records"] > 5000
    assert rates["id_transposed"]["rate"] >= 0.02


def test_records_with_a_stale_village(rates):
    assert rates["village_stale"]["records"] > 2000
    assert rates["village_stale"]["rate"] >= 0.10


def test_profile_recorded_in_the_manifest(hard_world):
    manifest = json.loads((hard_world / "manifest.json").read_text())
    assert manifest["config"]["defect_profile"] == "hard"
    truth = pq.read_schema(next((hard_world / "truth" / "records").rglob("*.parquet")))
    assert set(FLAGS) <= set(truth.names)


def test_default_profile_untouched_and_hard_changes_only_person_fields(tmp_path, params):
    """Same seed, both profiles: the default world's manifest config and truth carry no trace of
    the profile; the hard world has the same records (keys, dates, agency fields: the default
    draws are untouched) and differs only in person fields, only on flagged records."""
    default, hard = tmp_path / "default", tmp_path / "hard"
    simulate(build_config(150, 4, 11), params, default)
    simulate(build_config(150, 4, 11, defect_profile="hard"), params, hard)
    config = json.loads((default / "manifest.json").read_text())["config"]
    assert "defect_profile" not in config
    files = sorted(p.relative_to(default) for p in (default / "agencies").rglob("*.parquet"))
    assert files == sorted(p.relative_to(hard) for p in (hard / "agencies").rglob("*.parquet"))
    changed_rows = 0
    for rel in files:
        a, b = pq.read_table(default / rel), pq.read_table(hard / rel)
        assert a.schema == b.schema and a.num_rows == b.num_rows
        fa, fb = a.to_pandas(), b.to_pandas()
        for name in a.schema.names:
            if name not in PERSON_FIELDS:
                assert fa[name].equals(fb[name]), (rel, name)  # NaN equals NaN here
        truth = pq.read_table(hard / "truth" / "records" / rel.relative_to("agencies"))
        flagged = set()
        for f in FLAGS:
            ids = truth["record_id"].to_numpy(zero_copy_only=False)
            flagged |= set(ids[truth[f].to_numpy(zero_copy_only=False)])
        cols = [c for c in fa.columns if c in PERSON_FIELDS]
        differs = ~(fa[cols].fillna("<na>").astype(str) == fb[cols].fillna("<na>").astype(str))
        rows = differs.any(axis=1)
        changed_rows += int(rows.sum())
        assert set(fa.loc[rows, "record_id"]) <= flagged, rel
    assert changed_rows > 0
    truth = pq.read_schema(next((default / "truth" / "records").rglob("*.parquet")))
    assert not set(FLAGS) & set(truth.names)
