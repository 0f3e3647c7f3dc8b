"""The county twin end to end on a small world: the loop closes, figures come from the truth,
a killed run resumes with identical results, and bad input gets one line.

One base (a 400-household world simulated to 2025-12 and run through the pipeline) is built
once for the module; policies then run 2 loop months from it.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from core.errors import ConfigError
from outreach.twin.loop import TwinOptions, resolve, run_policy
from simulator.config import build_config
from simulator.county import County
from simulator.simulation import simulate

HOUSEHOLDS, MONTHS, SEED = 400, 2, 5


@pytest.fixture(scope="module")
def twin(tmp_path_factory, params) -> TwinOptions:
    out = tmp_path_factory.mktemp("twin")
    options = TwinOptions(policy="model", out=out, months=MONTHS, seed=SEED,
                          households=HOUSEHOLDS)  # fmt: skip
    run_policy(options, params)
    return options


def _digests(raw: Path) -> dict[str, str]:
    return {
        str(p.relative_to(raw)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((raw / "agencies").rglob("*.parquet"))
        if not p.name.endswith("-outreach.parquet")
    }


def test_status_quo_deliveries_equal_simulate_byte_for_byte(twin, params, tmp_path):
    report = run_policy(replace(twin, policy="status-quo"), params)
    simulate(build_config(HOUSEHOLDS, 36 + MONTHS, SEED), params, tmp_path / "sim")
    raw = report.folder / "workspace" / "data" / "raw"
    assert _digests(raw) == _digests(tmp_path / "sim")
    assert not (raw / "truth").exists() and not (raw / "manifest.json").exists()
    assert report.results["list_visits"] == 0


def test_the_loop_closes_through_the_service_and_ingest(twin):
    folder = twin.world_dir / "model"
    lists = pd.read_parquet(folder / "lists" / "2026-01.parquet")
    assert len(lists) > 0 and lists["true_household"].ge(0).all()
    assert set(lists["outcome"]) <= {"in_need", "not_in_need", "not_found"}
    token = json.loads((folder / "twin-token").read_text())["id"]
    assert (folder / "twin-token").stat().st_mode & 0o077 == 0
    engine = sa.create_engine(f"sqlite:///{folder / 'workspace' / 'data' / 'service.sqlite3'}")
    january = "visit_date BETWEEN '2026-01-01' AND '2026-01-31'"
    with engine.connect() as conn:
        recorded = conn.execute(
            sa.text(f"SELECT count(*) FROM visit_outcomes WHERE recorded_by = :t AND {january}"),
            {"t": token},
        ).scalar_one()
        audited = conn.execute(
            sa.text(
                "SELECT count(*) FROM audit_log WHERE actor = :t AND action = 'write' "
                "AND resource = 'visit_outcome'"
            ),
            {"t": token},
        ).scalar_one()
    engine.dispose()
    assert recorded == len(lists)
    assert audited >= recorded
    con = duckdb.connect(str(folder / "workspace" / "data" / "warehouse.duckdb"), read_only=True)
    try:
        ingested = con.execute(
            "SELECT count(*) FROM rec_visits WHERE delivery_id = 'visits-2026-01-outreach'"
        ).fetchone()[0]
    finally:
        con.close()
    assert 0 < ingested <= recorded  # exported outcomes came back as a visits delivery


def test_figures_come_from_the_policys_own_world(twin, params):
    results = json.loads((twin.world_dir / "model" / "results.json").read_text())
    quo = run_policy(replace(twin, policy="status-quo"), params).results
    assert results["months"] == ["2026-01", "2026-02"]
    assert results["list_visits"] > 0
    first = results["by_month"][0]
    assert first["undiscovered_need_present"] >= first["reached"] >= 0
    # the same world before any list: the same households were silent at the checkpoint
    assert results["time_to_help"]["households"] >= 1
    # a list's cases are decided the month after: the first loop month is the same world
    assert quo["unassisted_by_month"]["36"] == results["unassisted_by_month"]["36"]
    assert quo["time_to_help"]["households"] >= 1


def test_the_oracle_lists_from_the_truth_and_never_relists_within_6_months(twin, params):
    report = run_policy(replace(twin, policy="oracle"), params)
    a = pd.read_parquet(report.folder / "lists" / "2026-01.parquet")
    b = pd.read_parquet(report.folder / "lists" / "2026-02.parquet")
    assert len(a) > 0
    assert not set(a["true_household"]) & set(b["true_household"])
    assert not (report.folder / "workspace" / "data" / "reports" / "month").exists()


def test_a_killed_run_resumes_with_identical_results(twin, params, tmp_path):
    uninterrupted = json.loads((twin.world_dir / "model" / "results.json").read_text())
    # a second twin folder shares nothing but the base, copied in
    import shutil

    out = tmp_path / "twin"
    shutil.copytree(twin.world_dir / "base", out / twin.world_dir.name / "base")
    code = (
        "import sys, policies; from pathlib import Path; "
        "from policies.parameters import load_parameters as lp; "
        "from outreach.twin.loop import TwinOptions, run_policy; "
        f"run_policy(TwinOptions(policy='model', out=Path(sys.argv[1]), months={MONTHS}, "
        f"seed={SEED}, households={HOUSEHOLDS}), lp(policies.PARAMS_DIR))"
    )
    child = subprocess.Popen([sys.executable, "-c", code, str(out)])
    state = out / twin.world_dir.name / "model" / "state.json"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and child.poll() is None:
        if state.exists() and json.loads(state.read_text()).get("months_done"):
            break
        time.sleep(0.05)
    assert child.poll() is None, "the run ended before it could be killed"
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait() == -signal.SIGKILL
    assert json.loads(state.read_text())["months_done"] == ["2026-01"]
    resumed = run_policy(replace(twin, out=out), params).results
    assert resumed == uninterrupted


def test_a_list_naming_townships_the_world_does_not_have_is_refused(twin):
    folder = twin.world_dir / "model"
    county = County.load(folder / "county.pkl", folder / "workspace" / "data" / "raw",
                         folder / "truth")  # fmt: skip
    from core.settings import load_settings

    settings = load_settings(folder / "workspace", environ={})
    entries = pd.DataFrame({"household_key": ["Hx"], "jurisdiction_code": ["999999999"]})
    with pytest.raises(ConfigError, match="townships this world does not have"):
        resolve(entries, county, settings)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--policy", "nope"], "unknown policy 'nope'"),
        (["run", "--policy", "model", "--capacity", "0"], "--capacity must be above 0"),
        (["run", "--policy", "model", "--capacity", "-1"], "--capacity must be above 0"),
        (["run", "--policy", "learning"], "not available yet"),
        (["compare", "--policies", "model,nope"], "unknown policy 'nope'"),
        (["compare", "--seeds", "0"], "--seeds must be at least 1"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(tmp_path, args, message):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "outreach.cli",
            "twin",
            *args,
            "--out",
            str(tmp_path / "t"),
            "--workspace",
            str(tmp_path),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in done.stderr


def test_the_need_now_model_learns_from_the_loops_visits(twin):
    """The entry point a learning policy will call: the loop's list visits come back as labels
    with their logged probabilities, and a model is trained on them (never on the truth)."""
    from core.settings import load_settings
    from training.need_now_train import train_need_now

    settings = load_settings(twin.world_dir / "model" / "workspace", environ={}, truth_dir="off")
    result = train_need_now(settings, save=False)
    report = result.report
    assert report["labels_by_channel"]["ranked"]["rows"] > 0  # our list visits, exported back
    assert report["lateness_p99_days"]["lists"] == 0  # so they are not held back a month
    # January's list visits label the vectors of 2025-12-31, which validate
    assert "2025-12-31" in report["valid_months"]
    assert {"routine", "triggered"} <= set(report["fits"]["weighted"]["weights"]["by_channel"])
    day = report["valid_months"][-1]
    snapshot = pd.read_parquet(settings.snapshots_dir / day / "features.parquet")
    order = np.argsort(result.model.predict_report(snapshot), kind="stable")
    need = result.model.predict_need(snapshot)[order]
    assert ((need >= 0) & (need <= 1)).all() and (np.diff(need) >= 0).all()  # one ranking
