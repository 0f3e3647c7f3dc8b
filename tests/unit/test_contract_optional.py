"""Optional contract columns (issue 15): the visits contract's list-entry columns may be left out
of a delivery, and a warehouse made before they existed gains them."""

from __future__ import annotations

import duckdb
import pytest

from core.contracts import CONTRACTS, Column, Contract
from features import warehouse

LIST_COLUMNS = ["list_run_id", "list_rank", "list_exploration", "list_selection_probability"]


def test_the_agencys_own_files_keep_the_base_columns() -> None:
    visits = CONTRACTS["visits"]
    assert [c.name for c in visits.optional] == LIST_COLUMNS
    assert not set(LIST_COLUMNS) & set(visits.arrow_schema().names)  # the simulator writes these
    assert visits.arrow_schema(optional=True).names[-4:] == LIST_COLUMNS
    assert all(c.nullable for c in visits.optional)
    with pytest.raises(ValueError, match="nullable"):
        Contract("x", "x", "x", (), optional=(Column("c", "int", "required"),))


def test_an_older_warehouse_gains_the_optional_columns(tmp_path) -> None:
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    base = [c for c in warehouse.record_columns("visits") if c.name not in LIST_COLUMNS]
    cols = ", ".join(f"{c.name} VARCHAR" for c in base)
    con.execute(f"CREATE TABLE rec_visits ({cols}, row_no INTEGER)")  # as made before issue 15
    warehouse.create_schema(con)
    names = [r[0] for r in con.execute("DESCRIBE rec_visits").fetchall()]
    assert names[-4:] == LIST_COLUMNS
    warehouse.create_schema(con)  # idempotent
    assert [r[0] for r in con.execute("DESCRIBE rec_visits").fetchall()] == names
    con.close()
