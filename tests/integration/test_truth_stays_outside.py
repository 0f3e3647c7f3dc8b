"""The truth stays on the world's side (issue 15, item 3).

A workspace of the fixture county whose truth sits outside the raw folder, with
``OUTREACH_TRUTH_DIR=off`` (as under the county twin): ingest, link, features, train and score run
while :class:`support.truth_guard.TruthGuard` watches the truth folder, and none of them may open
a file in it. The guard is shown to catch reads (a planted Python open, a planted pyarrow read,
and ``train`` itself once the setting points at the folder), so the test can fail.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from support.truth_guard import TruthGuard, TruthRead

from core.errors import ConfigError
from core.settings import load_settings
from core.truth import truth_dir_for
from outreach.cli import main

pytestmark = pytest.mark.integration


def _split(fixture_world: Path, base: Path) -> tuple[Path, Path, Path]:
    raw, world, ws = base / "raw", base / "world", base / "ws"
    shutil.copytree(fixture_world, raw, ignore=shutil.ignore_patterns("truth"))
    world.mkdir()
    shutil.copytree(fixture_world / "truth", world / "truth")
    shutil.copy2(fixture_world / "manifest.json", world / "manifest.json")
    return ws, raw, world / "truth"


def test_the_pipeline_opens_no_truth_file(fixture_world, tmp_path, monkeypatch) -> None:
    ws, raw, truth = _split(fixture_world, tmp_path)
    monkeypatch.setenv("OUTREACH_TRUTH_DIR", "off")
    monkeypatch.delenv("OUTREACH_DB_URL", raising=False)
    args = ["--workspace", str(ws)]
    with TruthGuard(truth) as guard:
        assert main(["ingest", "--raw", str(raw), *args]) == 0
        assert main(["link", *args]) == 0
        assert main(["features", "--from", "2023-01-31", "--to", "2024-12-31", *args]) == 0
        assert main(["train", *args]) == 0
        assert main(["score", "--as-of", "2024-12-31", *args]) == 0
    assert guard.opened == []
    score = json.loads((ws / "data" / "reports" / "score" / "latest.json").read_text("utf-8"))
    assert "truth" not in score  # no truth figures without the truth

    # the same pipeline, told where the truth is, reads it (and the guard sees it)
    monkeypatch.setenv("OUTREACH_TRUTH_DIR", str(truth))
    with TruthGuard(truth) as guard:
        assert main(["train", *args]) == 0
    assert str(truth / "household_months.parquet") in guard.opened


def test_the_guard_catches_planted_reads(fixture_world, tmp_path) -> None:
    _, _, truth = _split(fixture_world, tmp_path)
    with TruthGuard(truth) as guard:
        with pytest.raises(TruthRead):
            (truth / "households.parquet").read_bytes()  # through Python: refused
        pq.read_table(truth / "persons.parquet", columns=["person_id"])  # C++: seen
    assert guard.opened == [str(truth / "households.parquet"), str(truth / "persons.parquet")]
    (truth / "households.parquet").read_bytes()  # off again: nothing refused


def test_truth_dir_settings(tmp_path) -> None:
    ws = tmp_path / "ws"
    (ws / "data" / "raw" / "truth").mkdir(parents=True)
    auto = load_settings(ws, environ={})
    assert auto.truth_dir == "auto" and truth_dir_for(auto) == ws / "data" / "raw" / "truth"
    assert truth_dir_for(auto, tmp_path / "elsewhere") is None  # auto: <raw>/truth only
    for off in ("off", "none", "OFF"):
        assert truth_dir_for(load_settings(ws, environ={"OUTREACH_TRUTH_DIR": off})) is None
    assert truth_dir_for(load_settings(ws, environ={}, truth_dir=None)) is None
    (ws / "outreach.toml").write_text('truth_dir = "../world/truth"\n', encoding="utf-8")
    (tmp_path / "world" / "truth").mkdir(parents=True)
    chosen = truth_dir_for(load_settings(ws, environ={}))
    assert chosen is not None and chosen.resolve() == (tmp_path / "world" / "truth").resolve()
    with pytest.raises(ConfigError, match="not a folder"):
        truth_dir_for(load_settings(ws, environ={"OUTREACH_TRUTH_DIR": str(tmp_path / "no")}))


def test_link_reads_no_truth_inside_raw_when_the_setting_is_off(fixture_world, tmp_path,
                                                                monkeypatch) -> None:  # fmt: skip
    ws = tmp_path / "ws"
    monkeypatch.delenv("OUTREACH_DB_URL", raising=False)
    args = ["--workspace", str(ws)]
    assert main(["ingest", "--raw", str(fixture_world), *args]) == 0
    monkeypatch.setenv("OUTREACH_TRUTH_DIR", "off")
    with TruthGuard(fixture_world / "truth") as guard:
        assert main(["link", *args]) == 0
    assert guard.opened == []
    report = json.loads((ws / "data" / "reports" / "link" / "latest.json").read_text("utf-8"))
    assert not report.get("quality")
    monkeypatch.setenv("OUTREACH_TRUTH_DIR", "auto")  # the default: measured against it
    assert main(["link", *args]) == 0
    report = json.loads((ws / "data" / "reports" / "link" / "latest.json").read_text("utf-8"))
    assert report.get("quality")
