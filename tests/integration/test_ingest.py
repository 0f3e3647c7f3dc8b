"""`outreach ingest`: validation, quarantine, reconciliation, idempotence and bad input.

Bad deliveries are made from real fixture deliveries (a few rows each), broken one way at a time.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core import idnumber
from core.settings import load_settings
from features import warehouse
from features.ingest import REASONS, IngestOptions, ingest, stage, summarize
from features.pseudonym import Pseudonymizer
from outreach.cli import main

pytestmark = pytest.mark.integration

KEYS = Pseudonymizer(b"k" * 32)


def _sample(fixture_world: Path, agency: str, month: str = "2023-03", n: int = 12) -> pa.Table:
    return pq.read_table(fixture_world / "agencies" / agency / f"{month}.parquet").slice(0, n)


def _raw(tmp_path: Path, files: dict[str, object]) -> Path:
    """A raw folder with the given files: 'agency/name' -> pa.Table | bytes | pd.DataFrame."""
    raw = tmp_path / "raw"
    for rel, content in files.items():
        path = raw / "agencies" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, pa.Table):
            pq.write_table(content, path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            raise TypeError(type(content))
    return raw


def _run(raw: Path, db: Path | None = None, encoding: str = "auto"):
    con = warehouse.connect(db) if db else duckdb.connect()
    if not db:
        warehouse.create_schema(con)
    results = ingest(con, raw, KEYS, encoding)
    return con, {f"{r.agency}/{r.file_name}": r for r in results}


def _reconciles(con, r) -> None:
    """The counts in the result agree with the rows in the warehouse."""
    assert r.reconciles
    table = warehouse.record_table(r.agency)
    accepted = con.execute(
        f"SELECT count(*) FROM {table} WHERE delivery_id = ?", [r.delivery_id]
    ).fetchall()[0][0]
    quarantined = con.execute(
        "SELECT count(*) FROM quarantine WHERE agency = ? AND file_name = ?",
        [r.agency, r.file_name],
    ).fetchall()[0][0]
    assert (accepted, quarantined) == (r.rows_accepted, r.rows_quarantined)
    assert r.rows_received == accepted + quarantined


# ------------------------------------------------------------------------- the fixture county
@pytest.fixture(scope="module")
def ingested(fixture_world, tmp_path_factory):
    db = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    con, results = _run(fixture_world, db)
    yield con, results, db
    con.close()


def test_every_fixture_delivery_reconciles(ingested, fixture_world):
    con, results, _ = ingested
    manifest = json.loads((fixture_world / "manifest.json").read_text())
    assert all(r.status == "accepted" for r in results.values())
    for r in results.values():
        _reconciles(con, r)
    # accepted rows per agency: every record the simulator made, less quarantined originals
    for agency, n in manifest["counts"]["records_by_agency"].items():
        got = con.execute(f"SELECT count(*) FROM {warehouse.record_table(agency)}").fetchall()
        impossible = con.execute(
            "SELECT count(*) FROM quarantine WHERE agency = ? AND reason != 'duplicate_record'",
            [agency],
        ).fetchall()
        assert got[0][0] + impossible[0][0] == n, agency
    # the simulator's exact duplicates are all quarantined as duplicates
    dup = con.execute("SELECT count(*) FROM quarantine WHERE reason = 'duplicate_record'")
    truth_dups = sum(
        pq.read_table(f, columns=["duplicated"]).column(0).to_numpy().sum()
        for f in (fixture_world / "truth" / "records").rglob("*.parquet")
    )
    assert dup.fetchall()[0][0] == truth_dups > 0


def test_ingesting_again_changes_nothing(ingested, fixture_world):
    con, _, _ = ingested
    before = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
        for t in ("person_records", "quarantine", "deliveries", "rec_medical_claims")
    }
    again = ingest(con, fixture_world, KEYS)
    assert {r.status for r in again} == {"unchanged"}
    after = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in before}
    assert after == before


def test_no_id_number_stored_for_usable_ids(ingested):
    con, _, _ = ingested
    rows = con.execute(
        "SELECT id_status, count(*), count(person_key), count(id_invalid) FROM person_records "
        "GROUP BY ALL"
    ).fetchall()
    stats = {s: (n, k, i) for s, n, k, i in rows}
    for status in ("valid", "legacy_converted"):
        n, k, i = stats[status]
        assert k == n and i == 0
    n, k, i = stats["bad_check"]
    assert k == 0 and i == n > 0
    assert stats["missing"][1:] == (0, 0)
    # keys are pseudonyms: no 18-character ID anywhere in the key column
    assert (
        con.execute(
            "SELECT count(*) FROM person_records WHERE regexp_matches(person_key, '^[0-9]{17}')"
        ).fetchall()[0][0]
        == 0
    )


# ------------------------------------------------------------------------------ bad deliveries
def test_truncated_parquet_is_rejected_and_the_rest_load(fixture_world, tmp_path):
    good = _sample(fixture_world, "visits")
    sink = pa.BufferOutputStream()
    pq.write_table(good, sink)
    data = sink.getvalue().to_pybytes()
    other = _sample(fixture_world, "visits", "2023-04")
    raw = _raw(tmp_path, {"visits/2023-03.parquet": data[: len(data) // 2],
                          "visits/2023-04.parquet": other})  # fmt: skip
    con, res = _run(raw)
    bad, ok = res["visits/2023-03.parquet"], res["visits/2023-04.parquet"]
    assert bad.status == "rejected"
    assert bad.reason.startswith("visits/2023-03.parquet: not a readable Parquet file")
    assert "\n" not in bad.reason
    assert ok.status == "accepted" and ok.rows_accepted == ok.rows_received > 0


def test_empty_file_is_rejected(tmp_path):
    con, res = _run(_raw(tmp_path, {"visits/2023-03.parquet": b""}))
    assert res["visits/2023-03.parquet"].reason == "visits/2023-03.parquet: empty file"


def test_missing_required_column_is_rejected(fixture_world, tmp_path):
    t = _sample(fixture_world, "medical_claims").drop_columns(["out_of_pocket"])
    con, res = _run(_raw(tmp_path, {"medical_claims/2023-03.parquet": t}))
    r = res["medical_claims/2023-03.parquet"]
    assert r.status == "rejected"
    assert r.reason == "medical_claims/2023-03.parquet: missing required column out_of_pocket"
    assert con.execute("SELECT count(*) FROM rec_medical_claims").fetchall()[0][0] == 0


def test_wrong_column_types_quarantine_only_the_bad_values(fixture_world, tmp_path):
    t = _sample(fixture_world, "medical_claims")
    cost = [str(v) for v in t.column("total_cost").to_pylist()]
    cost[2], cost[5] = "lots", "12,0"
    t = t.set_column(t.schema.get_field_index("total_cost"), "total_cost", pa.array(cost))
    con, res = _run(_raw(tmp_path, {"medical_claims/2023-03.parquet": t}))
    r = res["medical_claims/2023-03.parquet"]
    assert r.status == "accepted"
    assert r.by_reason == {"bad_type": 2}
    _reconciles(con, r)
    rows = con.execute("SELECT row_no, reason, detail FROM quarantine ORDER BY row_no").fetchall()
    assert rows == [(3, "bad_type", "total_cost"), (6, "bad_type", "total_cost")]
    # the numbers written as text were read as numbers
    got = con.execute("SELECT sum(total_cost) FROM rec_medical_claims").fetchall()[0][0]
    expect = sum(float(c) for i, c in enumerate(cost) if i not in (2, 5))
    assert got == pytest.approx(expect)


def test_dates_after_the_extract_date_are_quarantined(fixture_world, tmp_path):
    df = _sample(fixture_world, "hr_unemployment").to_pandas()
    df.loc[1, "recorded_date"] = pd.Timestamp("2023-04-02").date()
    df.loc[1, "event_date"] = pd.Timestamp("2023-04-01").date()
    df.loc[4, "event_date"] = pd.Timestamp("2023-05-01").date()
    t = pa.Table.from_pandas(df, preserve_index=False)
    con, res = _run(_raw(tmp_path, {"hr_unemployment/2023-03.parquet": t}))
    r = res["hr_unemployment/2023-03.parquet"]
    assert r.by_reason == {"after_extract": 1, "impossible_date": 1}
    _reconciles(con, r)


def test_ids_with_bad_check_characters_are_kept_but_never_keys(fixture_world, tmp_path):
    df = _sample(fixture_world, "civil_registry", "2023-01").to_pandas()
    good = df.loc[0, "id_number"]
    assert idnumber.is_valid(good)
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    df.loc[0, "id_number"] = wrong
    df.loc[1, "id_number"] = "12345"
    con, res = _run(
        _raw(
            tmp_path,
            {"civil_registry/2023-01.parquet": pa.Table.from_pandas(df, preserve_index=False)},
        )
    )
    r = res["civil_registry/2023-01.parquet"]
    assert r.rows_quarantined == 0 and r.id_status["bad_check"] >= 1
    row = con.execute(
        "SELECT id_status, person_key, id_invalid FROM person_records WHERE record_id = ?",
        [df.loc[0, "record_id"]],
    ).fetchall()[0]
    assert row == ("bad_check", None, wrong)
    assert (
        con.execute(
            "SELECT id_status FROM person_records WHERE record_id = ?", [df.loc[1, "record_id"]]
        ).fetchall()[0][0]
        == "malformed"
    )


def _csv_bytes(table: pa.Table, encoding: str) -> bytes:
    return table.to_pandas().to_csv(index=False).encode(encoding)


def test_gbk_csv(fixture_world, tmp_path):
    t = _sample(fixture_world, "visits")
    data = _csv_bytes(t, "gbk")
    raw = _raw(tmp_path / "a", {"visits/2023-03.csv": data})
    con, res = _run(raw, encoding="utf-8")  # declared wrongly
    r = res["visits/2023-03.csv"]
    assert r.status == "rejected"
    assert r.reason.startswith("visits/2023-03.csv: not valid UTF-8")
    assert "--encoding gbk" in r.reason
    con, res = _run(raw)  # detected
    assert res["visits/2023-03.csv"].rows_accepted == len(t) > 0
    con, res = _run(raw, encoding="gbk")  # declared rightly
    assert res["visits/2023-03.csv"].rows_accepted == len(t)
    names = sorted(n for (n,) in con.execute("SELECT name FROM person_records").fetchall())
    assert names == sorted(t.column("name").to_pylist())


def test_csv_and_parquet_load_the_same_rows(fixture_world, tmp_path):
    t = _sample(fixture_world, "education", n=30)
    _, a = _run(_raw(tmp_path / "p", {"education/2023-03.parquet": t}))
    _, b = _run(_raw(tmp_path / "c", {"education/2023-03.csv": _csv_bytes(t, "utf-8-sig")}))
    ra, rb = a["education/2023-03.parquet"], b["education/2023-03.csv"]
    assert (ra.rows_accepted, ra.by_reason) == (rb.rows_accepted, rb.by_reason)


def test_delivery_changed_after_ingest_is_rejected(fixture_world, tmp_path):
    t = _sample(fixture_world, "visits")
    raw = _raw(tmp_path, {"visits/2023-03.parquet": t})
    db = tmp_path / "w.duckdb"
    con, res = _run(raw, db)
    assert res["visits/2023-03.parquet"].status == "accepted"
    con.close()
    pq.write_table(t.slice(0, 2), raw / "agencies" / "visits" / "2023-03.parquet")
    con, res = _run(raw, db)
    r = res["visits/2023-03.parquet"]
    assert r.status == "rejected" and "already ingested with different content" in r.reason
    assert con.execute("SELECT count(*) FROM rec_visits").fetchall()[0][0] == len(t)


def test_repeated_keys_duplicate_or_conflict(fixture_world, tmp_path):
    t = _sample(fixture_world, "visits", "2024-07", n=6)
    assert len(t) == 6
    df = t.to_pandas()
    dup = df.iloc[[1]]
    conflict = df.iloc[[2]].copy()
    conflict["outcome"] = "in_need" if conflict["outcome"].iloc[0] != "in_need" else "not_found"
    df = pd.concat([df, dup, conflict], ignore_index=True)
    con, res = _run(
        _raw(tmp_path, {"visits/2024-07.parquet": pa.Table.from_pandas(df, preserve_index=False)})
    )
    r = res["visits/2024-07.parquet"]
    assert r.by_reason == {"conflicting_record": 1, "duplicate_record": 1}
    assert r.rows_accepted == 6
    _reconciles(con, r)
    # the same record again in a later delivery is a duplicate too
    later = t.slice(0, 2).to_pandas()
    later["delivery_id"] = "visits-2024-09"
    later["extract_date"] = pd.Timestamp("2024-09-30").date()
    raw2 = _raw(
        tmp_path / "b",
        {"visits/2024-09.parquet": pa.Table.from_pandas(later, preserve_index=False)},
    )
    r2 = ingest(con, raw2, KEYS)[0]
    assert r2.by_reason == {"duplicate_record": 2} and r2.rows_accepted == 0


def test_bad_file_names_and_unknown_agencies(fixture_world, tmp_path):
    t = _sample(fixture_world, "visits")
    con, res = _run(_raw(tmp_path, {"visits/march.parquet": t, "police/2023-03.parquet": t}))
    assert res["visits/march.parquet"].reason.endswith("must be YYYY-MM.parquet or YYYY-MM.csv")
    assert res["police/2023-03.parquet"].reason == "police/2023-03.parquet: unknown agency 'police'"


def test_other_row_problems(fixture_world, tmp_path):
    df = _sample(fixture_world, "civil_assistance").to_pandas()
    df.loc[0, "program"] = "lottery"
    df.loc[1, "household_size"] = 0
    df.loc[2, "village_code"] = "33022610"
    df.loc[3, "name"] = None
    df.loc[4, "delivery_id"] = "civil_assistance-2023-02"
    df.loc[5, "birth_date"] = pd.Timestamp("1850-01-01").date()
    t = pa.Table.from_pandas(df, preserve_index=False)
    con, res = _run(_raw(tmp_path, {"civil_assistance/2023-03.parquet": t}))
    r = res["civil_assistance/2023-03.parquet"]
    assert r.by_reason == {
        "bad_code": 1, "impossible_date": 1, "missing_value": 1, "not_allowed": 1,
        "out_of_range": 1, "wrong_delivery": 1,
    }  # fmt: skip
    _reconciles(con, r)
    assert set(r.by_reason) <= set(REASONS)


# ---------------------------------------------------------------------------------- the CLI
def test_cli_reports_rejections_in_one_line_each_and_fails(fixture_world, tmp_path, capsys):
    raw = tmp_path / "raw"
    shutil.copytree(fixture_world / "agencies" / "visits", raw / "agencies" / "visits")
    (raw / "agencies" / "visits" / "2023-05.parquet").write_bytes(b"PAR1 broken")
    code = main(["ingest", "--raw", str(raw), "--workspace", str(tmp_path / "ws")])
    out, err = capsys.readouterr()
    assert code == 2
    lines = err.strip().splitlines()
    assert lines[0].startswith("rejected: visits/2023-05.parquet: not a readable Parquet file")
    assert lines[-1] == "error: 1 deliveries rejected (see above)"
    assert "Traceback" not in out + err
    report = json.loads(
        (tmp_path / "ws" / "data" / "reports" / "ingest" / "latest.json").read_text()
    )
    assert report["reconciles"] is True
    assert report["by_agency"]["visits"]["rejected"] == 1
    assert report["by_agency"]["visits"]["accepted"] == 23


def test_cli_bad_flags(tmp_path, capsys):
    code = main(["ingest", "--raw", str(tmp_path / "nowhere"), "--workspace", str(tmp_path)])
    _, err = capsys.readouterr()
    assert (
        code == 2
        and err.strip() == f"error: {tmp_path / 'nowhere'} has no agencies/ folder of deliveries"
    )
    (tmp_path / "r" / "agencies").mkdir(parents=True)
    code = main(
        [
            "ingest",
            "--raw",
            str(tmp_path / "r"),
            "--encoding",
            "latin1",
            "--workspace",
            str(tmp_path),
        ]
    )
    _, err = capsys.readouterr()
    assert code == 2 and err.startswith("error: --encoding must be one of")


def test_quarantine_examples_are_masked(fixture_world, tmp_path):
    df = _sample(fixture_world, "civil_assistance").to_pandas()
    df.loc[0, "program"] = "lottery"
    t = pa.Table.from_pandas(df, preserve_index=False)
    con, res = _run(_raw(tmp_path, {"civil_assistance/2023-03.parquet": t}))
    report = json.dumps(summarize(list(res.values())), ensure_ascii=False)
    ex = res["civil_assistance/2023-03.parquet"].examples
    assert ex and ex[0]["reason"] == "not_allowed" and ex[0]["value"] == "lottery"
    for value in df["id_number"].dropna():
        assert value not in report
    for value in df["name"]:
        assert value not in report
    # the quarantine itself keeps the evidence
    raw_json = con.execute("SELECT raw_json FROM quarantine").fetchall()[0][0]
    assert json.loads(raw_json)["program"] == "lottery"


def test_a_second_source_of_the_same_month(fixture_world, tmp_path):
    """``<YYYY-MM>-<source>`` is a delivery of its own (id ``<agency>-<YYYY-MM>-<source>``)."""
    t = _sample(fixture_world, "visits", n=4)
    own = t.to_pandas()
    own["delivery_id"] = "visits-2023-03-outreach"
    own["record_id"] = [f"OUT{i:010d}" for i in range(len(own))]
    own = pa.Table.from_pandas(own, preserve_index=False)
    files = {
        "visits/2023-03.parquet": t,
        "visits/2023-03-outreach.parquet": own,
        "visits/2023-03-Outreach.parquet": own,
        "visits/2023-03-.parquet": own,
    }
    con, res = _run(_raw(tmp_path, files))
    assert res["visits/2023-03.parquet"].delivery_id == "visits-2023-03"
    r = res["visits/2023-03-outreach.parquet"]
    assert (r.status, r.delivery_id, r.rows_accepted, r.rows_quarantined) == (
        "accepted", "visits-2023-03-outreach", 4, 0
    )  # fmt: skip
    _reconciles(con, r)
    for bad in ("visits/2023-03-Outreach.parquet", "visits/2023-03-.parquet"):
        assert res[bad].status == "rejected" and "file name must be" in res[bad].reason


def test_the_stage_takes_its_key_from_the_settings(fixture_world, tmp_path, monkeypatch):
    """``run`` uses the settings' HMAC key, never the process environment, and reports data."""
    raw = _raw(tmp_path, {"visits/2023-03.parquet": _sample(fixture_world, "visits", n=5)})
    monkeypatch.setenv("OUTREACH_HMAC_KEY", "e" * 40)  # must not be read by the stage
    key = "s" * 40
    settings = load_settings(tmp_path / "ws", environ={"OUTREACH_HMAC_KEY": key})
    report = stage.run(settings, IngestOptions(raw=raw))
    assert report.failure is None and report.as_dict()["by_agency"]["visits"]["accepted"] == 1
    assert list(report.as_dict()) == list(summarize([]))
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        fingerprint = con.execute("SELECT value FROM meta WHERE key = 'hmac_fingerprint'")
        assert fingerprint.fetchall()[0][0] == Pseudonymizer(key.encode()).fingerprint
    assert not settings.secret_path.exists()
