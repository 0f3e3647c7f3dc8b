"""The harness's last resort works: initdb + pg_ctl start a throw-away cluster that answers, and
stopping it removes every trace (skipped where the PostgreSQL binaries are not installed)."""

from __future__ import annotations

import pytest
from support import pg

from serving.store import db

pytestmark = [pytest.mark.integration, pytest.mark.postgresql]


def test_throw_away_cluster_starts_migrates_and_is_removed() -> None:
    bindir = pg.find_bindir()
    if bindir is None:
        pytest.skip("no initdb/pg_ctl on this machine")
    server = pg.start_cluster(bindir)
    assert server.stop is not None and server.home is not None
    try:
        assert (server.home / "data" / "PG_VERSION").exists()
        assert pg.probe(server.url) is None
        assert db.upgrade(server.url) == db.head_revision()
    finally:
        server.stop()
    assert not server.home.exists()
    assert pg.probe(server.url, timeout=1) is not None  # stopped
