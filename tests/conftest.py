"""Shared fixtures: worlds simulated once per test session.

- ``fixture_world``: the small shared fixture county (a few hundred households) for end-to-end
  tests of later stages.
- ``default_world``: the default world (the simulator's frozen defaults) for the statistical
  promises of the simulator; built once per session.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")

pytest_plugins = [
    "support.pg"
]  # tests/support/pg.py, the PostgreSQL harness (tests/ is a folder on sys.path)

FIXTURE_HOUSEHOLDS = 400
FIXTURE_MONTHS = 24
FIXTURE_SEED = 7
FIXTURE_HMAC_KEY = "fixture-county-key-0123456789abcdef0123456789abcdef"
"""The fixture county's pseudonym key: a test key, in the repository on purpose."""


@pytest.fixture(scope="session")
def params():
    import policies
    from policies.parameters import load_parameters

    return load_parameters(policies.PARAMS_DIR)


@pytest.fixture(scope="session")
def fixture_world(tmp_path_factory, params) -> Path:
    from simulator.config import build_config
    from simulator.simulation import simulate

    out = tmp_path_factory.mktemp("fixture") / "raw"
    config = build_config(FIXTURE_HOUSEHOLDS, FIXTURE_MONTHS, FIXTURE_SEED)
    simulate(config, params, out)
    return out


@pytest.fixture(scope="session")
def default_world(tmp_path_factory, params) -> Path:
    from simulator.config import build_config
    from simulator.simulation import simulate

    out = tmp_path_factory.mktemp("default") / "raw"
    simulate(build_config(), params, out)
    return out


@pytest.fixture(scope="session")
def default_checks(default_world):
    from simulator.validate import world_checks

    return world_checks(default_world)


@pytest.fixture(scope="session")
def fixture_workspace(fixture_world, tmp_path_factory) -> Path:
    """A workspace where the fixture county has been ingested and linked (by the CLI), with a
    fixed HMAC key (:data:`FIXTURE_HMAC_KEY`), so that its keys and every output are the same in
    every session (tests/integration/test_outputs_unchanged.py compares them)."""
    from outreach.cli import main

    ws = tmp_path_factory.mktemp("workspace")
    key = ws / "secrets" / "hmac.key"
    key.parent.mkdir(mode=0o700)
    key.write_text(FIXTURE_HMAC_KEY + "\n", encoding="utf-8")
    key.chmod(0o600)
    assert main(["ingest", "--raw", str(fixture_world), "--workspace", str(ws)]) == 0
    assert main(["link", "--workspace", str(ws)]) == 0
    return ws


@pytest.fixture(scope="session")
def trained_workspace(fixture_workspace, tmp_path_factory) -> Path:
    """A copy of the fixture workspace with month-end snapshots 2023-01..2024-12 and a champion
    model (version 1) trained on them. Tests that change it must copy it first."""
    import shutil

    from outreach.cli import main

    ws = tmp_path_factory.mktemp("trained") / "ws"
    shutil.copytree(fixture_workspace, ws)
    args = ["--workspace", str(ws)]
    assert main(["features", "--from", "2023-01-31", "--to", "2024-12-31", *args]) == 0
    assert main(["train", *args]) == 0
    return ws
