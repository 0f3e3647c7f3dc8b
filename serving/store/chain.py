"""The audit log's hash chain: appending under a database lock, and verifying.

Every ``audit_log`` row holds ``prev_hash`` (the previous row's hash) and ``row_hash`` =
SHA-256 over ``prev_hash`` and the row's own fields (id, time, actor, role, action, resource,
household, jurisdiction, purpose, request id, detail) in a canonical JSON form. The one-row
``audit_chain`` table holds the head (last id and hash) and the base the chain starts from
(zero hash at first; moved by a purge, which leaves a checkpoint row naming it).

:func:`append` takes the chain's lock first (SQLite: a write to the head row, which takes the
database's write lock and waits up to the busy timeout; PostgreSQL: ``SELECT ... FOR UPDATE``
of the head row), so several service processes append one chain. Row ids are given by the
chain (head + 1, ...), and the database refuses an id at or below the newest one (a
``BEFORE INSERT`` trigger), which closes SQLite's ``INSERT OR REPLACE``.

:func:`verify` walks the rows in id order and names the first broken one: an edited row (its
hash no longer matches), a deleted one (an id gap, or the next row's ``prev_hash`` differs), a
replaced one, an unchained one, a head that does not match the last row, or a missing
append-only trigger (``DROP TRIGGER``).

Example:
    >>> with engine.begin() as conn:                                  # doctest: +SKIP
    ...     append(conn, [event])
    ...     report = verify(conn)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import threading
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from serving.store.tables import audit_chain, audit_log

GENESIS = "0" * 64
FIELDS = ("id", "at", "actor", "role", "action", "resource", "household_id",
          "jurisdiction_code", "purpose", "request_id", "detail")  # fmt: skip
SQLITE_TRIGGERS = frozenset({"audit_log_no_update", "audit_log_no_delete", "audit_log_no_rewind"})
PG_TRIGGERS = frozenset({"audit_log_append_only", "audit_log_no_rewind"})


def _at(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def row_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    """The hash of one row given the previous row's hash (fields as in :data:`FIELDS`)."""
    values = [prev_hash] + [
        _at(row["at"]) if name == "at" else (int(row[name]) if name == "id" else row[name])
        for name in FIELDS
    ]
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclasses.dataclass(frozen=True, slots=True)
class Head:
    """The chain's head (last id and hash) and base (where verification starts)."""

    last_id: int
    last_hash: str
    base_id: int
    base_hash: str


def lock(conn: Connection) -> Head:
    """Take the chain's lock for the rest of ``conn``'s transaction and read the head.

    Call it first in a transaction that will append (before other reads on SQLite, so the
    transaction never has to upgrade a stale read snapshot to a write).
    """
    if conn.dialect.name == "postgresql":
        row = conn.execute(_HEAD_FOR_UPDATE).mappings().one()
    else:
        _wait_turn(conn)
        conn.execute(_TOUCH_HEAD)
        row = conn.execute(_HEAD).mappings().one()
    return Head(row["last_id"], row["last_hash"], row["base_id"], row["base_hash"])


# built once (every audit commit runs them): statement construction was a visible share of the
# audit writer's time in the service bench's profile
_HEAD = sa.select(audit_chain).where(audit_chain.c.id == 1)
_HEAD_FOR_UPDATE = _HEAD.with_for_update()
_TOUCH_HEAD = (  # a write to the head row takes SQLite's write lock
    audit_chain.update().where(audit_chain.c.id == 1).values(last_id=audit_chain.c.last_id)
)
_MOVE_HEAD = (
    audit_chain.update()
    .where(audit_chain.c.id == 1)
    .values(last_id=sa.bindparam("new_last_id"), last_hash=sa.bindparam("new_last_hash"))
)
_INSERT = audit_log.insert()


_TURNS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_TURNS_GUARD = threading.Lock()
TURN_WAIT_SECONDS = 5.0
"""The longest a writer waits for its turn in this process before leaving it to SQLite."""


def _wait_turn(conn: Connection) -> None:
    """On SQLite, queue this process's writers for the chain's lock in Python first.

    SQLite's busy handler makes a writer that finds the database locked sleep in growing steps
    (up to 100 ms each) and try again; under a stream of audit commits a waiting outcome POST
    could lose every race and wait for seconds (the soak's tail reached 1.85 s, next to the
    load client's 2 s timeout). Here the writers of one process wait on a lock that hands over
    as soon as the previous transaction ends (released by its commit or rollback), so SQLite
    is only asked when the database is free of this process's writers. Other processes still
    meet SQLite's own busy timeout, as before.
    """
    engine = conn.engine
    with _TURNS_GUARD:
        turn = _TURNS.get(engine)
        if turn is None:
            turn = _TURNS[engine] = threading.Lock()
            event.listen(engine, "commit", _end_turn)
            event.listen(engine, "rollback", _end_turn)
    if "chain_turn" in conn.info:  # this connection holds it already
        return
    if turn.acquire(timeout=TURN_WAIT_SECONDS):
        conn.info["chain_turn"] = turn


def _end_turn(conn: Connection) -> None:
    turn = conn.info.pop("chain_turn", None)
    if turn is not None:
        turn.release()


def append(conn: Connection, events: Sequence[Any], head: Head | None = None) -> int:
    """Append audit events (:class:`~serving.store.db.AuditEvent`) to the chain within
    ``conn``'s transaction, under the chain's lock (taken here unless ``head`` says it is held).

    Returns:
        The number of rows appended.
    """
    if not events:
        return 0
    head = head or lock(conn)
    rows, prev, next_id = [], head.last_hash, head.last_id
    for e in events:
        next_id += 1
        row = {**e.as_row(), "id": next_id}
        row["prev_hash"] = prev
        row["row_hash"] = prev = row_hash(prev, row)
        rows.append(row)
    conn.execute(_INSERT, rows)
    conn.execute(_MOVE_HEAD, {"new_last_id": next_id, "new_last_hash": prev})
    return len(rows)


@dataclasses.dataclass(frozen=True, slots=True)
class Verdict:
    """What :func:`verify` found: ``ok``, rows checked, the first broken row and why."""

    ok: bool
    rows: int
    last_id: int
    last_hash: str
    broken_id: int | None = None
    problem: str | None = None

    def line(self) -> str:
        """One line for the CLI."""
        if self.ok:
            return (
                f"audit log intact: {self.rows} rows, last id {self.last_id}, head {self.last_hash}"
            )
        where = f"row {self.broken_id}" if self.broken_id is not None else "the log"
        return f"audit log BROKEN at {where}: {self.problem}"


def triggers_present(conn: Connection) -> set[str]:
    """The names of the append-only triggers on ``audit_log`` that exist now."""
    if conn.dialect.name == "postgresql":
        q = sa.text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass "
            "AND NOT tgisinternal AND tgenabled <> 'D'"
        )
    else:
        q = sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                    "AND tbl_name = 'audit_log'")  # fmt: skip
    return {r[0] for r in conn.execute(q)}


def verify(conn: Connection, batch: int = 10_000) -> Verdict:
    """Check the whole chain and the triggers; the first problem found is reported."""
    expected = PG_TRIGGERS if conn.dialect.name == "postgresql" else SQLITE_TRIGGERS
    missing = sorted(expected - triggers_present(conn))
    head_row = conn.execute(sa.select(audit_chain).where(audit_chain.c.id == 1)).mappings().first()
    if head_row is None:
        return Verdict(False, 0, 0, GENESIS, None, "the chain head row is missing")
    prev_id, prev_hash, rows = head_row["base_id"], head_row["base_hash"], 0

    def broken(row_id: int | None, why: str) -> Verdict:
        return Verdict(False, rows, prev_id, prev_hash, row_id, why)

    if missing:
        return broken(None, f"append-only trigger missing: {', '.join(missing)}")
    cols = [audit_log.c[n] for n in (*FIELDS, "prev_hash", "row_hash")]
    after = prev_id
    while True:
        q = sa.select(*cols).where(audit_log.c.id > after).order_by(audit_log.c.id).limit(batch)
        chunk = conn.execute(q).mappings().all()
        if not chunk:
            break
        for row in chunk:
            rid = int(row["id"])
            if rid != prev_id + 1:
                return broken(rid, f"rows {prev_id + 1}..{rid - 1} are missing (deleted)")
            if row["row_hash"] is None or row["prev_hash"] is None:
                return broken(rid, "the row is not chained (inserted around the service)")
            if row["prev_hash"] != prev_hash:
                return broken(rid, "its previous-row hash does not match (a row before it "
                                   "was deleted or replaced)")  # fmt: skip
            if row_hash(prev_hash, row) != row["row_hash"]:
                return broken(rid, "its contents do not match its hash (edited or replaced)")
            prev_id, prev_hash, rows = rid, row["row_hash"], rows + 1
        after = prev_id
    if (head_row["last_id"], head_row["last_hash"]) != (prev_id, prev_hash):
        return broken(head_row["last_id"], "the chain head does not match the last row "
                                           "(rows at the end were removed or changed)")  # fmt: skip
    before_base = audit_log.c.id <= head_row["base_id"]
    early = conn.execute(
        sa.select(sa.func.count()).select_from(audit_log).where(before_base)
    ).scalar_one()
    if early:
        return broken(None, f"{early} rows lie before the chain's base (inserted out of order)")
    return Verdict(True, rows, prev_id, prev_hash)
