"""`outreach outcomes export` without a warehouse: months, ids, the delivery table, bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from core.contracts import CONTRACTS
from core.errors import ConfigError
from core.settings import load_settings
from features.ingest import FILE_NAME
from outreach import cli
from serving.feedback.export import (
    _parquet_bytes,
    build_delivery,
    delivery_path,
    export_outcomes,
    local_date,
    parse_month,
    record_id,
)
from serving.store import db
from serving.store.tables import visit_outcomes

HEAD = {
    "name": "王伟",
    "birth_date": date(1970, 3, 1),
    "sex": "M",
    "village_code": "330226100201",
    "reason": "",
}


@pytest.fixture
def run_cli(monkeypatch, capsys):
    """Run ``outreach``; returns (exit code, stdout, stderr)."""
    monkeypatch.delenv("OUTREACH_DB_URL", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        code = cli.main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def _outcomes(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["id", "household_id", "visit_date", "outcome", "run_id"])
    frame["recorded_date"] = date(2024, 6, 12)
    return frame


# ------------------------------------------------------------------------------ small pieces
@pytest.mark.parametrize("text", ["2024-13", "2024-00", "2024-6", "june", "2024-06-01", ""])
def test_bad_months_are_refused(text):
    with pytest.raises(ConfigError, match="--month must be a month as YYYY-MM"):
        parse_month(text)


def test_ids_names_and_local_dates():
    assert parse_month("2024-06") == (2024, 6)
    assert record_id(42) == "OUT0000000042"
    path = delivery_path(Path("/raw"), "2024-06")
    assert str(path) == "/raw/agencies/visits/2024-06-outreach.parquet"
    assert FILE_NAME.match(path.name)  # ingest accepts the name
    assert local_date(datetime(2024, 6, 30, 15, 59, tzinfo=UTC)) == date(2024, 6, 30)
    assert local_date(datetime(2024, 6, 30, 16, 0, tzinfo=UTC)) == date(2024, 7, 1)


def test_delivery_table_follows_the_contract():
    outcomes = _outcomes(
        [
            (1, "Ha", date(2024, 6, 10), "in_need", "run-a"),
            (2, "Hb", date(2024, 6, 10), "visited", "run-a"),
            (3, "Hc", date(2024, 6, 10), "not_found", None),
            (4, "Hd", date(2024, 6, 10), "not_in_need", "run-a"),
            (5, "He", date(2024, 6, 10), "in_need", "run-a"),
            (6, "Hf", date(2024, 6, 20), "in_need", "run-a"),
        ]
    )
    subjects = pd.DataFrame(
        [HEAD, {**HEAD, "reason": "no_head"}, {**HEAD, "village_code": "3302"}, HEAD],
        index=pd.Index([1, 4, 5, 6], name="id"),
    )
    table, left = build_delivery("2024-06", outcomes, subjects)
    schema = CONTRACTS["visits"].arrow_schema(optional=True)  # with the list entry's columns
    assert table.schema.equals(schema, check_metadata=True)
    rows = table.to_pylist()
    assert [r["record_id"] for r in rows] == ["OUT0000000001"]
    assert rows[0] | {"name": None} == {
        "delivery_id": "visits-2024-06-outreach",
        "extract_date": date(2024, 6, 30),
        "record_id": "OUT0000000001",
        "event_date": date(2024, 6, 10),
        "recorded_date": date(2024, 6, 12),
        "id_number": None,
        "name": None,
        "birth_date": date(1970, 3, 1),
        "sex": "M",
        "visit_id": "OUT0000000001",
        "trigger": "outreach_list",
        "outcome": "in_need",
        "village_code": "330226100201",
        "list_run_id": "run-a",
        "list_rank": None,  # these outcome rows carry no list entry
        "list_exploration": None,
        "list_selection_probability": None,
    }
    assert [(u.outcome_id, u.reason, u.detail) for u in left] == [
        (2, "no_finding", ""),
        (3, "not_listed", ""),
        (4, "no_head", ""),
        (5, "contract", "bad_code (village_code)"),
        (6, "contract", "impossible_date (event_date)"),
    ]
    assert _parquet_bytes(table) == _parquet_bytes(build_delivery("2024-06", outcomes, subjects)[0])


# ------------------------------------------------------------------------------- bad input
def test_help(run_cli):
    code, out, _ = run_cli("outcomes", "--help")
    assert code == 0 and "export" in out
    code, out, _ = run_cli("outcomes", "export", "--help")
    assert code == 0 and "--month" in out and "--out" in out


def test_bad_month_is_one_error_line(run_cli, tmp_path):
    code, _, err = run_cli("outcomes", "export", "--month", "2024-13", "--workspace", str(tmp_path))
    assert code == 2
    assert err.strip().splitlines() == ["error: --month must be a month as YYYY-MM, not '2024-13'"]


def test_missing_service_database(run_cli, tmp_path):
    code, _, err = run_cli("outcomes", "export", "--month", "2024-06", "--workspace", str(tmp_path))
    assert code == 2
    assert err.startswith("error: no service database at ") and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "data" / "service.sqlite3").exists()  # not created by looking


def test_month_not_over_and_empty_period(run_cli, tmp_path):
    settings = load_settings(tmp_path, environ={})
    db.upgrade(settings.service_db_url)
    code, _, err = run_cli("outcomes", "export", "--month", "2024-06", "--workspace", str(tmp_path))
    assert (code, err.strip()) == (2, "error: no visit outcome was recorded in 2024-06")
    with pytest.raises(ConfigError, match="2024-06 is not over yet"):
        export_outcomes(settings, "2024-06", today=date(2024, 6, 30))


def test_no_warehouse(run_cli, tmp_path):
    settings = load_settings(tmp_path, environ={})
    db.upgrade(settings.service_db_url)
    engine = db.make_engine(settings.service_db_url)
    with engine.begin() as conn:
        conn.execute(
            visit_outcomes.insert().values(
                household_id="Ha",
                visit_date=date(2024, 6, 1),
                outcome="in_need",
                programs_started=[],
                recorded_by="tok1",
                recorded_at=datetime(2024, 6, 2, tzinfo=UTC),
                run_id="run-a",
            )
        )
    engine.dispose()
    code, _, err = run_cli("outcomes", "export", "--workspace", str(tmp_path))
    assert code == 2 and err.startswith("error: no warehouse at ")
    assert not list(tmp_path.rglob("*.parquet"))  # nothing written


def test_the_list_entry_behind_a_visit_is_carried():
    outcomes = _outcomes([(1, "Ha", date(2024, 6, 10), "in_need", "run-a")]).assign(
        list_rank=[7], list_exploration=[True], list_selection_probability=[0.0125]
    )
    subjects = pd.DataFrame([HEAD], index=pd.Index([1], name="id"))
    table, left = build_delivery("2024-06", outcomes, subjects)
    assert left == []
    row = table.to_pylist()[0]
    assert (row["list_run_id"], row["list_rank"], row["list_exploration"]) == ("run-a", 7, True)
    assert row["list_selection_probability"] == 0.0125
