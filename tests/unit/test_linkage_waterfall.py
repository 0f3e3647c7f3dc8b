"""The waterfall of a pair's match weight (``features.linkage.waterfall``): the prior, each
comparison's log2 Bayes factor and the term-frequency adjustments add up to the match weight,
and that weight is Splink's own predicted weight for the pair (a recovery test: Splink scores
pairs of a seeded table with known m and u, and the arithmetic recovers every term)."""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from features.linkage.comparisons import splink_settings
from features.linkage.model import make_linker
from features.linkage.names import name_pinyin
from features.linkage.waterfall import (
    find_levels,
    level_weight,
    prior_weight,
    tf_weight,
    waterfall,
)

FIELDS = {"id", "name", "birth_date", "sex", "address", "entity_key"}
NAMES = ["张伟", "张玮", "王芳", "李娜", "李那", "刘洋", "陈静", "张伟", "王芳", "赵磊"]


def _table(n: int = 240, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        name = NAMES[int(rng.integers(len(NAMES)))] if rng.random() > 0.05 else None
        born = dt.date(1970, 1, 1) + dt.timedelta(days=int(rng.integers(0, 900)))
        rows.append({
            "unique_id": f"r{i:04d}",
            "person_key": f"k{int(rng.integers(40))}" if rng.random() < 0.3 else None,
            "id_fix": f"k{int(rng.integers(40))}" if rng.random() < 0.1 else None,
            "name_norm": name, "surname": name[:1] if name else None,
            "name_py": name_pinyin(name),
            "birth_date": born if rng.random() > 0.1 else None,
            "sex": str(rng.choice(["M", "F"])) if rng.random() > 0.1 else None,
            "address": f"3302260010{int(rng.integers(10, 14))}" if rng.random() > 0.1 else None,
            "entity_key": f"civil_assistance:{int(rng.integers(30))}"
            if rng.random() < 0.4 else None,
        })  # fmt: skip
    return pd.DataFrame(rows)


def _model(seed: int = 5) -> dict:
    """The project's comparisons with seeded m and u on every level (as if trained)."""
    rng = np.random.default_rng(seed)
    model = splink_settings(FIELDS, prior=0.003)
    model["blocking_rules_to_generate_predictions"] = [
        {"blocking_rule": "l.surname = r.surname", "sql_dialect": "duckdb"},
        {"blocking_rule": "l.birth_date = r.birth_date", "sql_dialect": "duckdb"},
    ]
    for comp in model["comparisons"]:
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        m, u = rng.dirichlet(np.ones(len(levels))), rng.dirichlet(np.ones(len(levels)))
        for lv, mi, ui in zip(levels, m, u, strict=True):
            lv.update(m_probability=float(mi), u_probability=float(ui))
            lv.pop("fix_m_probability", None)
            lv.pop("fix_u_probability", None)
    return model


@pytest.fixture(scope="module")
def scored():
    table, model = _table(), _model()
    con = duckdb.connect()
    con.register("src", table)
    con.execute("CREATE TABLE t AS SELECT * FROM src")
    linker = make_linker(con, "t", model)
    pred = linker.inference.predict(threshold_match_probability=0.0)
    pairs = con.sql(f"SELECT * FROM {pred.physical_name} ORDER BY unique_id_l, unique_id_r")
    tf = {}
    for column in ("name_norm", "birth_date"):
        name = linker.table_management.compute_tf_table(column).physical_name
        tf[column] = {str(v): float(f) for v, f in con.execute(
            f'SELECT "{column}", "tf_{column}" FROM {name}').fetchall()}  # fmt: skip
    yield table.set_index("unique_id"), model, pairs.df(), tf
    con.close()


def _row(table: pd.DataFrame, uid: str) -> dict:
    return {k: None if pd.isna(v) else v for k, v in table.loc[uid].to_dict().items()}


def _ours(table, model, tf, a: str, b: str, con=None):
    left, right = _row(table, a), _row(table, b)
    freq = {c: tuple(tf[c].get(str(row[c])) if row[c] is not None else None
                     for row in (left, right)) for c in tf}  # fmt: skip
    return waterfall(model, find_levels(model, left, right, con), freq)


def test_the_steps_sum_to_splinks_predicted_match_weight(scored) -> None:
    table, model, pairs, tf = scored
    assert len(pairs) > 300
    seen: dict[str, set[str]] = {}
    con = duckdb.connect()
    for row in pairs.iloc[::3].itertuples():  # a third of them: every level of most met
        w = _ours(table, model, tf, row.unique_id_l, row.unique_id_r, con)
        total = w.prior_weight + sum(s.weight for s in w.steps)
        assert total == pytest.approx(w.match_weight, abs=1e-9)
        assert w.steps[-1].total == pytest.approx(w.match_weight, abs=1e-9)
        assert w.match_weight == pytest.approx(row.match_weight, abs=1e-6), row
        assert w.match_probability == pytest.approx(row.match_probability, abs=1e-9)
        for s in w.steps:
            seen.setdefault(s.comparison, set()).add(s.level)
    assert len(seen["name"]) >= 3 and len(seen["birth_date"]) >= 3  # many levels checked
    assert {"tf_name", "tf_birth_date"} <= set(seen)


def test_each_term_is_splinks_term(scored) -> None:
    table, model, _, tf = scored
    con = duckdb.connect()
    con.register("src", table.reset_index())
    con.execute("CREATE TABLE t AS SELECT * FROM src")
    linker = make_linker(con, "t", model)
    for a, b in [("r0001", "r0007"), ("r0010", "r0100"), ("r0003", "r0200")]:
        one = [linker.table_management.register_table(  # typed (a null date stays a DATE)
            con.sql(f"SELECT * FROM t WHERE unique_id = '{u}'").to_arrow_table(),
            f"rec_{u}", overwrite=True) for u in (a, b)]  # fmt: skip
        out = linker.inference.score_pair(*one)
        got = out.as_pandas_dataframe().iloc[0]
        w = _ours(table, model, tf, a, b)
        for s in w.steps:
            column = f"mw_tf_adj_{s.comparison[3:]}" if s.comparison.startswith("tf_") else (
                f"mw_{s.comparison}")  # fmt: skip
            assert s.weight == pytest.approx(float(got[column]), abs=1e-6), (a, b, s)
        assert w.match_weight == pytest.approx(float(got["match_weight"]), abs=1e-6)
    con.close()


def test_the_terms_by_hand() -> None:
    assert prior_weight(0.5) == 0 and prior_weight(0.2) == pytest.approx(-2.0)
    assert level_weight({"is_null_level": True}) == 0.0
    assert level_weight({"m_probability": 0.9, "u_probability": 0.1}) == pytest.approx(math.log2(9))
    assert level_weight({"m_probability": 0.5, "u_probability": "level not observed"}) == (
        pytest.approx(math.log2(0.5 / 1e-6))
    )
    exact = {"sql_condition": '"name_norm_l" = "name_norm_r"', "tf_adjustment_column":
             "name_norm", "m_probability": 0.9, "u_probability": 0.01}  # fmt: skip
    # a value twice as common as the level's average halves the factor: -1 bit
    assert tf_weight(exact, [exact], 0.02, 0.02) == pytest.approx(-1.0)
    assert tf_weight(exact, [exact], None, 0.005) == pytest.approx(1.0)
    assert tf_weight(exact, [exact], None, None) == 0.0
    assert tf_weight({**exact, "tf_adjustment_weight": 0.5}, [exact], 0.04, 0.01) == (
        pytest.approx(-1.0)
    )
