"""Tests of simulator.names: surname tables, given names, birth dates, variants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import names as nm

N_DRAWS = 200_000


def _is_cjk(text: str) -> bool:
    return all("\u4e00" <= c <= "\u9fff" for c in text)


# ------------------------------------------------------------------------------------ surnames
def test_surname_table_shares() -> None:
    names = [s for s, _ in nm.SURNAMES]
    shares = np.array([p for _, p in nm.SURNAMES])
    assert len(names) == len(set(names)) >= 100
    assert (shares > 0).all() and shares.sum() <= 1.0
    assert 0.29 < shares[:5].sum() < 0.32  # the five largest hold about 30.8%
    single = shares[[len(s) == 1 for s in names]]
    assert (np.diff(single) <= 0).all()  # most common first
    assert all(s in nm.COMPOUND_SURNAMES for s in names if len(s) == 2)


def test_rare_surnames_are_distinct_real_single_characters() -> None:
    rare = nm.RARE_SURNAMES
    assert 90 <= len(set(rare)) <= 200
    assert len(rare) == len(set(rare))
    assert not set(rare) & {s for s, _ in nm.SURNAMES}
    assert all(len(s) == 1 and _is_cjk(s) for s in rare)


@pytest.mark.parametrize("table", [nm.national_surname_weights, nm.local_surname_weights])
def test_surname_weights_are_probabilities(table) -> None:
    names, p = table()
    assert len(names) == len(set(names.tolist())) == len(p)
    assert (p > 0).all() and p.sum() == pytest.approx(1.0)
    assert not names.flags.writeable and not p.flags.writeable


def test_local_weights_take_local_shares() -> None:
    names, p = nm.local_surname_weights()
    share = dict(zip(names.tolist(), p.tolist(), strict=True))
    for surname, local in nm.LOCAL_SURNAME_SHARES.items():
        assert share[surname] == pytest.approx(local)
    assert share["应"] > 5 * dict(zip(*nm.national_surname_weights(), strict=True))["应"]


def _assert_near(freq: float, p: float, n: int) -> None:
    assert abs(freq - p) < 5 * np.sqrt(p * (1 - p) / n), (freq, p)


def test_national_draws_match_the_table() -> None:
    drawn = nm.draw_surnames(np.random.default_rng(11), N_DRAWS, local=False)
    counts = pd.Series(drawn).value_counts()
    for surname, share in nm.SURNAMES[:20]:
        _assert_near(counts.get(surname, 0) / N_DRAWS, share, N_DRAWS)
    assert set(counts.index[:5]) == {"王", "李", "张", "刘", "陈"}


def test_local_draws_match_the_local_table() -> None:
    drawn = nm.draw_surnames(np.random.default_rng(12), N_DRAWS)
    counts = pd.Series(drawn).value_counts()
    names, p = nm.local_surname_weights()
    for i in np.argsort(-p)[:20]:
        _assert_near(counts.get(names[i], 0) / N_DRAWS, p[i], N_DRAWS)


def test_clan_villages() -> None:
    rng = np.random.default_rng(3)
    n = 100_000
    clan = np.where(np.arange(n) % 2 == 0, "邬", None).astype(object)
    drawn = nm.draw_surnames(rng, n, clan_surname=clan, clan_share=0.6)
    in_clan = drawn[::2]
    outside = drawn[1::2]
    names, p = nm.local_surname_weights()
    p_wu = p[names.tolist().index("邬")]
    _assert_near((in_clan == "邬").mean(), 0.6 + 0.4 * p_wu, n // 2)
    _assert_near((outside == "邬").mean(), p_wu, n // 2)
    everyone = nm.draw_surnames(rng, 1000, clan_surname=np.full(1000, "欧阳"), clan_share=1.0)
    assert (everyone == "欧阳").all()


def test_draw_surnames_rejects_bad_arguments() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError):
        nm.draw_surnames(rng, 3, clan_share=1.5)
    with pytest.raises(ValueError):
        nm.draw_surnames(rng, 3, clan_surname=np.array(["王", "李"]), clan_share=0.5)


# --------------------------------------------------------------------------------- given names
def test_given_names_shape_and_script() -> None:
    rng = np.random.default_rng(5)
    n = 50_000
    year = rng.integers(1920, 2025, n)
    given = nm.draw_given_names(rng, rng.random(n) < 0.5, year)
    lengths = np.strings.str_len(given)
    assert set(np.unique(lengths).tolist()) == {1, 2}
    assert all(_is_cjk(g) for g in np.unique(given).tolist())


@pytest.mark.parametrize(
    ("years", "low", "high"), [((1940, 1959), 0.15, 0.25), ((2010, 2024), 0.03, 0.10)]
)
def test_single_character_share_by_cohort(years: tuple[int, int], low: float, high: float) -> None:
    rng = np.random.default_rng(6)
    n = 40_000
    given = nm.draw_given_names(rng, rng.random(n) < 0.5, rng.integers(years[0], years[1] + 1, n))
    assert low < (np.strings.str_len(given) == 1).mean() < high


@pytest.mark.parametrize("decade", nm.DECADES)
@pytest.mark.parametrize("male", [True, False])
def test_given_name_concentration_is_realistic(decade: int, male: bool) -> None:
    """The most common given name holds 0.5-4% of a cohort and sex (real: ~0.5-3%)."""
    dist = nm.given_name_distribution(decade, male)
    p = np.array(list(dist.values()))
    assert p.sum() == pytest.approx(1.0)
    assert 0.005 < p.max() < 0.04
    assert all(len(name) in (1, 2) for name in dist)


def test_draws_follow_the_exact_distribution() -> None:
    rng = np.random.default_rng(8)
    n = 100_000
    given = nm.draw_given_names(rng, np.ones(n, bool), np.full(n, 1985))
    counts = pd.Series(given).value_counts()
    dist = nm.given_name_distribution(1980, True)
    for name in sorted(dist, key=dist.get, reverse=True)[:10]:
        _assert_near(counts.get(name, 0) / n, dist[name], n)


def test_naming_fashions_by_sex_and_cohort() -> None:
    f1950, m1950 = nm.given_name_distribution(1950, False), nm.given_name_distribution(1950, True)
    f2010, m2010 = nm.given_name_distribution(2010, False), nm.given_name_distribution(2010, True)
    assert f1950["秀英"] > 0.01 and "秀英" not in m1950
    assert m1950["建国"] > 10 * m2010.get("建国", 0.0)
    assert f2010["梓涵"] > 0.005 and f1950.get("梓涵", 0.0) == 0.0
    assert nm.decade_of(np.array([1890, 1935, 1949, 1950, 2019, 2031])).tolist() == [
        1930,
        1930,
        1940,
        1950,
        2010,
        2020,
    ]


def test_draw_names_and_determinism() -> None:
    n = 20_000
    rng = np.random.default_rng(9)
    male, year = rng.random(n) < 0.5, rng.integers(1925, 2025, n)
    a = nm.draw_names(np.random.default_rng(1), male, year)
    b = nm.draw_names(np.random.default_rng(1), male, year)
    c = nm.draw_names(np.random.default_rng(2), male, year)
    assert a.dtype == np.dtype("<U4") and (a == b).all() and (a != c).mean() > 0.9
    surnames = set(nm.national_surname_weights()[0].tolist())
    for name in a[:2000].tolist():
        surname = name[:2] if name[:2] in nm.COMPOUND_SURNAMES else name[:1]
        assert surname in surnames and 1 <= len(name) - len(surname) <= 2


def test_given_names_reject_mismatched_lengths() -> None:
    with pytest.raises(ValueError):
        nm.draw_given_names(np.random.default_rng(0), np.ones(3, bool), np.full(2, 1980))


# --------------------------------------------------------------------------------- birth dates
def test_heaped_share_by_cohort() -> None:
    years = np.array([1900, 1939, 1940, 1949, 1950, 1959, 1960, 1969, 1970, 1979, 1980, 2024])
    expected = [0.45, 0.45, 0.35, 0.35, 0.25, 0.25, 0.10, 0.10, 0.03, 0.03, 0.0, 0.0]
    assert nm.heaped_share(years).tolist() == pytest.approx(expected)
    assert (np.diff([p for _, p in nm.HEAPING]) < 0).all()  # heaping fades with later cohorts


def test_registered_birth_dates() -> None:
    rng = np.random.default_rng(4)
    n = 300_000
    year = rng.integers(1925, 2020, n)
    true = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + rng.integers(0, 365, n)
    reg = nm.registered_birth_dates(np.random.default_rng(7), true, year)
    assert reg.dtype == np.dtype("datetime64[D]") and (reg <= true).all()
    assert (reg.astype("datetime64[Y]") == true.astype("datetime64[Y]")).all()
    moved = reg != true
    first = reg == reg.astype("datetime64[M]").astype("datetime64[D]")
    jan1 = reg == reg.astype("datetime64[Y]").astype("datetime64[D]")
    for lo, hi, share in (
        (1925, 1939, 0.45), (1940, 1949, 0.35), (1950, 1959, 0.25), (1960, 1969, 0.10),
        (1970, 1979, 0.03),
    ):  # fmt: skip
        sel = (year >= lo) & (year <= hi)
        # a few heaped people were born on the 1st already: they keep their date
        assert share * 0.9 < moved[sel].mean() < share * 1.03
        # on the 1st of a month: the heaped, plus the 1 in ~30 born on a 1st anyway
        assert first[sel].mean() == pytest.approx(share + (1 - share) / 30.4, abs=0.01)
        # 60% go to 1 January, 40% to the 1st of their month (1 January for 1/12 of them)
        assert jan1[sel & moved].mean() == pytest.approx(0.6 + 0.4 / 12, abs=0.04)
    assert not moved[year >= 1980].any()
    again = nm.registered_birth_dates(np.random.default_rng(7), true, year)
    assert (again == reg).all()


def test_registered_birth_dates_reject_mismatched_lengths() -> None:
    with pytest.raises(ValueError):
        nm.registered_birth_dates(
            np.random.default_rng(0), np.array(["1950-03-04"], "datetime64[D]"), np.array([1, 2])
        )


# ------------------------------------------------------------------------------------ variants
def test_variant_tables() -> None:
    pairs = {frozenset((a, b)) for a, alts in nm.HOMOPHONES.items() for b in alts}
    assert len(pairs) >= 150
    assert all(a not in alts and alts for a, alts in nm.HOMOPHONES.items())
    assert all(a in nm.HOMOPHONES[b] for a, alts in nm.HOMOPHONES.items() for b in alts)
    assert len(nm.TRADITIONAL) >= 50 and all(s != t for s, t in nm.TRADITIONAL.items())
    assert nm.TRADITIONAL["华"] == "華" and nm.TRADITIONAL["国"] == "國"


def test_variants_always_differ() -> None:
    rng = np.random.default_rng(10)
    n = 20_000
    names = nm.draw_names(rng, rng.random(n) < 0.5, rng.integers(1925, 2025, n))
    variants = nm.name_variants(names, np.random.default_rng(3))
    assert len(variants) == n
    assert all(v and v != name for v, name in zip(variants.tolist(), names.tolist(), strict=True))
    again = nm.name_variants(names, np.random.default_rng(3))
    assert (again == variants).all()
    # every kind occurs
    kinds = pd.Series(
        [_kind(a, b) for a, b in zip(names.tolist(), variants.tolist(), strict=True)]
    ).value_counts(normalize=True)
    assert set(kinds.index) == {"homophone", "traditional", "space", "width"}
    assert kinds["homophone"] > 0.3


def _kind(name: str, variant: str) -> str:
    if " " in variant:
        return "space"
    if "\u3000" in variant:
        return "width"
    diff = [b for a, b in zip(name, variant, strict=True) if a != b]
    return "traditional" if diff[0] in nm.TRADITIONAL.values() else "homophone"


def _reference_variants(names: list[str], seed: int) -> list[str]:
    """name_variants name by name with the scalar ``_variant`` and the same random draws."""
    rng = np.random.default_rng(seed)
    kinds = rng.choice(len(nm._KINDS), size=len(names), p=nm._KIND_P)
    u = rng.random((len(names), 2))
    out = [
        nm._variant(name, nm._KINDS[k], float(a), float(b))
        for name, k, (a, b) in zip(names, kinds, u, strict=True)
    ]
    return np.array(out, dtype=str).tolist()  # as returned: trailing NUL characters dropped


def test_compiled_variants_match_the_scalar_reference() -> None:
    rng = np.random.default_rng(12)
    n = 5_000
    drawn = nm.draw_names(rng, rng.random(n) < 0.5, rng.integers(1925, 2025, n)).tolist()
    odd = ["欧阳华", "欧阳", "司马明丽", "诸葛亮", "王", "Ａb·c", "李·华", "王\x00丽", "a\x00"]
    names = drawn + odd * 20
    expected = _reference_variants(names, 5)
    assert nm.name_variants(np.array(names, dtype=object), np.random.default_rng(5)).tolist() == (
        expected
    )
    clean = [x for x in names if "\x00" not in x]  # numpy str arrays cannot hold NUL faithfully
    for text in (np.array(clean), np.array(clean).astype(">U6")):  # any byte order
        assert nm.name_variants(text, np.random.default_rng(6)).tolist() == (
            _reference_variants(clean, 6)
        )
    for k in (1, 2, 7, 50):
        assert nm.name_variants(np.array(drawn[:k]), np.random.default_rng(k)).tolist() == (
            _reference_variants(drawn[:k], k)
        )


def test_variants_consume_the_same_draws_for_any_batch_size() -> None:
    rng = np.random.default_rng(13)
    names = nm.draw_names(rng, rng.random(100) < 0.5, rng.integers(1925, 2025, 100))
    for k in (3, 100):
        a, b = np.random.default_rng(1), np.random.default_rng(1)
        nm.name_variants(names[:k], a)
        b.random(3 * k)
        assert a.random() == b.random()


@settings(deadline=None)
@given(
    st.lists(
        st.text(
            alphabet=st.sampled_from("王李张欧阳华明丽国伟芳静英红平建涛林霞之乎者也·ABC abc1Ａ１"),
            min_size=1,
            max_size=6,
        ).filter(str.strip),
        min_size=1,
        max_size=80,
    ),
    st.integers(0, 1000),
)
def test_variants_differ_for_any_text(names: list[str], seed: int) -> None:
    variants = nm.name_variants(np.array(names, dtype=object), np.random.default_rng(seed))
    assert all(v and v != n for v, n in zip(variants.tolist(), names, strict=True))
    assert variants.tolist() == _reference_variants(names, seed)


def test_variants_reject_empty_names() -> None:
    with pytest.raises(ValueError):
        nm.name_variants(np.array(["王伟", ""], dtype=object), np.random.default_rng(0))
    assert nm.name_variants(np.array([], dtype=object), np.random.default_rng(0)).shape == (0,)
    for bad in (["王伟", 5], ["王伟"] * 50 + [None], [""] * 50, np.array(["王伟"] * 50 + [""])):
        with pytest.raises(ValueError):
            nm.name_variants(bad, np.random.default_rng(0))


# ------------------------------------------------------------------------- county-level repeats
def _county(n: int, seed: int) -> pd.DataFrame:
    """A county-like population on 1 January 2023.

    Ages: 0-14 15%, 15-59 65%, 60+ 20% (60-69 53%, 70-79 31%, 80-89 13%, 90+ 3% of them);
    60% rural, in villages of ~120 people whose clan surname a rural person carries with
    probability 0.5.
    """
    rng = np.random.default_rng(seed)
    band = rng.choice(3, n, p=[0.15, 0.65, 0.20])
    old = 60 + 10 * rng.choice(4, n, p=[0.53, 0.31, 0.13, 0.03]) + rng.uniform(0, 10, n)
    age = np.select([band == 0, band == 1], [rng.uniform(0, 15, n), rng.uniform(15, 60, n)], old)
    true = np.datetime64("2023-01-01") - (age * 365.25).astype("timedelta64[D]")
    year = true.astype("datetime64[Y]").astype(int) + 1970
    male = rng.random(n) < 0.5
    rural = rng.random(n) < 0.6
    n_villages = round(n * 0.6 / 120)
    clan = np.where(rural, nm.draw_surnames(rng, n_villages)[rng.integers(0, n_villages, n)], None)
    born = nm.registered_birth_dates(rng, true, year)
    names = nm.draw_names(rng, male, year, clan_surname=clan, clan_share=0.5)
    return pd.DataFrame({"name": names, "born": born, "true": true, "year": year})


def _shared(df: pd.DataFrame, keys: list[str]) -> float:
    return float(df.duplicated(keys, keep=False).mean())


def test_name_and_birth_year_repeats_in_a_default_size_county() -> None:
    """45,000 people: about 0.75% share (full name, birth year) with someone else."""
    df = _county(45_000, seed=2024)
    assert 0.004 < _shared(df, ["name", "year"]) < 0.015


def test_default_dates_make_name_and_date_repeats() -> None:
    """Registered default dates (1 January, the 1st of a month) multiply the repeats of
    (full name, birth date); most people who share them carry a default date."""
    df = _county(300_000, seed=2024)
    shared = df.duplicated(["name", "born"], keep=False)
    assert shared.mean() > 1.5 * _shared(df, ["name", "true"]) > 0  # ~3x (2.1-4.4 by seed)
    # without heaping ~3% of them would be on a 1st; with it ~75% (55-78% by seed)
    assert (pd.to_datetime(df["born"][shared]).dt.day == 1).mean() > 0.45


@pytest.mark.xfail(strict=True, reason="1% needs unrealistic names: see the docstring")
def test_issue_target_name_and_birth_date_repeats() -> None:
    """The issue asked that at least 1% of a 45,000-person county share (full name, birth date).

    With realistic names this is out of reach: about 0.01% do (0-8 people by seed). Only people
    who share (full name, birth year) can share (full name, birth date), and they are ~0.75%
    (``test_name_and_birth_year_repeats_in_a_default_size_county``): even registering
    everyone on 1 January would stay below 1%. Heaping as in ``HEAPING`` with 70% of the
    people born before 1970 drawn from five given names per sex still gives only ~0.35%.
    """
    assert _shared(_county(45_000, seed=2024), ["name", "born"]) >= 0.01
