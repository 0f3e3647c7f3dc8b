"""`outreach score` on the fixture county: rows written, idempotency, a run killed with SIGKILL
and resumed, exploration entries, suppression after a "not in need" visit, refusals."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from core.settings import load_settings
from outreach.cli import main
from serving.batch.priority import PURPOSE
from serving.store import db
from serving.store.tables import eligibility, list_entries, score_runs, scores, visit_outcomes

pytestmark = pytest.mark.integration
AS_OF = "2024-12-31"
TABLES = (scores, eligibility, list_entries)
ORDER = {
    "scores": ["household_id"],
    "eligibility": ["household_id", "program"],
    "list_entries": ["jurisdiction_code", "rank"],
}


@pytest.fixture
def ws(trained_workspace, tmp_path) -> Path:
    out = tmp_path / "ws"
    shutil.copytree(trained_workspace, out)
    for f in (out / "data").glob("service.sqlite3*"):
        f.unlink()
    return out


def _cli(ws: Path, *args: str) -> int:
    return main(["score", "--as-of", AS_OF, *args, "--workspace", str(ws)])


def _rows(ws: Path) -> dict[str, pd.DataFrame]:
    engine = db.make_engine(load_settings(ws).service_db_url)
    try:
        with engine.connect() as conn:
            out = {}
            for t in TABLES:
                frame = pd.DataFrame(conn.execute(sa.select(t)).mappings().all())
                out[t.name] = frame.sort_values(ORDER[t.name], ignore_index=True)
            runs = pd.DataFrame(conn.execute(sa.select(score_runs)).mappings().all())
    finally:
        engine.dispose()
    out["score_runs"] = runs
    return out


def test_score_writes_scores_eligibility_and_lists(ws, capsys):
    assert _cli(ws, "--exploration", "0.2") == 0
    out = " ".join(capsys.readouterr().out.split())  # rich wraps lines
    assert "households scored with model 1" in out and "silent households reached" in out
    rows = _rows(ws)
    run = rows["score_runs"].iloc[0]
    assert run["status"] == "complete" and run["model_version"] == "1"
    snap = pd.read_parquet(ws / f"data/snapshots/{AS_OF}/features.parquet")
    s = rows["scores"]
    assert len(s) == len(snap) == run["n_households"]
    assert set(s["household_id"]) == set(snap["household_id"])
    assert s["score"].between(0, 1).all() and (s["model_version"] == "1").all()
    lists = rows["list_entries"]
    listed = s[s["household_id"].isin(lists["household_id"])]
    assert listed["reasons"].notna().all() and s["reasons"].notna().sum() == len(listed)
    reasons = listed["reasons"].iloc[0]
    assert {"zh", "en", "units"} <= set(reasons)
    assert (lists["purpose"] == PURPOSE).all()
    # exploration is recorded, drawn outside the ranked part, at about the configured share
    assert 0.05 < lists["exploration"].mean() < 0.4
    for _, entries in lists.groupby("jurisdiction_code"):
        assert entries.sort_values("rank")["rank"].tolist() == list(range(1, len(entries) + 1))
    e = rows["eligibility"]
    assert set(e["status"]) <= {"likely", "needs_verification", "not_eligible"}
    assert not ((e["status"] == "not_eligible") & ~e["receiving"]).any()  # sparse by design
    traced = e[e["household_id"].isin(lists["household_id"])]
    assert traced["trace"].notna().all()
    line = traced["trace"].iloc[0][0]
    assert {"zh", "en", "program"} <= set(line)
    report = json.loads((ws / "data/reports/score/latest.json").read_text(encoding="utf-8"))
    assert report["lists"]["entries"] == len(lists)
    assert "dibao" in report["eligibility"] and "silent_reached" in report["truth"]


def test_score_is_idempotent(ws, capsys):
    assert _cli(ws) == 0
    first = _rows(ws)
    capsys.readouterr()
    assert _cli(ws) == 0
    assert "nothing changed" in " ".join(capsys.readouterr().out.split())
    second = _rows(ws)
    for name in ORDER:
        pd.testing.assert_frame_equal(first[name], second[name])
    pd.testing.assert_frame_equal(first["score_runs"], second["score_runs"])


def _report(ws: Path) -> dict:
    return json.loads((ws / "data/reports/score/latest.json").read_text(encoding="utf-8"))


def test_list_options_come_from_settings_and_the_config_hash_stays_out_of_the_run_id(ws, capsys):
    assert _cli(ws) == 0
    first = _report(ws)["run"]
    assert first["config_hash"] == load_settings(ws).config_hash("scoring")
    assert first["lists"]["capacity_share"] == 0.05
    (ws / "outreach.toml").write_text(
        "[scoring]\ncapacity_share = 0.2\nchunk_rows = 7\n", encoding="utf-8"
    )
    capsys.readouterr()
    assert _cli(ws, "--capacity-share", "0.05") == 0  # the flag wins over the file
    assert "nothing changed" in " ".join(capsys.readouterr().out.split())
    again = _report(ws)["run"]
    assert again["run_id"] == first["run_id"]  # another chunk size: another hash, the same run
    assert again["config_hash"] != first["config_hash"]
    assert again["config_hash"] == load_settings(ws, scoring={"capacity_share": 0.05}).config_hash(
        "scoring"
    )
    assert _cli(ws) == 0  # the file's list size
    third = _report(ws)["run"]
    assert third["lists"]["capacity_share"] == 0.2 and third["run_id"] != first["run_id"]
    assert third["listed"] > first["listed"]


def test_killed_run_resumes_to_exactly_the_uninterrupted_rows(ws, tmp_path):
    clean = tmp_path / "clean"
    shutil.copytree(ws, clean)
    assert _cli(clean, "--chunk-rows", "40") == 0
    expected = _rows(clean)
    env = {**os.environ, "OUTREACH_SCORE_PAUSE_AFTER_CHUNK": "0.5", "MLFLOW_DISABLE_TELEMETRY": "1"}
    cmd = [sys.executable, "-m", "outreach.cli", "score", "--as-of", AS_OF, "--chunk-rows", "40",
           "--workspace", str(ws)]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    engine = db.make_engine(load_settings(ws).service_db_url)
    try:
        deadline = time.monotonic() + 120
        done = 0
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with engine.connect() as conn:
                    done = conn.execute(sa.select(sa.func.max(score_runs.c.chunks_done))).scalar()
            except sa.exc.OperationalError:  # not created yet
                done = 0
            if done and done >= 1:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        with engine.connect() as conn:
            run = conn.execute(sa.select(score_runs)).mappings().one()
    finally:
        engine.dispose()
    assert run["status"] == "running" and 1 <= run["chunks_done"] < run["n_households"] / 40
    assert _cli(ws, "--chunk-rows", "40") == 0
    got = _rows(ws)
    for name in ORDER:
        pd.testing.assert_frame_equal(got[name], expected[name])
    keep = ["run_id", "status", "chunks_done", "n_households", "model_version", "snapshot_id"]
    pd.testing.assert_frame_equal(got["score_runs"][keep], expected["score_runs"][keep])


def test_a_not_in_need_visit_keeps_a_household_off_the_next_list(ws):
    assert _cli(ws, "--exploration", "0") == 0
    first = _rows(ws)["list_entries"]
    top = first.sort_values(["jurisdiction_code", "rank"]).iloc[0]
    engine = db.make_engine(load_settings(ws).service_db_url)
    with engine.begin() as conn:
        run_id = conn.execute(sa.select(score_runs.c.run_id)).scalar()
        conn.execute(
            visit_outcomes.insert().values(
                household_id=top["household_id"], visit_date=date(2024, 12, 10),
                outcome="not_in_need", programs_started=[], recorded_by="t1",
                recorded_at=pd.Timestamp("2024-12-10T03:00:00Z").to_pydatetime(),
                run_id=run_id, model_version="1",
            )
        )  # fmt: skip
    engine.dispose()
    # another run (another seed: another run id); warnings are compared with the listed run's
    assert _cli(ws, "--exploration", "0", "--seed", "1") == 0
    lists = _rows(ws)["list_entries"]
    again = lists[lists["run_id"] != run_id]
    assert top["household_id"] not in set(again["household_id"])
    assert len(again) == len(first)  # the place went to the next household


def test_score_refuses_a_champion_of_another_feature_set(ws, capsys, monkeypatch):
    import training.estimators

    real = training.estimators.OutreachModel.load

    def load(*a, **k):
        m = real(*a, **k)
        m.feature_set_version = "0.9"
        return m

    monkeypatch.setattr(training.estimators.OutreachModel, "load", staticmethod(load))
    assert _cli(ws) == 2
    err = capsys.readouterr().err
    assert "feature set 0.9" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--capacity-share", "0"], "capacity share"),
        (["--exploration", "1.5"], "exploration share"),
        (["--level", "county"], "level"),
        (["--chunk-rows", "0"], "--chunk-rows"),
        (["--capacity", "0"], "capacity must"),
    ],
)
def test_score_bad_options_give_one_line(ws, capsys, args, message):
    assert _cli(ws, *args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and err.startswith("error:")


def test_score_without_snapshot_or_champion(ws, tmp_path, capsys):
    assert main(["score", "--as-of", "2031-01-31", "--workspace", str(ws)]) == 2
    assert "no snapshot for 2031-01-31" in capsys.readouterr().err
    empty = tmp_path / "empty"
    shutil.copytree(ws, empty)
    shutil.rmtree(empty / "models")
    assert main(["score", "--as-of", AS_OF, "--workspace", str(empty)]) == 2
    assert "no champion model" in capsys.readouterr().err


def test_a_correction_is_applied_by_the_next_run_without_touching_the_record(ws):
    """A caseworker's "this vehicle is not theirs" changes the next run's inputs for that
    household only (its 低保 vehicle test now passes; its score is the model's on the corrected
    row); the snapshot file (the agency's data) is unchanged; the run records what it applied."""
    from features.vectors.build import snapshot_path
    from policies.tristate import FAIL, PASS
    from serving.batch.corrections import APPLICABLE
    from serving.batch.priority import ListSpec
    from serving.batch.scoring import load_champion, score
    from serving.store.tables import corrections

    settings = load_settings(ws)
    day = date.fromisoformat(AS_OF)
    snap_file = snapshot_path(settings.snapshots_dir, day)
    before = snap_file.read_bytes()
    spec = ListSpec(level="township", capacity_share=0.05)
    first = score(settings, day, spec).scored
    result = first.eligibility
    vehicle = result.condition_keys.index("dibao.vehicle")
    failing = np.flatnonzero(result.conditions[:, vehicle] == FAIL)
    assert len(failing), "the fixture has no household over the vehicle limit"
    target = str(result.household_id[failing[0]])

    recorded = pd.Timestamp("2025-01-05T03:00:00Z").to_pydatetime()
    flagged = [("vehicle", "the vehicle is not theirs", "seen on the visit"),
               ("moved out", "he moved out in March", "neighbours")]  # fmt: skip
    engine = db.make_engine(settings.service_db_url)
    with engine.begin() as conn:
        conn.execute(corrections.insert(), [
            {"household_id": target, "item": item, "correction": text, "reason": why,
             "recorded_by": "t1", "recorded_at": recorded} for item, text, why in flagged
        ])  # fmt: skip
    second = score(settings, day, spec)  # a new correction: a new run, not "already scored"
    assert second.status == "written" and second.corrections_applied == 1
    again = second.scored.eligibility
    (row,) = again.rows_of([target])
    assert again.conditions[row, vehicle] == PASS
    changed = np.flatnonzero((again.conditions != result.conditions).any(axis=1))
    assert [str(h) for h in again.household_id[changed]] == [target]

    frame = pd.read_parquet(snap_file)
    fixed = frame[frame["household_id"].astype(str) == target].copy()
    for column, value in APPLICABLE["vehicle"].items():
        fixed[column] = value
    model, _ = load_champion(settings)
    with engine.connect() as conn:
        stored = conn.execute(
            sa.select(scores.c.raw_score).where(
                scores.c.household_id == target, scores.c.run_id == second.run_id
            )
        ).scalar_one()
        c = corrections.c
        found = conn.execute(sa.select(c.item, c.status, c.applied_run_id))
        status = {r.item: (r.status, r.applied_run_id) for r in found}
    engine.dispose()
    assert stored == pytest.approx(float(model.predict_raw(fixed)[0]), abs=1e-9)
    assert snap_file.read_bytes() == before  # the agency's data is what it delivered
    assert status == {"vehicle": ("applied", second.run_id), "moved out": ("open", None)}
    assert score(settings, day, spec).status == "unchanged"  # the same corrections again
