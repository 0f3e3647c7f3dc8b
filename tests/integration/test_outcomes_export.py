"""`outreach outcomes export`: recorded visit outcomes back through ingest and link.

Outcomes are written into a fresh service database beside a copy of the fixture workspace
(ingested and linked), exported, ingested and linked again; they must land in the warehouse as
visits records linked to the visited household's head, and a second export changes nothing.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from core.settings import load_settings
from features import warehouse
from features.linkage.households import membership_as_of
from outreach import cli
from serving.feedback.export import delivery_path, export_outcomes, record_id
from serving.store import db
from serving.store.tables import visit_outcomes

pytestmark = pytest.mark.integration

VISIT = date(2024, 6, 10)
UNKNOWN = "H" + "0" * 24


@pytest.fixture
def with_outcomes(monkeypatch):
    """The workspace's own SQLite service database, whatever the environment says."""
    monkeypatch.delenv("OUTREACH_DB_URL", raising=False)


@pytest.fixture
def workspace(fixture_workspace, tmp_path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(fixture_workspace, ws)
    return ws


def _heads(ws: Path, day: date, n: int) -> list[tuple[str, str]]:
    """(household, head person) of ``n`` households on ``day``."""
    with warehouse.connect(ws / "data" / "warehouse.duckdb", read_only=True) as con:
        table = membership_as_of(con, day, suffix="t")
        return con.execute(
            f"SELECT household_id, person_id FROM {table} WHERE relation = 'head' "
            f"ORDER BY household_id LIMIT {n}"
        ).fetchall()


def _record(url: str, rows: list[dict]) -> list[int]:
    db.upgrade(url)
    engine = db.make_engine(url)
    base = {"programs_started": [], "note": "private note", "recorded_by": "tok1"}
    with engine.begin() as conn:
        ids = [
            conn.execute(visit_outcomes.insert().values(**base, **row)).inserted_primary_key[0]
            for row in rows
        ]
    engine.dispose()
    return ids


def _at(day: int, hour: int = 3, month: int = 6) -> datetime:
    return datetime(2024, month, day, hour, tzinfo=UTC)


def _outcomes(heads: list[tuple[str, str]]) -> list[dict]:
    (h1, _), (h2, _), (h3, _) = heads
    run = {"run_id": "run-a", "model_version": "3"}
    return [
        {"household_id": h1, "visit_date": VISIT, "outcome": "in_need", "recorded_at": _at(11)}
        | run,
        {"household_id": h2, "visit_date": VISIT, "outcome": "not_in_need", "recorded_at": _at(12)}
        | run,
        {"household_id": h3, "visit_date": VISIT, "outcome": "not_found", "recorded_at": _at(12)}
        | run,
        {"household_id": h1, "visit_date": VISIT, "outcome": "visited", "recorded_at": _at(13)}
        | run,
        {"household_id": h2, "visit_date": VISIT, "outcome": "in_need", "recorded_at": _at(14)},
        {"household_id": UNKNOWN, "visit_date": VISIT, "outcome": "in_need", "recorded_at": _at(14)}
        | run,
        # 30 June 20:00 UTC is 1 July 04:00 in the county: recorded in July
        {"household_id": h3, "visit_date": VISIT, "outcome": "in_need", "recorded_at": _at(30, 20)}
        | run,
        # a visit dated after its recording: ingest would quarantine it
        {
            "household_id": h3,
            "visit_date": date(2024, 6, 20),
            "outcome": "in_need",
            "recorded_at": _at(15),
        }
        | run,
    ]


def test_export_ingest_link_round_trip(workspace, fixture_world, with_outcomes, capsys):
    settings = load_settings(workspace, environ={})
    heads = _heads(workspace, VISIT, 3)
    ids = _record(settings.service_db_url, _outcomes(heads))

    capsys.readouterr()
    args = ["outcomes", "export", "--month", "2024-06", "--workspace", str(workspace)]
    assert cli.main(args) == 0
    out, err = capsys.readouterr()
    assert "not exported: 4 outcomes" in err
    report = (settings.reports_dir / "outcomes-export" / "latest.json").read_text("utf-8")
    path = delivery_path(settings.raw_dir, "2024-06")
    assert path.name == "2024-06-outreach.parquet"
    table = pq.read_table(path)
    frame = table.to_pandas()
    assert frame["record_id"].tolist() == [record_id(i) for i in ids[:3]]
    assert frame["id_number"].isna().all()
    assert set(frame["delivery_id"]) == {"visits-2024-06-outreach"}
    assert set(frame["trigger"]) == {"outreach_list"}
    assert frame["outcome"].tolist() == ["in_need", "not_in_need", "not_found"]
    assert (frame["extract_date"] == date(2024, 6, 30)).all()
    assert frame["name"].notna().all() and frame["village_code"].str.fullmatch(r"\d{12}").all()
    assert "note" not in table.column_names
    # no personal data in what the command prints or reports; no ID number in the file
    truth = pq.read_table(fixture_world / "truth" / "persons.parquet").to_pandas()
    id_numbers = set(truth["id_number"].dropna())
    for text in (out, err, report):
        assert not any(n in text for n in frame["name"]) and "private note" not in text
    cells = {v for col in table.column_names for v in table.column(col).to_pylist()}
    assert not cells & id_numbers
    first_bytes = path.read_bytes()

    assert cli.main(["ingest", "--workspace", str(workspace)]) == 0
    assert cli.main(["link", "--workspace", str(workspace)]) == 0
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        delivery = con.execute(
            "SELECT status, rows_received, rows_accepted, rows_quarantined FROM deliveries "
            "WHERE delivery_id = 'visits-2024-06-outreach'"
        ).fetchall()
        assert delivery == [("accepted", 3, 3, 0)]
        members = membership_as_of(con, VISIT, suffix="v")
        linked = con.execute(
            f"""SELECT r.record_id, l.method, m.household_id, m.relation
                FROM rec_visits r JOIN links l ON l.agency = 'visits' AND l.record_id = r.record_id
                LEFT JOIN {members} m ON m.person_id = l.person_id
                WHERE r.delivery_id = 'visits-2024-06-outreach' ORDER BY r.record_id"""
        ).fetchall()
        n_visits = con.execute("SELECT count(*) FROM rec_visits").fetchall()[0][0]
        entries = con.execute(
            "SELECT delivery_id LIKE '%-outreach', list_run_id, list_rank, list_exploration, "
            "list_selection_probability, count(*) FROM rec_visits GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    # the optional list-entry columns are kept; the simulator's own deliveries leave them null
    assert [e[:5] for e in entries] == [
        (False, None, None, None, None),
        (True, "run-a", None, None, None),
    ]
    assert entries[1][5] == 3
    # linked without an ID number to the head of the visited household
    assert linked == [
        (record_id(i), "probabilistic", h, "head") for i, (h, _) in zip(ids[:3], heads, strict=True)
    ]

    # the same month again: the same file, and ingest adds nothing
    result = export_outcomes(settings, "2024-06")
    assert [d.status for d in result.deliveries] == ["unchanged"]
    assert path.read_bytes() == first_bytes
    assert cli.main(["ingest", "--workspace", str(workspace)]) == 0
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM rec_visits").fetchall()[0][0] == n_visits


def test_left_out_outcomes_have_reasons(workspace):
    settings = load_settings(workspace, environ={})
    ids = _record(settings.service_db_url, _outcomes(_heads(workspace, VISIT, 3)))
    result = export_outcomes(settings, None, today=date(2024, 8, 1))
    assert [(d.month, d.rows, d.status) for d in result.deliveries] == [
        ("2024-06", 3, "written"),
        ("2024-07", 1, "written"),
    ]
    left = {(u.outcome_id, u.reason) for u in result.unexported}
    assert left == {
        (ids[3], "no_finding"),
        (ids[4], "not_listed"),
        (ids[5], "no_household"),
        (ids[7], "contract"),
    }
    assert [u.detail for u in result.unexported if u.reason == "contract"] == [
        "impossible_date (event_date)"
    ]
    july = pq.read_table(delivery_path(settings.raw_dir, "2024-07")).to_pandas()
    assert july["recorded_date"].tolist() == [date(2024, 7, 1)]
    assert result.as_dict()["unexported_by_reason"] == {
        "contract": 1,
        "no_finding": 1,
        "no_household": 1,
        "not_listed": 1,
    }


def test_changed_outcomes_never_rewrite_a_delivery(workspace):
    settings = load_settings(workspace, environ={})
    _record(settings.service_db_url, _outcomes(_heads(workspace, VISIT, 3)))
    export_outcomes(settings, "2024-06")
    engine = db.make_engine(settings.service_db_url)
    with engine.begin() as conn:
        conn.execute(
            sa.update(visit_outcomes)
            .where(visit_outcomes.c.outcome == "not_found")
            .values(outcome="in_need")
        )
    engine.dispose()
    with pytest.raises(Exception, match="already holds different outcomes") as exc:
        export_outcomes(settings, "2024-06")
    assert type(exc.value).__name__ == "OutputExistsError"
