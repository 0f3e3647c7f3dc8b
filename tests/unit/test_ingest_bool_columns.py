"""A Parquet boolean column keeps its values through the row checks (not the text 'false')."""

from __future__ import annotations

from datetime import date

import pyarrow as pa

from core.contracts import CONTRACTS
from features.ingest.checks import check_rows


def test_an_arrow_boolean_column_is_converted_to_booleans():
    contract = CONTRACTS["visits"]
    n = 3
    columns = {c.name: pa.nulls(n, c.arrow_type) for c in contract.all_columns}
    columns["list_exploration"] = pa.array([True, False, None])
    table = pa.table(columns)
    checked = check_rows(contract, table, "visits-2026-01-outreach", date(2026, 1, 31))
    assert checked.frame["list_exploration"].tolist()[:2] == [True, False]
    assert checked.frame["list_exploration"].isna().tolist() == [False, False, True]
