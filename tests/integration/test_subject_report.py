"""A person's access request (issue 18, item 7): ``outreach subject-report`` reads the ID number
at a prompt, hashes it in process and writes, owner-only, what the system holds about the
person and their household: records, scores and reasons, eligibility traces, corrections, and
every audit row of the household; it audits that it did."""

from __future__ import annotations

import json
import stat

import duckdb
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from core.idnumber import mask_id
from serving.runtime import auth
from serving.store import chain, db, tables

pytestmark = pytest.mark.integration
OUTSIDE = "11010519491231" + "002X"  # a valid ID number of nobody in the fixture county


def _listed_person(settings, world) -> tuple[str, str]:
    """``(ID number, household)`` of a person in a household with a stored explanation."""
    engine = db.make_engine(settings.service_db_url)
    with engine.connect() as conn:
        s = tables.scores.c
        listed = set(conn.execute(sa.select(s.household_id).where(s.reasons.is_not(None)))
                     .scalars())  # fmt: skip
    engine.dispose()
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        found = con.execute("""
            SELECT m.household_id, r.agency, r.record_id FROM memberships m
            JOIN links l ON l.person_id = m.person_id
            JOIN person_records r ON r.agency = l.agency AND r.record_id = l.record_id
            WHERE r.id_status = 'valid' ORDER BY m.household_id, r.record_id""").fetchall()
    finally:
        con.close()
    for household, agency, record_id in found:
        if household not in listed:
            continue
        raw = duckdb.sql(
            f"SELECT id_number FROM read_parquet('{world / 'agencies' / agency}/*.parquet', "
            "union_by_name=true) "
            "WHERE record_id = ?", params=[record_id]).fetchall()  # fmt: skip
        if raw and raw[0][0]:
            return raw[0][0], household
    raise AssertionError("the fixture county has no listed person with a valid ID")


def _token(settings, role: str, holder: str) -> str:
    engine = db.make_engine(settings.service_db_url)
    with engine.begin() as conn:
        _, token_id = auth.create_token(conn, role, None if role != "caseworker" else "330226001",
                                        holder=holder)  # fmt: skip
    engine.dispose()
    return token_id


def _run(settings, token_id: str, typed: str):
    from outreach.cli import app

    args = ["subject-report", "--requested-by", token_id, "--workspace", str(settings.workspace)]
    return CliRunner().invoke(app, args, input=typed + "\n")


def test_a_subject_report_holds_the_household_and_is_audited(service_settings, fixture_world):
    id_number, household = _listed_person(service_settings, fixture_world)
    auditor = _token(service_settings, "auditor", "County audit office")
    # a read of the household, so the report has one to show
    engine = db.make_engine(service_settings.service_db_url)
    with engine.begin() as conn:
        db.append_audit(conn, [db.AuditEvent(actor=auditor, role="auditor", action="read",
                                             resource="household", purpose="audit",
                                             household_id=household)])  # fmt: skip
    engine.dispose()
    r = _run(service_settings, auditor, id_number)
    assert r.exit_code == 0, r.output
    assert id_number not in r.output  # the prompt does not echo it
    path = next((service_settings.reports_dir / "subject").glob("subject-report-*.json"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text("utf-8")
    assert id_number not in text and id_number[:17] not in text
    report = json.loads(text)
    assert report["found"] and report["request"]["id_number"] == mask_id(id_number)
    assert report["request"]["holder"] == "County audit office"
    assert report["person"]["records"] and all(rec["name"] for rec in report["person"]["records"])
    homes = {h["household_ref"]: h for h in report["households"]}
    assert household in homes
    home = homes[household]
    assert home["scores"] and any(sc["reasons"] for sc in home["scores"])
    assert "trace" in (home["eligibility"] or [{"trace": None}])[0]
    reads = [a for a in home["audit_log"] if a["resource"] == "household"]
    assert reads and reads[0]["holder"] == "County audit office"
    assert "row_hash" not in home["audit_log"][0]
    engine = db.make_engine(service_settings.service_db_url)
    with engine.connect() as conn:
        a = tables.audit_log.c
        rows = conn.execute(sa.select(tables.audit_log).where(a.resource == "subject_report")
                            ).mappings().all()  # fmt: skip
        assert chain.verify(conn).ok
    engine.dispose()
    assert {row["household_id"] for row in rows} == set(homes)
    assert all(row["actor"] == auditor and row["detail"]["file"] == path.name for row in rows)
    assert all(id_number not in json.dumps(dict(row), default=str) for row in rows)


def test_bad_requests_are_one_line_and_write_nothing(service_settings) -> None:
    auditor = _token(service_settings, "auditor", "County audit office")
    caseworker = _token(service_settings, "caseworker", "Zhou Min")
    before = set((service_settings.reports_dir / "subject").glob("*"))
    bad_check = "11010519491231002" + "0"  # an 18-character number with a wrong check character
    r = _run(service_settings, auditor, bad_check)
    assert r.exit_code != 0 and bad_check not in (r.output + str(r.exception))
    r = _run(service_settings, caseworker, OUTSIDE)
    assert r.exit_code != 0 and "supervisor or an auditor" in str(r.exception)
    r = _run(service_settings, "0000000000", OUTSIDE)
    assert r.exit_code != 0 and "no active token" in str(r.exception)
    assert set((service_settings.reports_dir / "subject").glob("*")) == before


def test_a_person_the_system_does_not_hold_gets_an_empty_report(service_settings) -> None:
    auditor = _token(service_settings, "auditor", "County audit office")
    r = _run(service_settings, auditor, OUTSIDE)
    assert r.exit_code == 0, r.output
    assert "0 records, 0 households" in r.output
    newest = max((service_settings.reports_dir / "subject").glob("*.json"),
                 key=lambda p: p.stat().st_mtime_ns)  # fmt: skip
    report = json.loads(newest.read_text("utf-8"))
    assert report["found"] is False and report["households"] == []


def test_a_changed_hmac_key_is_refused_in_one_line(service_settings, tmp_path) -> None:
    from core.settings import load_settings
    from serving.privacy.subject_report import person_key

    other = load_settings(service_settings.workspace, environ={"OUTREACH_HMAC_KEY": "k" * 64})
    with pytest.raises(Exception, match="not the one the warehouse was built with"):
        person_key(other, OUTSIDE)
