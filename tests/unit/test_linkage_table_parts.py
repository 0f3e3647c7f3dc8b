"""Pure parts of ``link --table``: names across scripts, dates as registers write them, the capped
blocking rules, and a table with missing values in every column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.linkage import names
from features.linkage.table import link_tables
from features.linkage.table_prep import parse_map, prepare
from features.linkage.table_rules import CAP, blocking_recall, rule_keys


def test_names_across_scripts_and_parts():
    assert names.split_name("欧阳娜娜") == ("欧阳", "娜娜")
    assert names.split_name("张伟") == ("张", "伟")
    assert names.split_name("zhang  wei ming") == ("zhang", "wei ming")
    assert names.pinyin("张伟") == names.pinyin("张玮") == names.pinyin("ＺＨＡＮＧ Wei".lower())
    assert names.pinyin("张yan") == names.pinyin("张焱") == "zhangyan"
    assert (
        names.clean("王　伟") == "王 伟" and names.clean("  ") is None and names.clean(None) is None
    )
    assert names.clean("张□") == "张?" and names.clean("?") is None
    assert names.phonetic("Smith") == names.phonetic("Smyth")


@pytest.mark.parametrize(
    "text, ymd",
    [
        ("1980-03-05", (1980, 3, 5)), ("1980/3/5", (1980, 3, 5)), ("1980.03.05", (1980, 3, 5)),
        ("19800305", (1980, 3, 5)), ("1980年3月5日", (1980, 3, 5)),
        ("1980-03-05 00:00:00", (1980, 3, 5)),
        ("05/03/1980", (1980, 3, 5)), ("12/31/1980", (1980, 12, 31)), ("1980-03", (1980, 3, None)),
        ("198003", (1980, 3, None)), ("1980", (1980, None, None)), ("1980.0", (1980, None, None)),
        ("１９８０年", (1980, None, None)), ("1980-02-30", (1980, 2, None)),
        ("abc", (None, None, None)),
        ("", (None, None, None)), (None, (None, None, None)), (float("nan"), (None, None, None)),
    ],
)  # fmt: skip
def test_dates(text, ymd):
    assert names.parse_date(text) == ymd


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12))
def test_readers_never_raise(text):
    names.parse_date(text)
    names.parse_sex(text)
    fam, giv = names.split_name(names.clean(text))
    names.pinyin(fam)
    names.phonetic(giv)


def _messy(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """A register-like table: duplicates with typos, and a missing value in every column."""
    rng = np.random.default_rng(seed)
    fam = np.array(["张", "王", "李", "刘", "陈", "杨", "欧阳", "Ｚｈａｎｇ", "wang"])
    giv = np.array(["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "Wei", "杰明"])
    people = pd.DataFrame(
        {
            "family": fam[rng.integers(0, len(fam), n)],
            "given": giv[rng.integers(0, len(giv), n)] + giv[rng.integers(0, len(giv), n)],
            "dob": [f"{y}-{m:02d}-{d:02d}" for y, m, d in zip(
                rng.integers(1930, 2010, n), rng.integers(1, 13, n), rng.integers(1, 29, n),
                strict=True)],
            "sex": rng.choice(["男", "女", "1", "2", "F", "x"], n),
            "village": rng.choice([f"3302261{i:05d}" for i in range(20)], n),
        }
    )  # fmt: skip
    truth = np.arange(n)
    dup = people.sample(frac=0.4, random_state=seed)
    dup["dob"] = dup["dob"].str.replace("-", "/")
    truth = np.concatenate([truth, dup.index.to_numpy()])
    table = pd.concat([people, dup], ignore_index=True)
    for col in table.columns:
        table.loc[rng.random(len(table)) < 0.15, col] = None
    table.loc[rng.random(len(table)) < 0.05, ["family", "given", "dob"]] = None
    table["dob"] = table["dob"].where(rng.random(len(table)) > 0.1, table["dob"].str[:4])
    return table, truth


@pytest.mark.parametrize("one_column", [True, False])
def test_nulls_in_every_column_never_fail(one_column):
    table, _ = _messy(300, 1)
    if one_column:
        table["name"] = table["family"].fillna("") + table["given"].fillna("")
        table.loc[table["name"] == "", "name"] = None
        m = parse_map("name=name,birth_date=dob,sex=sex,address=village", list(table.columns))
    else:
        m = parse_map("family=family,given=given,birth_date=dob,sex=sex,address=village",
                      list(table.columns))  # fmt: skip
    (out,), notes, _ = link_tables([table], [m])
    assert len(out) == len(table) and out["cluster_id"].notna().all()
    assert list(out.columns[:-2]) == list(table.columns)
    empty = table[["family", "given", "dob"]].isna().all(axis=1).to_numpy()
    assert notes["rows_without_usable_field"] == int(empty.sum()) > 0
    # a row with no usable field is a singleton
    sizes = out["cluster_id"].map(out["cluster_id"].value_counts())
    assert (sizes[empty] == 1).all()
    assert out.loc[empty, "match_probability"].isna().all()


def test_all_values_missing_is_all_singletons():
    table = pd.DataFrame({"n": [None, None, None], "d": [None, "", None]})
    (out,), notes, _ = link_tables([table], [parse_map("name=n,birth_date=d", ["n", "d"])])
    assert out["cluster_id"].tolist() == [1, 2, 3]
    assert notes["rows_without_usable_field"] == 3


def test_rules_are_capped_and_recall_is_measured():
    n = 4000
    rng = np.random.default_rng(2)
    table = pd.DataFrame(
        {
            "name": rng.choice(["张伟", "王芳", "李娜"], n),  # three huge name blocks
            "dob": [f"19{rng.integers(50, 52)}-0{rng.integers(1, 3)}-01" for _ in range(n)],
            "sex": rng.choice(["M", "F"], n),
        }
    )
    m = parse_map("name=name,birth_date=dob,sex=sex", list(table.columns))
    prep, _ = prepare(table, m)
    keys, stats = rule_keys(prep, {"name", "birth_date", "sex"})
    for s in stats:
        assert s["max_candidates_per_record"] <= CAP, s
        assert s["candidate_pairs"] <= CAP * n
    assert any(s["records_beyond_cap"] > 0 for s in stats)  # too few fields to split 4000
    label = pd.Series(np.arange(n) // 2).astype(str)
    rec = blocking_recall(keys, label)
    assert rec["true_pairs"] == n // 2 and 0 <= rec["combined"] <= 1
    assert rec["combined"] >= max(rec["per_rule"].values())
