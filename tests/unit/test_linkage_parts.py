"""Pure parts of linkage: ID corrections, name normalization, pairwise metrics, --map parsing."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import idnumber
from core.errors import ConfigError
from core.settings import load_settings
from features.linkage import TableMap, id_corrections, normalize_name, pairwise_counts, parse_map
from features.linkage.stage import TableOptions, TableReport, run_table
from features.pseudonym import Pseudonymizer, load_pseudonymizer

BODY = st.tuples(
    st.sampled_from(["330226", "110105", "440301"]),
    st.dates(min_value=date(1920, 1, 1), max_value=date(2020, 12, 31)),
    st.integers(0, 999),
)


def _id(parts) -> str:
    region, born, seq = parts
    body = f"{region}{born:%Y%m%d}{seq:03d}"
    return body + idnumber.check_char(body)


@settings(max_examples=300, deadline=None)
@given(BODY, st.integers(0, 16), st.integers(1, 9))
def test_a_single_mistyped_digit_is_corrected(parts, pos, shift):
    good = _id(parts)
    bad = good[:pos] + str((int(good[pos]) + shift) % 10) + good[pos + 1 :]
    assert idnumber.normalize(bad).raw_status is idnumber.IdStatus.BAD_CHECK
    fixes = id_corrections(bad)
    assert good in fixes
    assert len(fixes) <= 34
    assert all(idnumber.is_valid(f) and (_off_by_one(f, bad) or _swapped(f, bad)) for f in fixes)


def _off_by_one(a: str, b: str) -> bool:
    return sum(x != y for x, y in zip(a, b, strict=True)) == 1


def _swapped(a: str, b: str) -> bool:
    diff = [j for j in range(18) if a[j] != b[j]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]


@settings(max_examples=300, deadline=None)
@given(BODY, st.integers(0, 15))
def test_two_transposed_digits_are_corrected(parts, pos):
    """The hard profile's transposed IDs (simulator/defects_hard.py) always fail their check,
    and swapping back is among the corrections."""
    good = _id(parts)
    if good[pos] == good[pos + 1]:
        return
    bad = good[:pos] + good[pos + 1] + good[pos] + good[pos + 2 :]
    assert idnumber.normalize(bad).raw_status is idnumber.IdStatus.BAD_CHECK
    fixes = id_corrections(bad)
    assert good in fixes
    assert all(idnumber.is_valid(f) and (_off_by_one(f, bad) or _swapped(f, bad)) for f in fixes)


def test_corrections_of_malformed_values_are_empty():
    assert id_corrections("12345") == []
    assert id_corrections("33022619800101123") == []  # 17 characters
    assert id_corrections("3302261980010112A4") == []


def test_normalize_name():
    assert normalize_name("王　伟") == "王伟"  # full-width space
    assert normalize_name("王 伟 ") == "王伟"
    assert normalize_name("ＺＨＡＮＧ Wei") == "zhangwei"
    assert normalize_name("  ") is None
    assert normalize_name(None) is None


def test_pairwise_counts_by_hand():
    # truth: {0,1,2} {3,4}; predicted: {0,1} {2,3,4}
    pred = np.array(["a", "a", "b", "b", "b"])
    truth = np.array([1, 1, 1, 2, 2])
    c = pairwise_counts(pred, truth)
    assert (c["true_pairs"], c["predicted_pairs"], c["correct_pairs"]) == (4, 4, 2)
    assert c["precision"] == c["recall"] == 0.5
    # only pairs touching record 2
    flag = np.array([False, False, True, False, False])
    c = pairwise_counts(pred, truth, flag)
    assert (c["true_pairs"], c["predicted_pairs"], c["correct_pairs"]) == (2, 2, 0)


def test_parse_map():
    cols = ["姓名", "dob", "gender"]
    assert parse_map("name=姓名, birth_date=dob", cols) == TableMap(
        {"name": "姓名", "birth_date": "dob"}
    )
    m = parse_map("given=姓名,family=dob,other=gender,other=gender", cols)
    assert m.fields == {"given": "姓名", "family": "dob"} and m.other == ("gender",)
    for bad, message in [
        ("name=姓名,given=dob", "--map takes name= or given=/family=, not both"),
        ("nom=姓名", "--map field 'nom' is unknown"),
        ("name=missing", "--map column 'missing' is not in the table"),
        ("name", "--map entry 'name' is not FIELD=COLUMN"),
        ("name=姓名,name=dob", "--map gives 'name' twice"),
        ("sex=gender", "--map needs at least one of name, given, family, birth_date, id"),
    ]:
        with pytest.raises(ConfigError, match=message):
            parse_map(bad, cols)


def test_keys_are_keyed_and_stable(tmp_path):
    a = load_pseudonymizer(tmp_path / "s" / "hmac.key", environ={})
    b = load_pseudonymizer(tmp_path / "s" / "hmac.key", environ={})
    assert (tmp_path / "s" / "hmac.key").stat().st_mode & 0o777 == 0o600
    assert a.person_key("11010519491231002X") == b.person_key("11010519491231002X")
    other = Pseudonymizer(b"another secret of at least 32 characters")
    assert other.person_key("11010519491231002X") != a.person_key("11010519491231002X")
    assert a.person_key("11010519491231002X").startswith("P")
    assert "11010519491231002X" not in a.person_key("11010519491231002X")
    env = {"OUTREACH_HMAC_KEY": "x" * 40}
    assert load_pseudonymizer(tmp_path / "none", environ=env).secret == b"x" * 40
    with pytest.raises(ConfigError, match="at least 32 characters"):
        load_pseudonymizer(tmp_path / "none", environ={"OUTREACH_HMAC_KEY": "short"})


def test_table_stage_refuses_bad_paths_before_reading(tmp_path):
    settings = load_settings(tmp_path, environ={"OUTREACH_HMAC_KEY": "k" * 40})
    src = tmp_path / "in.csv"
    with pytest.raises(ConfigError, match="go together"):
        run_table(settings, TableOptions(maps=("name=a",), out=tmp_path / "o.csv"))
    with pytest.raises(ConfigError, match="must differ"):
        run_table(settings, TableOptions(tables=(src,), maps=("name=a",), out=src))
    with pytest.raises(ConfigError, match="once per --table"):
        run_table(settings, TableOptions(tables=(src, src), maps=("a", "b", "c"), out=src))
    assert not settings.secret_path.exists()  # the key came from the settings
    report = TableReport("in.csv", "o.csv", {"rows": 2})
    assert report.as_dict() == {"input": "in.csv", "output": "o.csv", "rows": 2}
