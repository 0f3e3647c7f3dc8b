"""Retention (issue 18, item 1): ``outreach purge`` removes what is past its period on SQLite
and PostgreSQL, keeps runs that outcomes name and the latest run, marks runs whose snapshot
goes as no longer replayable, records one checkpoint audit row, and leaves the audit chain
verifiable -- and still able to find a row edited afterwards."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from core.personal_files import write_owner_only
from core.settings import load_settings
from features.linkage.stage import review_dir
from serving.privacy.purge import UNREPLAYABLE, purge
from serving.privacy.subject_report import subject_dir
from serving.runtime import auth
from serving.store import chain, db, tables

pytestmark = pytest.mark.integration
NOW = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)
HH = "H" + "ab" * 12


def _run(conn, run_id: str, as_of: dt.date) -> None:
    at = dt.datetime.combine(as_of, dt.time(12), dt.UTC)
    conn.execute(
        tables.score_runs.insert().values(
            run_id=run_id,
            as_of=as_of,
            model_name="m",
            model_version="1",
            feature_set_version="f",
            snapshot_id="s",
            priority_version="p",
            capacity={},
            exploration_share=0.0,
            started_at=at,
            finished_at=at,
            status="complete",
            chunks_done=1,
            n_households=1,
        )
    )
    conn.execute(tables.scores.insert().values(
        run_id=run_id, household_id=HH, as_of=as_of, model_version="1",
        township_code="330226001", village_code="330226001001", score=0.5, raw_score=0.0,
        band="high", priority=0.5))  # fmt: skip


def _outcome(conn, run_id: str | None, at: dt.datetime) -> None:
    conn.execute(tables.visit_outcomes.insert().values(
        household_id=HH, visit_date=at.date(), outcome="visited", programs_started=[],
        note=None, recorded_by="t", recorded_at=at, run_id=run_id, model_version="1"))  # fmt: skip


def _event(at: dt.datetime, n: int) -> db.AuditEvent:
    return db.AuditEvent(actor="0123456789", role="auditor", action="read", resource="household",
                         purpose="audit", household_id=HH, detail={"n": n}, at=at)  # fmt: skip


@pytest.fixture
def workspace(tmp_path, db_url):
    settings = load_settings(tmp_path, environ={"OUTREACH_DB_URL": db_url})
    db.upgrade(db_url)
    engine = db.make_engine(db_url)
    years = dt.timedelta(days=365)
    with engine.begin() as conn:
        _run(conn, "old", dt.date(2022, 1, 31))  # old, no outcome: removed
        _run(conn, "old_named", dt.date(2022, 2, 28))  # old, an outcome names it: kept
        _run(conn, "recent", dt.date(2026, 10, 31))  # kept (and the latest)
        _outcome(conn, "old_named", NOW - 6 * years)  # past 5 years: removed
        _outcome(conn, "old_named", NOW - 1 * years)  # kept, keeps its run
        chain.append(conn, [_event(NOW - 4 * years, i) for i in range(5)])
        chain.append(conn, [_event(NOW - dt.timedelta(days=10), i) for i in range(3)])
        old_token, row = auth.new_token("auditor", days=30, now=NOW - 4 * years, holder="Old")
        conn.execute(tables.api_tokens.insert().values(**row))
        _, keep = auth.create_token(conn, "auditor", holder="Current")
        conn.execute(tables.web_sessions.insert().values(
            id="a" * 64, token_id=keep, started_at=NOW - dt.timedelta(days=40),
            seen_at=NOW - dt.timedelta(days=40)))  # fmt: skip
    engine.dispose()
    for day in ("2022-02-28", "2026-10-31"):
        (settings.snapshots_dir / day).mkdir(parents=True)
        (settings.snapshots_dir / day / "features.parquet").write_bytes(b"x")
    return settings


def _count(conn, table, *where) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()


def test_a_purge_enforces_the_periods_and_keeps_the_chain_verifiable(workspace) -> None:
    dry = purge(workspace, now=NOW, dry_run=True)
    assert dry.dry_run and dry.removed["audit_log"] == 5 and dry.removed["score_runs"] == 1
    assert (workspace.snapshots_dir / "2022-02-28").is_dir()  # a dry run changes nothing
    report = purge(workspace, now=NOW)
    assert report.removed == {"eligibility": 0, "list_entries": 0, "scores": 1, "score_runs": 1,
                              "visit_outcomes": 1, "corrections": 0, "web_sessions": 1,
                              "api_tokens": 1, "audit_log": 5,
                              "raw_delivery_files": 0, "review_files": 0,
                              "subject_report_files": 0}  # fmt: skip
    assert report.snapshots == ["2022-02-28"] and report.unreplayable_runs == 1
    assert not (workspace.snapshots_dir / "2022-02-28").exists()
    assert (workspace.snapshots_dir / "2026-10-31").is_dir()
    engine = db.make_engine(workspace.service_db_url)
    with engine.connect() as conn:
        runs = {r.run_id: r for r in conn.execute(sa.select(tables.score_runs))}
        assert set(runs) == {"old_named", "recent"}
        assert runs["old_named"].unreplayable_reason == UNREPLAYABLE
        assert runs["recent"].unreplayable_since is None
        assert _count(conn, tables.visit_outcomes) == 1
        assert _count(conn, tables.api_tokens) == 1
        verdict = chain.verify(conn)
        assert verdict.ok, verdict.line()
        assert verdict.rows == 4  # 3 kept and the checkpoint
        (checkpoint,) = conn.execute(sa.select(tables.audit_log).where(
            tables.audit_log.c.action == "purge")).mappings().all()  # fmt: skip
        assert checkpoint["detail"]["removed"]["audit_log"] == 5
        assert checkpoint["detail"]["audit_base_id"] == 5
        assert checkpoint["detail"]["periods"]["audit_years"] == 3
        assert chain.triggers_present(conn) >= (
            chain.PG_TRIGGERS if conn.dialect.name == "postgresql" else chain.SQLITE_TRIGGERS
        )
    with engine.begin() as conn, pytest.raises(sa.exc.DBAPIError):  # the triggers are back
        conn.execute(tables.audit_log.delete())
    engine.dispose()
    again = purge(workspace, now=NOW)  # nothing left to remove; one more checkpoint
    assert sum(again.removed.values()) == 0 and again.audit_base_id == 5


def _personal_file(folder, prefix: str, suffix: str, age: dt.timedelta):
    return write_owner_only(folder, prefix, suffix, "张伟,1980-01-02".encode(), NOW - age)


def test_review_files_and_subject_reports_go_after_their_period(workspace) -> None:
    days = dt.timedelta(days=1)
    review, subject = review_dir(workspace), subject_dir(workspace)
    old = [_personal_file(review, "link-review", ".csv", 31 * days),
           _personal_file(review, "link-review", ".xlsx", 45 * days),
           _personal_file(subject, "subject-report", ".json", 31 * days)]  # fmt: skip
    new = [_personal_file(review, "link-review", ".csv", 29 * days),
           _personal_file(subject, "subject-report", ".json", 1 * days)]  # fmt: skip
    dry = purge(workspace, now=NOW, dry_run=True)
    assert (dry.removed["review_files"], dry.removed["subject_report_files"]) == (2, 1)
    assert all(p.exists() for p in old + new)  # a dry run counts only
    assert any("2 review_files, 1 subject_report_files" in line for line in dry.lines())
    report = purge(workspace, now=NOW)
    assert (report.removed["review_files"], report.removed["subject_report_files"]) == (2, 1)
    assert not any(p.exists() for p in old) and all(p.exists() for p in new)
    engine = db.make_engine(workspace.service_db_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(tables.audit_log.c.detail).where(
            tables.audit_log.c.action == "purge")).scalars().all()  # fmt: skip
    engine.dispose()
    (detail,) = rows  # the dry run left no row
    assert detail["removed"]["review_files"] == 2 and detail["removed"]["subject_report_files"] == 1
    assert detail["periods"]["personal_files_days"] == 30
    later = workspace.model_copy(
        update={"retention": workspace.retention.model_copy(update={"personal_files_days": 1})}
    )
    assert purge(later, now=NOW).removed["review_files"] == 1  # the 29-day-old one, now past


def test_an_edit_after_a_purge_is_still_found(workspace) -> None:
    purge(workspace, now=NOW)
    engine = db.make_engine(workspace.service_db_url)
    with engine.begin() as conn:
        kept = conn.execute(sa.select(sa.func.min(tables.audit_log.c.id))).scalar_one()
        pg = conn.dialect.name == "postgresql"
        if pg:
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
        conn.execute(tables.audit_log.update().where(tables.audit_log.c.id == kept)
                     .values(actor="someone else"))  # fmt: skip
    with engine.connect() as conn:
        verdict = chain.verify(conn)
    engine.dispose()
    assert not verdict.ok and verdict.broken_id == kept or "trigger" in (verdict.problem or "")


def test_the_purge_command_prints_one_line_per_fact(workspace) -> None:
    from typer.testing import CliRunner

    from outreach.cli import app

    r = CliRunner().invoke(app, ["purge", "--dry-run", "--workspace", str(workspace.workspace)],
                           env={"OUTREACH_DB_URL": workspace.service_db_url})  # fmt: skip
    assert r.exit_code == 0, r.output
    assert r.output.startswith("would remove:") and "audit chain base" in r.output
