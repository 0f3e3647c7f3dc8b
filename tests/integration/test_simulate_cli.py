"""`outreach simulate` end to end: output layout, determinism, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from core.contracts import AGENCIES, CONTRACTS
from outreach.cli import main

pytestmark = pytest.mark.integration

SMALL = ["--households", "60", "--months", "8"]


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_fixture_world_layout(fixture_world: Path):
    manifest = json.loads((fixture_world / "manifest.json").read_text())
    assert manifest["config"]["households"] == 400
    for agency in AGENCIES:
        files = sorted((fixture_world / "agencies" / agency).glob("*.parquet"))
        assert files, agency
        schema = pq.read_schema(files[0])
        assert schema.names == CONTRACTS[agency].column_names
        assert schema.metadata[b"agency"].decode() == agency
    for rel, info in manifest["files"].items():
        assert (fixture_world / rel).exists(), rel
        assert len(info["sha256"]) == 64
    assert (fixture_world / "truth" / "household_months.parquet").exists()


def test_records_are_recorded_within_their_delivery(fixture_world: Path):
    for agency in AGENCIES:
        for f in (fixture_world / "agencies" / agency).glob("*.parquet"):
            t = pq.read_table(f).to_pandas()
            if len(t) == 0:
                continue
            assert (t["recorded_date"] <= t["extract_date"]).all(), f
            assert (t["event_date"] <= t["recorded_date"]).all(), f
            assert (t["delivery_id"] == f"{agency}-{f.stem}").all()


def test_same_seed_identical_files_different_seed_differs(tmp_path: Path, capsys):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert run_cli(["simulate", *SMALL, "--seed", "3", "--out", str(a)], capsys)[0] == 0
    assert run_cli(["simulate", *SMALL, "--seed", "3", "--out", str(b)], capsys)[0] == 0
    assert run_cli(["simulate", *SMALL, "--seed", "4", "--out", str(c)], capsys)[0] == 0
    ma = (a / "manifest.json").read_bytes()
    assert ma == (b / "manifest.json").read_bytes()
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    fa = json.loads(ma)["files"]
    fc = json.loads((c / "manifest.json").read_text())["files"]
    assert any(fa[k]["sha256"] != fc.get(k, {}).get("sha256") for k in fa)


def test_rerun_with_same_parameters_reuses(tmp_path: Path, capsys):
    out = tmp_path / "w"
    assert run_cli(["simulate", *SMALL, "--out", str(out)], capsys)[0] == 0
    before = (out / "manifest.json").stat().st_mtime_ns
    code, stdout, _ = run_cli(["simulate", *SMALL, "--out", str(out)], capsys)
    assert code == 0
    assert "nothing to do" in stdout
    assert (out / "manifest.json").stat().st_mtime_ns == before


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--households", "0"], "households"),
        (["--households", "-5"], "households"),
        (["--households", "many"], "households"),
        (["--months", "0"], "months"),
        (["--rate", "nosuchagency.missing_id=0.1"], "unknown agency 'nosuchagency'"),
        (["--rate", "visits.nosuchdefect=0.1"], "unknown defect"),
        (["--rate", "visits.missing_id=1.5"], "less than or equal to 1"),
        (["--rate", "visits.missing_id=-0.1"], "greater than or equal to 0"),
        (["--rate", "visits.missing_id"], "AGENCY.DEFECT=VALUE"),
        (["--rate", "visits.missing_id=abc"], "not a number"),
        (["--bogus-flag"], "No such option"),
        (["--defects", "harder"], "unknown defect profile 'harder'"),
    ],
)
def test_bad_parameters_one_line_nonzero(tmp_path: Path, capsys, args, needle):
    code, _, err = run_cli(["simulate", *SMALL, "--out", str(tmp_path / "x"), *args], capsys)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert needle in lines[0]
    assert "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_unwritable_output_folder(tmp_path: Path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            # root ignores permission bits; use a path under a regular file instead
            target = tmp_path / "file"
            target.write_text("x")
            out = target / "sub" / "raw"
        else:
            out = locked / "raw"
        code, _, err = run_cli(["simulate", *SMALL, "--out", str(out)], capsys)
    finally:
        locked.chmod(0o700)
    assert code != 0
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("error: cannot write")


def test_existing_different_simulation_is_not_overwritten(tmp_path: Path, capsys):
    out = tmp_path / "w"
    assert run_cli(["simulate", *SMALL, "--seed", "1", "--out", str(out)], capsys)[0] == 0
    before = (out / "manifest.json").read_bytes()
    code, _, err = run_cli(["simulate", *SMALL, "--seed", "2", "--out", str(out)], capsys)
    assert code != 0
    assert "already holds a different simulation" in err
    assert len(err.strip().splitlines()) == 1
    assert (out / "manifest.json").read_bytes() == before
    # --force replaces it on purpose
    code, _, _ = run_cli(["simulate", *SMALL, "--seed", "2", "--out", str(out), "--force"], capsys)
    assert code == 0
    assert json.loads((out / "manifest.json").read_text())["config"]["seed"] == 2


def test_non_empty_folder_without_simulation_is_refused(tmp_path: Path, capsys):
    out = tmp_path / "w"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    code, _, err = run_cli(["simulate", *SMALL, "--out", str(out)], capsys)
    assert code != 0 and "not empty" in err
    assert (out / "precious.txt").read_text() == "keep me"


def test_workspace_flag_and_env(tmp_path: Path, capsys, monkeypatch):
    ws = tmp_path / "ws"
    assert run_cli(["simulate", *SMALL, "--workspace", str(ws)], capsys)[0] == 0
    assert (ws / "data" / "raw" / "manifest.json").exists()
    ws2 = tmp_path / "ws2"
    monkeypatch.setenv("OUTREACH_WORKSPACE", str(ws2))
    assert run_cli(["simulate", *SMALL], capsys)[0] == 0
    assert (ws2 / "data" / "raw" / "manifest.json").exists()


def test_help_on_every_command():
    for args in (["--help"], ["simulate", "--help"], ["contracts", "--help"]):
        proc = subprocess.run(
            [sys.executable, "-m", "outreach.cli", *args],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert "Usage" in proc.stdout


def test_contracts_doc_is_current():
    from core.contracts import render_markdown

    doc = Path(__file__).resolve().parents[2] / "docs" / "data-contracts.md"
    assert doc.read_text(encoding="utf-8") == render_markdown() + "\n", (
        "run `outreach contracts` to refresh docs/data-contracts.md"
    )
