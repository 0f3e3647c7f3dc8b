"""The feature SQL is portable: every declaration and the assembled snapshot query transpile
from DuckDB to Spark SQL without an error or an unsupported construct."""

from __future__ import annotations

from datetime import date

import pytest
import sqlglot

from features.vectors.build import snapshot_query
from features.vectors.catalogue import DERIVED, FEATURES
from features.vectors.sources import HELPERS, Sources

AS_OF = date(2024, 2, 29)
CONTEXT = {
    **Sources(AS_OF, "members").context(),
    "standard": "1200.0",
    "low_confidence": "0.99",
}


def to_spark(sql: str) -> list[str]:
    return sqlglot.transpile(
        sql,
        read="duckdb",
        write="spark",
        error_level=sqlglot.ErrorLevel.RAISE,
        unsupported_level=sqlglot.ErrorLevel.RAISE,
    )


@pytest.mark.parametrize("f", FEATURES, ids=lambda f: f.name)
def test_every_declaration_transpiles(f) -> None:
    sql = f.render_sql(CONTEXT)
    assert "{" not in sql and "}" not in sql, f.name
    if f.rows == DERIVED:  # an expression over other columns
        statement = f"SELECT {sql} AS {f.name} FROM t"
    else:  # an aggregate over its row source, per household
        statement = f"SELECT household_id, {sql} AS {f.name} FROM t GROUP BY household_id"
    (spark,) = to_spark(statement)
    assert f.name in spark


@pytest.mark.parametrize("rows", sorted(HELPERS))
def test_every_helper_transpiles(rows) -> None:
    for name, sql in HELPERS[rows].items():
        (spark,) = to_spark(f"SELECT {sql.format_map(CONTEXT)} AS {name} FROM t GROUP BY k")
        assert name in spark


def test_the_snapshot_query_transpiles() -> None:
    query = snapshot_query(AS_OF, "members", 1200.0, 300.0, 280.0, "x")
    assert len(query.tables) > 10
    for name, sql in query.tables:
        (spark,) = to_spark(sql)
        assert "SELECT" in spark.upper(), name
    (spark,) = to_spark(query.select)
    for f in FEATURES:
        assert f.name in spark
