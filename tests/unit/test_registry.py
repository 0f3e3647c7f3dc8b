"""The feature registry: complete texts, reason phrases, docs, and agreement with the build."""

from __future__ import annotations

import string
from datetime import date
from pathlib import Path

import duckdb
import pytest

import policies
from core.contracts import CONTRACTS
from features.vectors.build import build_snapshot, snapshot_schema
from features.vectors.catalogue import (
    DERIVED,
    DTYPES,
    FEATURES,
    GROUPS,
    KEYS,
    feature,
    feature_names,
    reason,
    registry_json,
    render_markdown,
)
from features.vectors.sources import LOOKBACK
from features.warehouse import create_schema
from policies.parameters import load_parameters

REPO = Path(__file__).resolve().parents[2]
KEY_NAMES = [k[0] for k in KEYS]
SAMPLES = {"int": [0, 3], "float": [0.0, 2.345, 1234567.8], "bool": [True, False]}


def test_names_are_unique_and_well_formed() -> None:
    names = feature_names()
    assert len(names) == len(set(names)) >= 40
    assert not set(names) & set(KEY_NAMES)
    for name in names:
        assert name.isidentifier() and name == name.lower(), name


@pytest.mark.parametrize("f", FEATURES, ids=lambda f: f.name)
def test_every_text_is_present(f) -> None:
    for attr in ("zh", "en", "unit", "window", "reason_zh", "reason_en"):
        assert getattr(f, attr).strip(), (f.name, attr)
    assert f.group in GROUPS and f.dtype in DTYPES and f.direction in (-1, 0, 1)
    assert f.sources and all(s in CONTRACTS or s in ("links", "memberships") for s in f.sources)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in f.zh + f.reason_zh), f.name
    if f.dtype == "bool":
        assert f.reason_zh_false.strip() and f.reason_en_false.strip(), f.name
        assert "{" not in f.reason_zh + f.reason_en, f.name
    else:
        fields = {n for _, n, _, _ in string.Formatter().parse(f.reason_zh + f.reason_en) if n}
        assert fields == {"value"}, f.name


@pytest.mark.parametrize("f", FEATURES, ids=lambda f: f.name)
def test_reason_renders_in_both_languages(f) -> None:
    for value in SAMPLES.get(f.dtype, ["x"]):
        zh, en = reason(f.name, value, "zh"), reason(f.name, value, "en")
        assert zh and en and zh != en
        assert "{" not in zh + en
    missing = reason(f.name, None, "en")
    assert missing == f.reason_en_none if f.reason_en_none else missing.endswith("no record")


def test_reason_examples() -> None:
    zh = reason("medical_oop_to_income_12m", 2.34, "zh")
    assert zh == "近12个月自付医疗费用为家庭收入的 2.3 倍"
    assert reason("medical_oop_to_income_12m", 2.34, "en") == (
        "out-of-pocket medical spending over the last 12 months is 2.3x household income"
    )
    assert reason("serious_illness_12m", True, "en").startswith("a member had claims")
    assert reason("serious_illness_12m", False, "zh") == "近12个月无重大疾病就医记录"
    assert reason("inpatient_admissions_12m", 2.0, "en").startswith("2 inpatient")
    assert reason("months_since_last_visit", float("nan"), "zh") == "从未被走访"
    assert reason("inpatient_admissions_12m", float("nan"), "zh").endswith("无记录")
    with pytest.raises(ValueError):
        reason("household_size", 3, "fr")
    with pytest.raises(KeyError):
        feature("no_such_feature")


def test_registry_and_built_vector_agree() -> None:
    con = duckdb.connect()
    create_schema(con)
    con.execute("INSERT INTO persons VALUES ('P1', DATE '1950-01-01', 'F', 'id', 1, NULL)")
    con.execute(
        "INSERT INTO memberships VALUES ('P1', 'H1', 'R1', 'baseline', 'head', 'local_rural', "
        "'330226101001', DATE '2020-01-01', DATE '2020-01-01', DATE '2020-01-01', 1.0)"
    )
    params = load_parameters(policies.PARAMS_DIR)
    table = build_snapshot(con, date(2024, 6, 30), params)
    assert table.num_rows == 1
    assert table.column_names == KEY_NAMES + feature_names()
    types = {"float": "double", "int": "int32", "bool": "bool", "category": "string"}
    for f in FEATURES:
        assert str(table.schema.field(f.name).type) == types[f.dtype], f.name
        if not f.nullable:
            assert table[f.name].null_count == 0, f.name
    assert snapshot_schema().names == table.column_names
    assert [r["name"] for r in registry_json()] == feature_names()


def test_markdown_lists_every_feature_and_key() -> None:
    text = render_markdown()
    for name in feature_names() + KEY_NAMES:
        assert f"`{name}`" in text, name
    for gzh, gen in GROUPS.values():
        assert gen in text and gzh in text


def test_docs_file_is_up_to_date() -> None:
    path = REPO / "docs" / "features.md"
    assert path.read_text(encoding="utf-8") == render_markdown() + "\n", (
        "docs/features.md is stale: regenerate it with features.vectors.catalogue.write_docs()"
    )


def test_modules_follow_group_order() -> None:
    """Snapshot columns come grouped, in GROUPS order (the docs and the drift report rely on it)."""
    order = list(GROUPS)
    groups = [f.group for f in FEATURES]
    assert groups == sorted(groups, key=order.index)


@pytest.mark.parametrize("f", FEATURES, ids=lambda f: f.name)
def test_sql_reads_the_declared_window(f) -> None:
    """A windowed aggregate filters on its window ({start}) or reads a row source holding just
    that many months; a state (as_of, ever) or a derived feature has no {start}."""
    if f.months is None or f.rows == DERIVED:
        assert "{start}" not in f.sql, f.name
    elif f.rows in LOOKBACK:
        assert f.months <= LOOKBACK[f.rows], f.name
    else:
        assert "{start}" in f.sql, f.name
