"""``outreach purge``: enforce the retention periods (``[retention]``, ``docs/privacy.md``).

In one transaction on the service database, under the audit chain's lock:

- score runs scored more than ``runs_months`` ago, unless a visit outcome names the run (the
  outcome export weighs outcomes by the list they came from) or it is the latest complete run:
  their eligibility rows, list entries, scores and the run row;
- visit outcomes and corrections recorded more than ``outcomes_years`` ago;
- web sessions started more than ``sessions_days`` ago;
- tokens that expired or were revoked more than ``audit_years`` ago (none of their sessions is
  left);
- audit rows older than ``audit_years``: the append-only trigger is lifted for this statement
  only and restored in the same transaction, the chain's base moves to the newest removed row
  (``audit_chain.base_id`` / ``base_hash``), so ``outreach audit verify`` still checks every row
  kept from there;
- runs scored from a snapshot that is removed are marked ``unreplayable_since`` /
  ``unreplayable_reason``.

The warehouse and the raw deliveries are purged too (``features.retention``: agency records with
names and birth dates, links, memberships, persons, quarantine, delivery files), in a DuckDB
transaction opened first and committed right after the service database's.

Files of personal data written for a person to read -- clerical-review files
(``data/reports/review/``) and access-request reports (``data/reports/subject/``) -- older than
``personal_files_days`` by the UTC time in their name are counted (``review_files``,
``subject_report_files``) and removed after the commit.

Then one ``purge`` audit row (the checkpoint) records the periods, what was removed (the
warehouse's tables as ``warehouse.<table>``, the delivery files as a count) and the chain's new
base; after the commit, snapshot folders older than ``snapshots_months`` are removed.
``dry_run`` counts without changing anything.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import re
import shutil
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.months import add_months
from core.personal_files import files_before
from core.settings import Settings
from features.linkage.stage import review_dir
from features.retention import purge_warehouse
from serving.privacy.subject_report import subject_dir
from serving.store import chain, db, tables

ACTOR = "outreach-purge"
PURPOSE = "retention periods enforced (docs/privacy.md)"
UNREPLAYABLE = "snapshot removed by outreach purge (retention)"
_SNAPSHOT = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclasses.dataclass(frozen=True)
class PurgeReport:
    """What a purge removed (or would remove, for a dry run)."""

    removed: dict[str, int]
    snapshots: list[str]
    unreplayable_runs: int
    audit_base_id: int
    dry_run: bool

    def lines(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        rows = ", ".join(f"{n} {name}" for name, n in self.removed.items())
        out = [f"{verb}: {rows}", f"{verb} snapshots: {len(self.snapshots)}"]
        out.append(f"runs marked as no longer replayable: {self.unreplayable_runs}")
        out.append(f"audit chain base: row {self.audit_base_id}")
        return out


def old_snapshots(settings: Settings, today: dt.date) -> list[dt.date]:
    """Snapshot dates older than the retention period."""
    cut = add_months(today, -settings.retention.snapshots_months)
    folder = settings.snapshots_dir
    if not folder.is_dir():
        return []
    dates = [dt.date.fromisoformat(p.name) for p in folder.iterdir()
             if p.is_dir() and _SNAPSHOT.match(p.name)]  # fmt: skip
    return sorted(d for d in dates if d < cut)


def old_personal_files(settings: Settings, now: dt.datetime) -> dict[str, list[Path]]:
    """Review files and access-request reports past ``personal_files_days``, by kind."""
    cut = now - dt.timedelta(days=settings.retention.personal_files_days)
    return {
        "review_files": files_before(review_dir(settings), cut),
        "subject_report_files": files_before(subject_dir(settings), cut),
    }


def purge(settings: Settings, now: dt.datetime | None = None, dry_run: bool = False) -> PurgeReport:
    """Enforce the retention periods (see the module docstring)."""
    now = now or dt.datetime.now(dt.UTC)
    today = now.date()
    snapshots = old_snapshots(settings, today)
    files = old_personal_files(settings, now)
    pending = purge_warehouse(settings, today, now, dry_run)
    engine = db.make_engine(settings.service_db_url)
    try:
        db.upgrade(engine)
        conn = engine.connect()
        try:
            transaction = conn.begin()
            head = chain.lock(conn)
            removed, marked, base = _purge_rows(conn, settings, now, snapshots)
            removed.update({f"warehouse.{k}": n for k, n in pending.report.removed.items()})
            removed["raw_delivery_files"] = len(pending.report.raw_files)
            removed.update({kind: len(paths) for kind, paths in files.items()})
            event = db.AuditEvent(
                actor=ACTOR, role="system", action="purge", resource="retention",
                purpose=PURPOSE, at=now,
                detail={"periods": settings.retention.model_dump(), "removed": removed,
                        "snapshots": [d.isoformat() for d in snapshots],
                        "unreplayable_runs": marked, "audit_base_id": base},
            )  # fmt: skip
            if dry_run:
                transaction.rollback()
            else:
                chain.append(conn, [event], head)
                transaction.commit()
        finally:
            conn.close()
    except BaseException:
        pending.rollback()
        raise
    finally:
        engine.dispose()
    pending.commit()  # a dry run rolls back
    if not dry_run:
        for day in snapshots:
            shutil.rmtree(settings.snapshots_dir / day.isoformat(), ignore_errors=True)
        for path in (p for paths in files.values() for p in paths):
            path.unlink(missing_ok=True)
    return PurgeReport(removed, [d.isoformat() for d in snapshots], marked, base, dry_run)


def _purge_rows(
    conn: Connection, settings: Settings, now: dt.datetime, snapshots: list[dt.date]
) -> tuple[dict[str, int], int, int]:
    r, t = settings.retention, tables
    removed: dict[str, int] = {}
    marked = 0
    if snapshots:
        marked = conn.execute(
            t.score_runs.update()
            .where(t.score_runs.c.as_of.in_(snapshots), t.score_runs.c.unreplayable_since.is_(None))
            .values(unreplayable_since=now, unreplayable_reason=UNREPLAYABLE)
        ).rowcount
    runs = _old_runs(conn, add_months(now.date(), -r.runs_months))
    for table in (t.eligibility, t.list_entries, t.scores, t.score_runs):
        removed[table.name] = _delete(conn, table, table.c.run_id.in_(runs)) if runs else 0
    old = now - dt.timedelta(days=round(365.25 * r.outcomes_years))
    removed["visit_outcomes"] = _delete(
        conn, t.visit_outcomes, t.visit_outcomes.c.recorded_at < old
    )
    removed["corrections"] = _delete(conn, t.corrections, t.corrections.c.recorded_at < old)
    sessions = now - dt.timedelta(days=r.sessions_days)
    removed["web_sessions"] = _delete(conn, t.web_sessions, t.web_sessions.c.started_at < sessions)
    audit_cut = now - dt.timedelta(days=round(365.25 * r.audit_years))
    k = t.api_tokens.c
    gone = sa.or_(k.expires_at < audit_cut, k.revoked_at < audit_cut)
    live = sa.select(t.web_sessions.c.token_id)
    removed["api_tokens"] = _delete(conn, t.api_tokens, gone, k.id.not_in(live))
    removed["audit_log"], base = _purge_audit(conn, audit_cut)
    return removed, marked, base


def _old_runs(conn: Connection, before: dt.date) -> list[str]:
    s, o = tables.score_runs.c, tables.visit_outcomes.c
    latest = db.latest_complete_run(conn)
    named = sa.select(o.run_id).where(o.run_id.is_not(None))
    q = sa.select(s.run_id).where(s.as_of < before, s.run_id.not_in(named))
    if latest is not None:
        q = q.where(s.run_id != latest.run_id)
    return list(conn.execute(q).scalars())


def _delete(conn: Connection, table: sa.Table, *where) -> int:
    return conn.execute(table.delete().where(*where)).rowcount


def _purge_audit(conn: Connection, before: dt.datetime) -> tuple[int, int]:
    """Remove audit rows older than ``before`` and move the chain's base; ``(rows, base id)``."""
    a, h = tables.audit_log.c, tables.audit_chain.c
    head = conn.execute(sa.select(tables.audit_chain)).mappings().one()
    cut = conn.execute(sa.select(sa.func.max(a.id)).where(a.at < before)).scalar()
    if cut is None or cut <= head["base_id"]:
        return 0, int(head["base_id"])
    cut_hash = conn.execute(sa.select(a.row_hash).where(a.id == cut)).scalar_one()
    pg = conn.dialect.name == "postgresql"
    if pg:
        conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    else:
        conn.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
    n = conn.execute(tables.audit_log.delete().where(a.id <= cut)).rowcount
    if pg:
        conn.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    else:
        conn.exec_driver_sql(_sqlite_no_delete())
    move = tables.audit_chain.update().where(h.id == 1)
    conn.execute(move.values(base_id=cut, base_hash=cut_hash))
    return n, int(cut)


def _sqlite_no_delete() -> str:
    """The SQLite trigger refusing DELETE, as migration 0002 creates it."""
    migration = importlib.import_module("serving.store.migrations.versions.0002_audit_chain")
    (statement,) = [s for s in migration.SQLITE_APPEND_ONLY if "BEFORE DELETE" in s]
    return statement
