"""Tests of features.simulator.names: surname tables, given names, birth dates, variants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.simulator import names as nm

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
def test_registered_birth_dates() -> None:
    rng = np.random.default_rng(4)
    n = 200_000
    year = rng.integers(1925, 2020, n)
    true = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + rng.integers(0, 365, n)
    reg = nm.registered_birth_dates(np.random.default_rng(7), true, year)
    assert reg.dtype == np.dtype("datetime64[D]") and (reg <= true).all()
    assert (reg.astype("datetime64[Y]") == true.astype("datetime64[Y]")).all()
    moved = reg != true
    jan1 = reg == reg.astype("datetime64[Y]").astype("datetime64[D]")
    for lo, hi, share in ((1925, 1949, 0.20), (1950, 1959, 0.12), (1960, 1979, 0.03)):
        sel = (year >= lo) & (year <= hi)
        assert share * 0.85 < moved[sel].mean() < share * 1.05
        # half go to 1 January, half to the 1st of their month (1 January for 1/12 of them)
        assert jan1[sel & moved].mean() == pytest.approx(0.5 + 0.5 / 12, abs=0.04)
    assert not moved[year >= 1980].any()
    again = nm.registered_birth_dates(np.random.default_rng(7), true, year)
    assert (again == reg).all()


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


@settings(deadline=None)
@given(
    st.lists(
        st.text(
            alphabet=st.sampled_from("王李张欧阳华明丽国伟芳静英红平建涛林霞之乎者也·ABC abc1"),
            min_size=1,
            max_size=6,
        ).filter(str.strip),
        min_size=1,
        max_size=20,
    ),
    st.integers(0, 1000),
)
def test_variants_differ_for_any_text(names: list[str], seed: int) -> None:
    variants = nm.name_variants(np.array(names, dtype=object), np.random.default_rng(seed))
    assert all(v and v != n for v, n in zip(variants.tolist(), names, strict=True))


def test_variants_reject_empty_names() -> None:
    with pytest.raises(ValueError):
        nm.name_variants(np.array(["王伟", ""], dtype=object), np.random.default_rng(0))
    assert nm.name_variants(np.array([], dtype=object), np.random.default_rng(0)).shape == (0,)


# ------------------------------------------------------------------------- county-level repeats
def _county(n: int, seed: int) -> pd.DataFrame:
    """A Ninghai-like county: age pyramid, clan villages of ~150 people, registered dates."""
    rng = np.random.default_rng(seed)
    # five-year birth cohorts 1925-29 ... 2020-24, relative sizes of an ageing Zhejiang county
    starts = np.arange(1925, 2025, 5)
    weights = np.array(
        [0.3, 0.8, 1.6, 2.6, 3.6, 4.6, 5.0, 6.5, 7.5, 8.2, 8.0, 7.6, 7.8, 7.4, 6.0, 5.2, 5.0, 5.4,
         4.4, 3.2]
    )  # fmt: skip
    year = starts[rng.choice(len(starts), n, p=weights / weights.sum())] + rng.integers(0, 5, n)
    jan1 = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    days_in_year = np.where((year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0)), 366, 365)
    true = jan1 + (rng.random(n) * days_in_year).astype(np.int64)
    male = rng.random(n) < 0.51
    village = rng.integers(0, n // 150, n)
    clan = nm.draw_surnames(rng, n // 150)[village]
    names = nm.draw_names(rng, male, year, clan_surname=clan, clan_share=0.6)
    born = nm.registered_birth_dates(rng, true, year)
    return pd.DataFrame({"name": names, "born": born, "year": year})


def _shared(df: pd.DataFrame, keys: list[str]) -> float:
    return float(df.duplicated(keys, keep=False).mean())


def test_name_and_birth_year_repeats_in_a_default_size_county() -> None:
    """50,000 people: about 1% share (full name, birth year) with someone else."""
    df = _county(50_000, seed=2024)
    assert 0.005 < _shared(df, ["name", "year"]) < 0.02
    assert _shared(df, ["name", "born"]) < 0.002


def test_name_and_birth_date_repeats_at_county_scale() -> None:
    """A county of Ninghai's size (650,000 people): about 0.05% share (full name, birth date).

    The issue asked for at least 1% in a 50,000-person county. That is not reachable with
    realistic names: a 50,000-person county has only ~56,000 pairs of people with the same
    registered birth date, and a pair also needs the same sex, surname and given name. Even if
    63% of each cohort and sex had the same given name, fewer than 0.9% would share name and
    date. Realistic pools give ~0.004% (a handful of people) at 50,000 and ~0.05% here.
    """
    df = _county(650_000, seed=2024)
    assert 0.0002 < _shared(df, ["name", "born"]) < 0.002
