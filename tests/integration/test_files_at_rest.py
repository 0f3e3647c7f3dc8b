"""Personal data at rest is owner-only: everything a command writes in the workspace is 0700/0600,
and the service names (without contents) what was left wider by hand."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from core.files import loose_paths, tighten
from core.settings import load_settings
from serving.app import warn_about_loose_files

pytestmark = pytest.mark.integration


def _cli(ws: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTREACH_")}
    done = subprocess.run(
        [sys.executable, "-m", "outreach.cli", *args, "--workspace", str(ws)],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]


def test_what_the_pipeline_writes_is_owner_only(tmp_path):
    old = os.umask(0o022)  # a usual login umask: files would be 0644 without the project's own
    try:
        ws = tmp_path / "ws"
        _cli(ws, "simulate", "--households", "60", "--months", "3")
        _cli(ws, "ingest")
    finally:
        os.umask(old)
    warehouse = ws / "data" / "warehouse.duckdb"
    assert warehouse.exists() and stat.S_IMODE(warehouse.stat().st_mode) == 0o600
    assert stat.S_IMODE((ws / "secrets").stat().st_mode) == 0o700
    assert stat.S_IMODE((ws / "data").stat().st_mode) == 0o700
    assert loose_paths(ws) == []


def test_the_service_warns_about_wider_files_and_tighten_fixes_them(tmp_path, caplog):
    ws = tmp_path / "ws"
    (ws / "data").mkdir(parents=True, mode=0o700)
    ws.chmod(0o700)
    notes = ws / "data" / "service.sqlite3"
    notes.write_text("visit note of 张三", encoding="utf-8")
    notes.chmod(0o644)
    settings = load_settings(ws, environ={})
    with caplog.at_level(logging.WARNING, logger="outreach.service"):
        assert warn_about_loose_files(settings) == ["data/service.sqlite3"]
    assert "data/service.sqlite3" in caplog.text and "张三" not in caplog.text
    assert tighten(ws) == 1
    assert stat.S_IMODE(notes.stat().st_mode) == 0o600 and warn_about_loose_files(settings) == []
