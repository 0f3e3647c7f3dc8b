"""The service's write-ahead-log checkpoints run beside the commits, not inside them: its
engine turns SQLite's automatic checkpoint off, and :class:`WalCheckpointer` copies the log back
and keeps it bounded (serving/store/checkpoint.py)."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from core.settings import load_settings
from serving.runtime.service import Service, ServiceOptions
from serving.store import db
from serving.store.checkpoint import WalCheckpointer

PAGE = 4096


def _autocheckpoint(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()


def _fill(engine: sa.Engine, rows: int) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (x BLOB)")
        conn.exec_driver_sql("INSERT INTO t SELECT randomblob(3000) FROM "
                             f"(WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c "
                             f"WHERE n < {rows}) SELECT n FROM c)")  # fmt: skip


def test_the_engine_leaves_checkpoints_to_its_owner_only_when_asked(tmp_path) -> None:
    own = db.make_engine(f"sqlite:///{tmp_path / 'a.sqlite3'}", wal_autocheckpoint=False)
    plain = db.make_engine(f"sqlite:///{tmp_path / 'b.sqlite3'}")
    assert _autocheckpoint(own) == 0
    assert _autocheckpoint(plain) == 1000  # SQLite's default: other processes keep it
    own.dispose()
    plain.dispose()


def test_the_checkpointer_copies_the_log_back_and_keeps_it_bounded(tmp_path) -> None:
    path = tmp_path / "s.sqlite3"
    engine = db.make_engine(f"sqlite:///{path}", wal_autocheckpoint=False)
    wal = path.with_name(path.name + "-wal")
    _fill(engine, 2000)  # ~1,500 pages: past the 1,000 of an automatic checkpoint
    grown = wal.stat().st_size
    assert grown > 1000 * PAGE  # nothing checkpointed it at commit
    cp = WalCheckpointer(path, interval=0.05)
    done = cp.run_once()
    assert done is not None and done.busy == 0 and done.copied == done.log > 1000
    for _ in range(3):  # after a full checkpoint the next writer starts the log again
        _fill(engine, 200)
        assert cp.run_once().log < 400
    assert wal.stat().st_size == grown  # reused from its start, never longer
    cp.close()  # the last checkpoint empties the log
    assert wal.stat().st_size == 0
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 2600
    engine.dispose()


def test_the_thread_checkpoints_on_its_own(tmp_path) -> None:
    path = tmp_path / "s.sqlite3"
    engine = db.make_engine(f"sqlite:///{path}", wal_autocheckpoint=False)
    _fill(engine, 2000)
    cp = WalCheckpointer(path, interval=0.01).start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # a passive checkpoint leaves nothing more to copy
        _fill(engine, 1)
        state = WalCheckpointer(path, interval=1).run_once()
        if state is not None and state.log < 50:
            break
        time.sleep(0.02)
    assert state is not None and state.log < 50
    cp.close()
    engine.dispose()


def test_the_service_checkpoints_beside_its_commits_unless_told_not_to(tmp_path) -> None:
    settings = load_settings(tmp_path, environ={})
    service = Service(settings, ServiceOptions(poll_seconds=60))
    assert service.checkpointer is not None and _autocheckpoint(service.engine) == 0
    service.close()
    off = Service(settings, ServiceOptions(poll_seconds=60, wal_checkpoint_seconds=0))
    assert off.checkpointer is None and _autocheckpoint(off.engine) == 1000
    off.close()


def test_bad_arguments_are_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match="interval"):
        WalCheckpointer(tmp_path / "x", interval=0)
    with pytest.raises(ValueError, match="mode"):
        WalCheckpointer(tmp_path / "x", interval=1).run_once("FULL; DROP TABLE t")
    assert WalCheckpointer(tmp_path / "missing.sqlite3", interval=1).run_once() is None
