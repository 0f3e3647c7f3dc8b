"""Tests of core.idnumber: check characters, normalization, legacy IDs, masking, vectors."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import idnumber as idn
from core.idnumber import IdStatus

# Worked by hand: digits x WEIGHTS, summed, mod 11, then CHECK_CHARS[remainder].
#   11010519491231002: 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167; 167 mod 11 = 2 -> "X"
#   44052418800101001: 28+36+0+25+16+16+2+8+48+0+0+9+0+5+0+0+2 = 195; 195 mod 11 = 8 -> "4"
#   00000000000000000: 0 -> "1";  10000000000000000: 7 -> "5"
KNOWN = [
    ("11010519491231002", "X"),
    ("44052418800101001", "4"),
    ("00000000000000000", "1"),
    ("10000000000000000", "5"),
]
VALID = "11010519491231002X"  # a woman (sequence 002 is even), born 1949-12-31
VALID_2 = "440524188001010014"  # born 1880-01-01, sequence 001: a man
BAD_DATE_BODY = "11010519990230001"  # 30 February 1999

addresses = st.from_regex(r"[1-8][0-9]{5}", fullmatch=True)
dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31))
people = st.lists(st.tuples(addresses, dates, st.integers(0, 999)), min_size=1, max_size=40)


def _ids(rows: list[tuple[str, date, int]]) -> np.ndarray:
    addr, born, seq = zip(*rows, strict=True)
    return idn.make_ids(np.array(addr), np.array(born, dtype="datetime64[D]"), np.array(seq))


# ---------------------------------------------------------------------------- check character
@pytest.mark.parametrize(("body", "check"), KNOWN)
def test_check_char_known_examples(body: str, check: str) -> None:
    assert idn.check_char(body) == check
    assert idn.check_chars(np.array([list(body)], dtype=np.uint8)).tolist() == [check]


def test_weights_are_powers_of_two_mod_11() -> None:
    assert tuple(pow(2, 17 - i, 11) for i in range(17)) == idn.WEIGHTS
    assert len(idn.CHECK_CHARS) == 11 and len(set(idn.CHECK_CHARS)) == 11


def test_every_single_digit_substitution_changes_the_check() -> None:
    # the weighted sum changes by w * d with w in 1..10, d in +-1..9: never 0 mod the prime 11
    assert all((w * d) % 11 for w in idn.WEIGHTS for d in range(-9, 10) if d)
    for body, check in KNOWN:
        for pos in range(17):
            for digit in "0123456789":
                if digit != body[pos]:
                    assert idn.check_char(body[:pos] + digit + body[pos + 1 :]) != check


@pytest.mark.parametrize(
    "body",
    [
        "1101051949123100",
        "110105194912310021",
        "1101051949123100X",
        "",
        "１１０１０５１９４９１２３１００２",
    ],
)
def test_check_char_rejects_bad_bodies(body: str) -> None:
    with pytest.raises(ValueError):
        idn.check_char(body)


def test_check_chars_rejects_bad_matrices() -> None:
    with pytest.raises(ValueError):
        idn.check_chars(np.zeros((2, 16), dtype=np.uint8))
    with pytest.raises(ValueError):
        idn.check_chars(np.full((1, 17), 10, dtype=np.uint8))


# ------------------------------------------------------------------------------- normalize
@pytest.mark.parametrize(
    ("raw", "status", "value"),
    [
        (VALID, IdStatus.VALID, VALID),
        (VALID_2, IdStatus.VALID, VALID_2),
        ("11010519491231002x", IdStatus.VALID, VALID),
        ("  11010519491231002x\t", IdStatus.VALID, VALID),
        ("\u300011010519491231002X\u3000", IdStatus.VALID, VALID),
        ("110105491231002", IdStatus.LEGACY_CONVERTED, VALID),
        (" 110105491231002 ", IdStatus.LEGACY_CONVERTED, VALID),
        ("110105990230001", IdStatus.BAD_DATE, None),
        ("110105491301002", IdStatus.BAD_DATE, None),
        ("110105194912310021", IdStatus.BAD_CHECK, None),
        ("11010519491231003X", IdStatus.BAD_CHECK, None),
        (BAD_DATE_BODY + idn.check_char(BAD_DATE_BODY), IdStatus.BAD_DATE, None),
        ("11010518790101001" + idn.check_char("11010518790101001"), IdStatus.BAD_DATE, None),
        ("1101051949123100", IdStatus.MALFORMED, None),
        ("11010519491231002X1", IdStatus.MALFORMED, None),
        ("1101051949123100XX", IdStatus.MALFORMED, None),
        ("11010519491231002Y", IdStatus.MALFORMED, None),
        ("1101051949A231002X", IdStatus.MALFORMED, None),
        ("110105 19491231002X", IdStatus.MALFORMED, None),
        ("110105-19491231002X", IdStatus.MALFORMED, None),
        ("１１０１０５１９４９１２３１００２Ｘ", IdStatus.MALFORMED, None),
        ("11010549123100x", IdStatus.MALFORMED, None),
        ("abc", IdStatus.MALFORMED, None),
        (None, IdStatus.MISSING, None),
        ("", IdStatus.MISSING, None),
        ("   ", IdStatus.MISSING, None),
        (float("nan"), IdStatus.MISSING, None),
        (np.nan, IdStatus.MISSING, None),
        (pd.NA, IdStatus.MISSING, None),
        (pd.NaT, IdStatus.MISSING, None),
        (110105491231002, IdStatus.LEGACY_CONVERTED, VALID),
        (1.5, IdStatus.MALFORMED, None),
    ],
)
def test_normalize(raw: object, status: IdStatus, value: str | None) -> None:
    result = idn.normalize(raw)  # type: ignore[arg-type]
    assert result == idn.NormalizedId(status, value)
    assert result.usable == (status in (IdStatus.VALID, IdStatus.LEGACY_CONVERTED))


def test_normalize_future_birth_date_only_with_today() -> None:
    body = "33022620300101002"
    future = body + idn.check_char(body)
    assert idn.normalize(future).raw_status is IdStatus.VALID
    assert idn.normalize(future, today=date(2025, 1, 1)).raw_status is IdStatus.BAD_DATE
    assert idn.normalize(future, today=date(2030, 1, 1)).raw_status is IdStatus.VALID
    assert idn.normalize(VALID, today=date(2025, 1, 1)).raw_status is IdStatus.VALID


def test_is_valid_is_strict() -> None:
    assert idn.is_valid(VALID) and idn.is_valid(VALID_2)
    for text in ["11010519491231002x", f" {VALID}", "110105491231002", "110105194912310021"]:
        assert not idn.is_valid(text)
    assert not idn.is_valid(None)  # type: ignore[arg-type]
    assert not idn.is_valid(BAD_DATE_BODY + idn.check_char(BAD_DATE_BODY))


@settings(max_examples=300)
@given(st.text())
def test_normalize_never_raises(text: str) -> None:
    result = idn.normalize(text)
    assert isinstance(result.raw_status, IdStatus)
    assert result.usable == (result.value is not None)
    if result.value is not None:
        assert idn.is_valid(result.value)


@given(st.text().filter(lambda s: len(s.strip()) not in (15, 18)))
def test_normalize_garbage_of_wrong_length(text: str) -> None:
    assert idn.normalize(text).raw_status in (IdStatus.MALFORMED, IdStatus.MISSING)


@given(
    st.text(min_size=1).filter(
        lambda s: any(not c.isspace() and c not in "0123456789Xx" for c in s)
    )
)
def test_normalize_garbage_with_foreign_characters(text: str) -> None:
    assert idn.normalize(text).raw_status is IdStatus.MALFORMED


# ------------------------------------------------------------------- legacy, birth date, sex
def test_legacy_conversion() -> None:
    assert idn.legacy_to_18("110105491231002") == VALID
    assert idn.to_legacy15(VALID) == "110105491231002"
    assert idn.birth_date_of(VALID) == date(1949, 12, 31)
    assert idn.birth_date_of("110105491231002") == date(1949, 12, 31)
    assert idn.birth_date_of(VALID_2) == date(1880, 1, 1)
    assert not idn.is_male(VALID) and not idn.is_male("110105491231002")
    assert idn.is_male(VALID_2)


@pytest.mark.parametrize("bad", ["11010549123100", "11010549123100a", "110105990230001"])
def test_legacy_to_18_rejects(bad: str) -> None:
    with pytest.raises(ValueError) as err:
        idn.legacy_to_18(bad)
    assert bad not in str(err.value)


def test_to_legacy15_rejects_non_19xx_and_invalid() -> None:
    body = "33022620050101002"
    with pytest.raises(ValueError):
        idn.to_legacy15(body + idn.check_char(body))
    with pytest.raises(ValueError):
        idn.to_legacy15("110105194912310021")


@pytest.mark.parametrize("bad", ["110105194912310021", "11010519491231002x", "abc", ""])
def test_birth_date_and_sex_reject_invalid(bad: str) -> None:
    for fn in (idn.birth_date_of, idn.is_male):
        with pytest.raises(ValueError) as err:
            fn(bad)
        assert not bad or bad not in str(err.value)


# ----------------------------------------------------------------------------------- masking
def test_mask_id_examples() -> None:
    assert idn.mask_id(VALID) == "110*************2X"
    assert idn.mask_id("110105491231002") == "110**********02"
    assert idn.mask_id(None) == "" and idn.mask_id("") == ""
    assert idn.mask_id("12345") == "*****"


@given(st.text(min_size=6))
def test_mask_id_hides_all_but_five(text: str) -> None:
    masked = idn.mask_id(text)
    assert len(masked) == len(text)
    assert masked[:3] == text[:3] and masked[-2:] == text[-2:]
    assert set(masked[3:-2]) <= {"*"}


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三丰", "张**"),
        ("王伟", "王*"),
        ("欧阳娜娜", "欧阳**"),
        ("诸葛亮", "诸葛*"),
        ("司马懿", "司马*"),
        ("上官婉儿", "上官**"),
        ("歐陽修", "歐陽*"),
        ("王 伟", "王*"),
        ("王", "王"),
        ("Zhang Wei", "Z*"),
        ("Émile", "É*"),
        (None, ""),
        ("", ""),
        ("  ", ""),
    ],
)
def test_mask_name(name: str | None, masked: str) -> None:
    assert idn.mask_name(name) == masked


# -------------------------------------------------------------------------------- vectorized
def test_make_ids_known_example() -> None:
    ids = idn.make_ids(
        np.array(["110105", "440524"]),
        np.array(["1949-12-31", "1880-01-01"], dtype="datetime64[D]"),
        np.array([2, 1]),
    )
    assert ids.dtype == np.dtype("<U18")
    assert ids.tolist() == [VALID, VALID_2]


def test_make_ids_empty() -> None:
    ids = idn.make_ids(np.array([], dtype="<U6"), np.array([], "datetime64[D]"), np.array([], int))
    assert ids.shape == (0,) and ids.dtype == np.dtype("<U18")


@settings(deadline=None)
@given(people)
def test_make_ids_always_valid(rows: list[tuple[str, date, int]]) -> None:
    ids = _ids(rows)
    assert ids.dtype == np.dtype("<U18")
    for id18, (addr, born, seq) in zip(ids.tolist(), rows, strict=True):
        assert idn.is_valid(id18)
        assert id18[:6] == addr and id18[14:17] == f"{seq:03d}"
        assert idn.birth_date_of(id18) == born
        assert idn.is_male(id18) == (seq % 2 == 1)
        assert id18[17] == idn.check_char(id18[:17])


@settings(deadline=None)
@given(st.lists(st.lists(st.integers(0, 9), min_size=17, max_size=17), min_size=1, max_size=30))
def test_check_chars_matches_scalar(rows: list[list[int]]) -> None:
    got = idn.check_chars(np.array(rows, dtype=np.uint8)).tolist()
    assert got == [idn.check_char("".join(map(str, r))) for r in rows]


@settings(deadline=None)
@given(
    st.lists(
        st.tuples(addresses, st.dates(date(1900, 1, 1), date(1999, 12, 31)), st.integers(0, 999)),
        min_size=1,
        max_size=40,
    )
)
def test_legacy_round_trip(rows: list[tuple[str, date, int]]) -> None:
    ids = _ids(rows)
    legacy = idn.to_legacy15_vec(ids)
    assert legacy.dtype == np.dtype("<U15")
    for id18, id15 in zip(ids.tolist(), legacy.tolist(), strict=True):
        assert id15 == idn.to_legacy15(id18)
        assert idn.legacy_to_18(id15) == id18
        assert idn.normalize(id15) == idn.NormalizedId(IdStatus.LEGACY_CONVERTED, id18)


def test_to_legacy15_vec_rejects_2000s() -> None:
    ids = _ids([("330226", date(2001, 5, 6), 3)])
    with pytest.raises(ValueError):
        idn.to_legacy15_vec(ids)


@settings(deadline=None)
@given(people, st.integers(0, 2**32 - 1))
def test_mistype_ids_always_fail_in_one_position(
    rows: list[tuple[str, date, int]], seed: int
) -> None:
    ids = _ids(rows)
    bad = idn.mistype_ids(ids, np.random.default_rng(seed))
    assert bad.dtype == np.dtype("<U18")
    for good, typo in zip(ids.tolist(), bad.tolist(), strict=True):
        assert len(typo) == 18 and typo[17] == good[17]
        assert sum(a != b for a, b in zip(good, typo, strict=True)) == 1
        assert typo[:17].isdigit()
        assert not idn.is_valid(typo)
        assert idn.normalize(typo).raw_status is IdStatus.BAD_CHECK


def test_mistype_ids_deterministic_and_covers_all_positions() -> None:
    ids = np.repeat(np.array([VALID]), 2000)
    a = idn.mistype_ids(ids, np.random.default_rng(1))
    b = idn.mistype_ids(ids, np.random.default_rng(1))
    assert (a == b).all()
    positions = {next(i for i in range(18) if t[i] != VALID[i]) for t in a.tolist()}
    assert positions == set(range(17))


@pytest.mark.parametrize(
    ("addr", "born", "seq"),
    [
        (["12345"], ["1980-01-01"], [1]),
        (["1234567"], ["1980-01-01"], [1]),
        (["33022a"], ["1980-01-01"], [1]),
        (["３３０２２６"], ["1980-01-01"], [1]),
        (["330226"], ["NaT"], [1]),
        (["330226"], ["1870-01-01"], [1]),
        (["330226"], ["1980-01-01"], [1000]),
        (["330226"], ["1980-01-01"], [-1]),
        (["330226", "330226"], ["1980-01-01"], [1]),
    ],
)
def test_make_ids_rejects_bad_parts(addr: list[str], born: list[str], seq: list[int]) -> None:
    with pytest.raises(ValueError):
        idn.make_ids(np.array(addr), np.array(born, dtype="datetime64[D]"), np.array(seq))


def test_mistype_ids_rejects_non_ids() -> None:
    with pytest.raises(ValueError):
        idn.mistype_ids(np.array(["1101051949123100"]), np.random.default_rng(0))
    with pytest.raises(ValueError):
        idn.mistype_ids(np.array(["11010519491231A02X"]), np.random.default_rng(0))
