"""Small builders of portable SQL text, shared by the feature declarations and the build.

Everything here returns plain SQL (CASE, CAST, EXTRACT, standard date literals) that DuckDB runs
and sqlglot turns into Spark SQL unchanged in meaning.

Example:
    >>> flag("event = 'dropout'")
    "MAX(CASE WHEN event = 'dropout' THEN 1 ELSE 0 END)"
"""

from __future__ import annotations


def month_index(col: str) -> str:
    """Months since year 0 of a date column (consecutive months differ by one)."""
    return f"(EXTRACT(YEAR FROM {col}) * 12 + EXTRACT(MONTH FROM {col}))"


def flag(cond: str) -> str:
    """1 when any row meets ``cond``, else 0."""
    return f"MAX(CASE WHEN {cond} THEN 1 ELSE 0 END)"


def count(cond: str) -> str:
    """The number of rows meeting ``cond``."""
    return f"SUM(CASE WHEN {cond} THEN 1 ELSE 0 END)"


def cents(expr: str) -> str:
    """``expr`` as an exact decimal amount (two places)."""
    return f"CAST({expr} AS DECIMAL(18, 2))"


def amount_sum(col: str, cond: str) -> str:
    """A sum of amounts in exact decimal (cents): the same result whatever order parallel
    aggregation adds the rows in (float sums are not associative)."""
    return f"SUM(CASE WHEN {cond} THEN {cents(f'COALESCE({col}, 0)')} ELSE 0 END)"


def distinct_persons(cond: str) -> str:
    """The number of distinct persons among the rows meeting ``cond``."""
    return f"COUNT(DISTINCT CASE WHEN {cond} THEN person_id END)"


def in_list(values: tuple[str, ...]) -> str:
    """An SQL list of string literals: ``('a', 'b')``."""
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def months_since(day: str) -> str:
    """Calendar months from a date expression to the as-of month (a template: the as-of month
    index is filled in as ``{as_of_month}``)."""
    return f"{{as_of_month}} - {month_index(day)}"
