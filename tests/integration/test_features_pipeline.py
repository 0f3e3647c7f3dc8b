"""Point-in-time household vectors, end to end through ingest, link and features.

The base county holds every fixture delivery but one (medical claims of May 2024, held back as a
missing month). Then one hospital admission dated before the snapshot date arrives
- recorded *after* it (a delivery of January 2025): the snapshot must not change;
- recorded *before* it (the held-back May 2024 delivery): the snapshot must change.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core import idnumber
from features.vectors.build import read_snapshot_metadata
from features.vectors.catalogue import FEATURE_SET_VERSION
from outreach.cli import main
from outreach.cli.common import as_of_dates

pytestmark = pytest.mark.integration

AS_OF = "2024-06-30"
HELD_BACK = "medical_claims/2024-05.parquet"


def _cli(*args: str) -> None:
    assert main(list(args)) == 0, args


def _snapshot(ws: Path) -> pd.DataFrame:
    path = ws / "data" / "snapshots" / AS_OF / "features.parquet"
    return pq.read_table(path).to_pandas()


def _admission(fixture_world: Path, recorded: str, delivery: str) -> pa.Table:
    """A new inpatient claim of a person with a valid ID, event dated 2024-05-10."""
    t = pq.read_table(fixture_world / "agencies" / "medical_claims" / "2024-06.parquet")
    df = t.to_pandas()
    row = df[df["id_number"].map(lambda v: isinstance(v, str) and idnumber.is_valid(v))].head(1)
    row = row.assign(
        delivery_id=f"medical_claims-{delivery}",
        extract_date=(pd.Period(delivery, "M").end_time.date()),
        record_id="MCLATE000001",
        event_date=date(2024, 5, 10),
        recorded_date=date.fromisoformat(recorded),
        claim_type="inpatient",
        diagnosis_group="serious_illness",
    )
    return pa.Table.from_pandas(row, schema=t.schema, preserve_index=False)


@pytest.fixture(scope="module")
def base(fixture_world, tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("pit")
    raw = root / "raw"
    shutil.copytree(fixture_world / "agencies", raw / "agencies")
    (raw / "agencies" / HELD_BACK).unlink()
    ws = root / "ws"
    _cli("ingest", "--raw", str(raw), "--workspace", str(ws))
    _cli("link", "--workspace", str(ws))
    _cli("features", "--as-of", AS_OF, "--workspace", str(ws))
    return raw, ws


def _branch(base, name: str, tmp_path: Path) -> tuple[Path, Path]:
    raw, ws = base
    new_raw, new_ws = tmp_path / f"{name}-raw", tmp_path / f"{name}-ws"
    shutil.copytree(raw, new_raw)
    shutil.copytree(ws, new_ws)
    return new_raw, new_ws


def test_a_record_recorded_after_the_date_changes_nothing(base, fixture_world, tmp_path):
    raw, ws = _branch(base, "after", tmp_path)
    before = _snapshot(ws)
    late = raw / "agencies" / "medical_claims" / "2025-01.parquet"
    pq.write_table(_admission(fixture_world, "2025-01-10", "2025-01"), late)
    _cli("ingest", "--raw", str(raw), "--workspace", str(ws))
    _cli("link", "--workspace", str(ws))
    _cli("features", "--as-of", AS_OF, "--workspace", str(ws))
    pd.testing.assert_frame_equal(_snapshot(ws), before)
    # ... while a snapshot after its recording sees it
    _cli("features", "--as-of", "2025-01-31", "--workspace", str(ws))


def test_the_same_record_recorded_before_the_date_changes_the_vector(base, fixture_world, tmp_path):
    raw, ws = _branch(base, "before", tmp_path)
    before = _snapshot(ws)
    pq.write_table(_admission(fixture_world, "2024-05-20", "2024-05"), raw / "agencies" / HELD_BACK)
    _cli("ingest", "--raw", str(raw), "--workspace", str(ws))
    _cli("link", "--workspace", str(ws))
    _cli("features", "--as-of", AS_OF, "--workspace", str(ws))
    after = _snapshot(ws)
    assert after["inpatient_admissions_12m"].sum() == before["inpatient_admissions_12m"].sum() + 1
    # one household's own vector changes; township shock figures may move for its neighbours
    own = [c for c in after.columns if not c.startswith("area_")]
    a, b = after[own], before[own]
    changed = ~((a == b) | (a.isna() & b.isna())).all(axis=1)
    diff = {c for c in own if not ((a[c] == b[c]) | (a[c].isna() & b[c].isna())).all()}
    assert changed.sum() == 1, (diff, a[changed].T, b[changed].T)
    row = after[changed].iloc[0]
    assert row["inpatient_admissions_12m"] >= 1 and row["serious_illness_12m"]


def test_a_rebuild_is_identical(base, tmp_path):
    _, ws = _branch(base, "rebuild", tmp_path)
    path = ws / "data" / "snapshots" / AS_OF / "features.parquet"
    first, meta = path.read_bytes(), read_snapshot_metadata(path)
    _cli("features", "--as-of", AS_OF, "--workspace", str(ws))
    assert path.read_bytes() == first
    assert read_snapshot_metadata(path)["snapshot_id"] == meta["snapshot_id"]
    assert re.fullmatch(r"20240630-[0-9a-f]{12}", meta["snapshot_id"])
    assert meta["feature_set_version"] == FEATURE_SET_VERSION
    assert all(d.split("-", 1)[1] <= "2024-06" for d in map(_month_of, meta["delivery_ids"]))


def _month_of(delivery_id: str) -> str:
    agency, year, month = delivery_id.rsplit("-", 2)
    return f"{agency}-{year}-{month}"


def test_snapshot_report_and_monthly_dates(base, capsys):
    _, ws = base
    _cli("features", "--from", "2024-01-31", "--to", "2024-03-31", "--workspace", str(ws))
    report = json.loads((ws / "data" / "reports" / "features" / "latest.json").read_text())
    assert [s["as_of"] for s in report["snapshots"]] == ["2024-01-31", "2024-02-29", "2024-03-31"]
    for s in report["snapshots"]:
        assert s["households"] > 300
        assert (ws / "data" / "snapshots" / s["as_of"] / "features.parquet").exists()


def test_as_of_dates():
    assert as_of_dates(["2024-03-15"], None, None) == [date(2024, 3, 15)]
    got = as_of_dates(None, "2024-01-31", "2024-04-30")
    assert got == [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30)]
    assert as_of_dates(["2024-01-15"], "2024-01-15", "2024-02-20") == [
        date(2024, 1, 15),
        date(2024, 2, 15),
    ]


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "give --as-of DATE (repeatable) or --from DATE --to DATE"),
        (["--as-of", "2024-02-30"], "--as-of '2024-02-30' is not a date YYYY-MM-DD"),
        (["--from", "2024-01-31"], "--from and --to go together"),
        (["--from", "2024-05-31", "--to", "2024-01-31"], "--to is before --from"),
        (["--as-of", "2024-06-30"], "no warehouse at"),
    ],
)
def test_features_bad_input(tmp_path, capsys, args, message):
    code = main(["features", *args, "--workspace", str(tmp_path)])
    _, err = capsys.readouterr()
    assert code == 2 and err.startswith("error: ") and message in err
    assert err.count("\n") == 1


def test_the_whole_pipeline_is_reproducible(fixture_world, tmp_path, monkeypatch):
    """Two fresh workspaces with the same secret build byte-identical vectors."""
    monkeypatch.setenv("OUTREACH_HMAC_KEY", "a fixed secret for this test only, 32+ chars")
    snapshots = []
    for name in ("one", "two"):
        ws = tmp_path / name
        _cli("ingest", "--raw", str(fixture_world), "--workspace", str(ws))
        _cli("link", "--workspace", str(ws))
        _cli("features", "--as-of", AS_OF, "--workspace", str(ws))
        snapshots.append((ws / "data" / "snapshots" / AS_OF / "features.parquet").read_bytes())
    assert snapshots[0] == snapshots[1]
