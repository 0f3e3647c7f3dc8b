"""The match weight of one pair of records, term by term: Splink's waterfall.

A Fellegi-Sunter match weight is a sum of log2 Bayes factors: the prior's,
``log2(lambda / (1 - lambda))`` with ``lambda`` the probability that two random records match,
then for each comparison the level the pair falls in, ``log2(m / u)`` (0 for a null level),
plus, where the level is adjusted for term frequency, ``w * (log2(u_exact) - log2(tf))`` with
``tf`` the larger of the two values' frequencies. The match probability is
``2^weight / (1 + 2^weight)``. This module does that arithmetic from a trained model (Splink
settings JSON) and the level of each comparison, and finds the levels by evaluating the
model's own SQL conditions for the pair in DuckDB, first true level first, as Splink's
``CASE`` does. ``tests/unit/test_linkage_waterfall.py`` holds the sum to Splink's predicted
match weight within 1e-6.

Example:
    >>> model = {"probability_two_random_records_match": 0.5, "comparisons": [
    ...     {"output_column_name": "sex", "comparison_levels": [
    ...         {"sql_condition": "x", "is_null_level": True, "label_for_charts": "null"},
    ...         {"sql_condition": "y", "m_probability": 0.8, "u_probability": 0.2,
    ...          "label_for_charts": "same"},
    ...         {"sql_condition": "ELSE", "m_probability": 0.2, "u_probability": 0.8,
    ...          "label_for_charts": "different"}]}]}
    >>> w = waterfall(model, {"sex": 1})
    >>> (w.prior_weight, w.steps[0].weight, w.match_weight, w.match_probability)
    (0.0, 2.0, 2.0, 0.8)
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Any

import duckdb

NOT_OBSERVED = 1e-6
"""What Splink uses for an m or u saved as "level not observed"."""
COLUMN_TYPES = {"birth_date": "DATE", "first_seen": "DATE"}
"""SQL types of the compared columns that are not text."""
_EXACT = re.compile(r'^\s*"?(\w+)_l"?\s*=\s*"?(\w+)_r"?\s*$')


@dataclasses.dataclass(frozen=True)
class Step:
    """One bar of the waterfall.

    Attributes:
        comparison: the comparison's ``output_column_name`` (``tf_<name>`` for a
            term-frequency adjustment).
        level: the level's label (``label_for_charts``).
        m: the level's m-probability (``None``: a null level or an adjustment).
        u: its u-probability.
        weight: its log2 Bayes factor (the partial match weight).
        total: the match weight so far, prior included.
    """

    comparison: str
    level: str
    m: float | None
    u: float | None
    weight: float
    total: float


@dataclasses.dataclass(frozen=True)
class Waterfall:
    """The prior, each comparison's step, the final match weight and probability."""

    prior: float
    prior_weight: float
    steps: tuple[Step, ...]
    match_weight: float
    match_probability: float


def probability(value: Any) -> float:
    """An m or u as saved (a number, or Splink's "level not observed")."""
    return float(value) if isinstance(value, int | float) else NOT_OBSERVED


def prior_weight(prior: float) -> float:
    """``log2(lambda / (1 - lambda))``."""
    return math.log2(prior / (1.0 - prior))


def level_weight(level: Mapping[str, Any]) -> float:
    """A level's log2 Bayes factor, ``log2(m / u)``; 0 for a null level."""
    if level.get("is_null_level"):
        return 0.0
    m, u = probability(level.get("m_probability")), probability(level.get("u_probability"))
    return math.inf if u == 0 else math.log2(m / u)


def _exact_column(level: Mapping[str, Any]) -> str | None:
    found = _EXACT.match(level.get("sql_condition") or "")
    return found.group(1) if found and found.group(1) == found.group(2) else None


def tf_weight(
    level: Mapping[str, Any],
    levels: list[Mapping[str, Any]],
    tf_l: float | None,
    tf_r: float | None,
) -> float:
    """The term-frequency adjustment of a level (0 where it has none or no frequency is known):
    ``w * (log2(u of the exact-match level on the column) - log2(max(tf_l, tf_r, minimum)))``."""
    column, w = level.get("tf_adjustment_column"), float(level.get("tf_adjustment_weight", 1.0))
    if not column or w == 0 or level.get("is_null_level") or _is_else(level):
        return 0.0
    if tf_l is None and tf_r is None:
        return 0.0
    exact = level
    if not level.get("disable_tf_exact_match_detection"):
        exact = next((lv for lv in levels if _exact_column(lv) == column), level)
    u = probability(exact.get("u_probability"))
    tf = max(x for x in (tf_l, tf_r, float(level.get("tf_minimum_u_value", 0.0))) if x is not None)
    return w * (math.log2(u) - math.log2(tf))


def _is_else(level: Mapping[str, Any]) -> bool:
    return (level.get("sql_condition") or "").strip().upper() == "ELSE"


def waterfall(
    model: Mapping[str, Any],
    levels: Mapping[str, int],
    tf: Mapping[str, tuple[float | None, float | None]] | None = None,
) -> Waterfall:
    """The waterfall of a pair: ``levels`` gives, per comparison, the index of the level the
    pair falls in (in the model's order); ``tf`` the two values' term frequencies per
    adjusted column.

    Raises:
        KeyError: a comparison of the model without a level.
    """
    prior = float(model["probability_two_random_records_match"])
    total = prior_weight(prior)
    start = total
    steps = []
    for comp in model["comparisons"]:
        name = comp["output_column_name"]
        all_levels = comp["comparison_levels"]
        level = all_levels[levels[name]]
        weight = level_weight(level)
        total += weight
        null = bool(level.get("is_null_level"))
        m = None if null else probability(level.get("m_probability"))
        u = None if null else probability(level.get("u_probability"))
        steps.append(Step(name, level.get("label_for_charts", ""), m, u, weight, total))
        column = level.get("tf_adjustment_column")
        if column:
            adj = tf_weight(level, all_levels, *(tf or {}).get(column, (None, None)))
            total += adj
            steps.append(Step(f"tf_{name}", column, None, None, adj, total))
    p = 1.0 if total == math.inf else 2.0**total / (1.0 + 2.0**total)
    return Waterfall(prior, start, tuple(steps), total, p)


def comparison_columns(model: Mapping[str, Any]) -> list[str]:
    """The input columns the model's conditions read (``<column>_l`` / ``_r``)."""
    text = " ".join(
        lv.get("sql_condition") or ""
        for comp in model["comparisons"]
        for lv in comp["comparison_levels"]
    )
    return sorted(set(re.findall(r'"(\w+)_[lr]"', text)))


def find_levels(
    model: Mapping[str, Any],
    left: Mapping[str, Any],
    right: Mapping[str, Any],
    con: duckdb.DuckDBPyConnection | None = None,
) -> dict[str, int]:
    """The level index of each comparison for the pair ``(left, right)``: the model's SQL
    conditions evaluated in DuckDB (``con``, else an in-memory database of its own), the first
    true one winning, as Splink's ``CASE`` does."""
    columns = comparison_columns(model)
    selects, params = [], []
    for side, row in (("l", left), ("r", right)):
        for c in columns:
            selects.append(f'CAST(? AS {COLUMN_TYPES.get(c, "VARCHAR")}) AS "{c}_{side}"')
            params.append(row.get(c))
    cases = []
    for comp in model["comparisons"]:
        whens = []
        for i, lv in enumerate(comp["comparison_levels"]):
            cond = "TRUE" if _is_else(lv) else f"({lv['sql_condition']})"
            whens.append(f"WHEN {cond} THEN {i}")
        cases.append(f'CASE {" ".join(whens)} END AS "{comp["output_column_name"]}"')
    sql = f"WITH pair AS (SELECT {', '.join(selects)}) SELECT {', '.join(cases)} FROM pair"
    own = con is None
    db = duckdb.connect() if own else con
    try:
        cursor = db.execute(sql, params)
        names = [d[0] for d in cursor.description]
        row = cursor.fetchone()
    finally:
        if own:
            db.close()
    if row is None or any(v is None for v in row):
        raise ValueError("a comparison of the model has no level for this pair (no ELSE level)")
    return dict(zip(names, (int(v) for v in row), strict=True))
