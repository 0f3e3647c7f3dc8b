"""Candidate pairs for ``link --table``: cheap blocking rules that together survive the errors
of real registers, each kept under a per-record cap.

Every rule is one declaration (:data:`RULES`): the standard columns (see
:mod:`features.linkage.table_prep`) whose values must agree. A rule's key is computed per record;
a record whose block is larger than ``CAP + 1`` records has its key refined block by block with
the next of :data:`REFINEMENTS` (birth year, sex, birth month, initial of the given name) until its
block fits, and loses the rule if none does (counted). So no rule gives any record more than
``CAP`` candidates, on any table size, and a rule costs at most ``CAP`` pairs per record.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

CAP = 50
"""At most this many candidate pairs per record and rule."""


@dataclass(frozen=True)
class Rule:
    """One blocking rule: the standard columns that must agree (expressions of
    :func:`_part`), and the fields it needs."""

    name: str
    parts: tuple[str, ...]
    needs: frozenset[str]
    describe: str


def _r(name: str, parts: str, needs: str, describe: str) -> Rule:
    return Rule(name, tuple(parts.split()), frozenset(needs.split()), describe)


RULES = (
    _r("id_a", "id_drop_0_6", "id", "ID without its first 6 characters (region)"),
    _r("id_b", "id_drop_5_11", "id", "ID without characters 6-11"),
    _r("id_c", "id_drop_10_16", "id", "ID without characters 11-16"),
    _r("id_d", "id_drop_15_18", "id", "ID without its last 3 characters"),
    _r("name", "name_norm", "name", "full name, exact"),
    _r("name_parts", "parts_sorted", "name", "family and given name in either order"),
    _r("pinyin", "name_py", "name", "full name in pinyin (homophones, rare characters in pinyin)"),
    _r("phonetic", "family_ph given_ph", "name", "Soundex of family and given name"),
    _r("family_birth", "family_py birth_text", "name birth_date", "family name + birth date"),
    _r("given_birth", "given_py birth_text", "name birth_date", "given name + birth date"),
    _r(
        "birth_month_initials",
        "birth_year birth_month family_init given_init",
        "name birth_date",
        "birth year and month + initials (day missing, wrong or set to the 1st)",
    ),
    _r("birth_sex", "birth_text sex", "birth_date sex", "birth date + sex"),
    _r("birth_address", "birth_text address", "birth_date address", "birth date + address"),
    _r("address_family", "address family_py", "address name", "address + family name"),
    _r("address_given", "address given_py", "address name", "address + given name"),
    _r(
        "address_year_sex",
        "address birth_year sex",
        "address birth_date sex",
        "address + birth year + sex",
    ),
    _r("other_birth", "other_1 birth_text", "other_1 birth_date", "first other field + birth"),
    _r("other_family", "other_1 family_py", "other_1 name", "first other field + family name"),
)
"""The blocking rules, in the order Splink applies them (a pair is scored once)."""

REFINEMENTS = ("birth_year", "sex", "birth_month", "given_init", "family_init")
"""Added, one at a time, to the key of a block that is over the cap."""


def _col(prep: pd.DataFrame, name: str) -> pd.Series:
    """One key part as text (null where unknown)."""
    if name.startswith("id_drop_"):
        a, b = (int(x) for x in name.removeprefix("id_drop_").split("_"))
        text = prep["id_text"]
        resident = prep["id_valid"].notna().any() or text.dropna().str.len().eq(18).mean() > 0.5
        if resident:
            return text.map(lambda v: None if v is None or len(v) != 18 else v[:a] + "~" + v[b:])
        return text.map(lambda v: None if v is None else _plain_id_part(v, a))
    if name == "parts_sorted":
        f, g = prep["family"], prep["given"]
        return pd.Series(
            [
                None if x is None or y is None else "|".join(sorted((x, y)))
                for x, y in zip(f, g, strict=True)
            ],
            index=prep.index,
            dtype=object,
        )
    if name == "family_init":
        return prep["family_py"].map(lambda v: None if v is None else v[:1])
    if name == "given_init":
        return prep["given_py"].map(lambda v: None if v is None else v[:1])
    if name not in prep:
        return pd.Series([None] * len(prep), index=prep.index, dtype=object)
    col = prep[name]
    return col.astype(object).where(col.notna(), None).map(lambda v: None if v is None else str(v))


def _plain_id_part(v: str, window_start: int) -> str | None:
    """A plain identifier's prefix, suffix or ends (a typo or a swap of two neighbours spoils
    at most two of them): the four resident-ID windows map onto these three."""
    n = len(v)
    if n < 4:
        return v if window_start == 0 else None
    k = max(2, int(np.ceil(n * 0.6)))
    e = max(1, int(np.ceil(n * 0.3)))
    if window_start == 0:
        return "p" + v[:k]
    if window_start == 5:
        return "s" + v[-k:]
    if window_start == 10:
        return "e" + v[:e] + "~" + v[-e:]
    return None


def _join(cols: list[pd.Series]) -> pd.Series:
    """The parts joined with ``|``; null where any part is null."""
    lists = [c.tolist() for c in cols]
    out = [
        None if any(v is None or v != v for v in t) else "|".join(map(str, t))
        for t in zip(*lists, strict=True)
    ]
    return pd.Series(out, index=cols[0].index, dtype=object)


def _sizes(key: pd.Series) -> pd.Series:
    return key.map(key.value_counts()).fillna(0).astype(np.int64)


def rule_keys(prep: pd.DataFrame, fields: set[str]) -> tuple[pd.DataFrame, list[dict]]:
    """One key column ``bk_<rule>`` per applicable rule, capped (see the module), and each rule's
    figures: records keyed, records beyond the cap, candidate pairs and pairs per record."""
    keys = pd.DataFrame(index=prep.index)
    stats = []
    parts_cache: dict[str, pd.Series] = {}

    def part(name: str) -> pd.Series:
        if name not in parts_cache:
            parts_cache[name] = _col(prep, name)
        return parts_cache[name]

    for rule in RULES:
        if not rule.needs <= fields:
            continue
        key = _join([part(p) for p in rule.parts])
        if key.notna().sum() < 2:
            continue
        pending = _sizes(key) > CAP + 1
        final = key.where(~pending, None)
        refined = key
        for extra in REFINEMENTS:
            if not pending.any():
                break
            if extra in rule.parts or (extra == "sex" and "sex" not in fields):
                continue
            refined = _join([refined, part(extra)])
            candidate = refined.where(pending, None)
            fits = pending & candidate.notna() & (_sizes(candidate) <= CAP + 1)
            final = final.where(~fits, "r" + candidate.where(fits, ""))
            pending = pending & ~fits & candidate.notna()
        beyond = int((key.notna() & final.isna()).sum())
        sizes = _sizes(final)
        pairs = int((final.dropna().value_counts().to_numpy(np.int64) ** 2 -
                     final.dropna().value_counts().to_numpy(np.int64)).sum() // 2)  # fmt: skip
        keys[f"bk_{rule.name}"] = final
        stats.append(
            {
                "rule": rule.name,
                "describe": rule.describe,
                "records_keyed": int(final.notna().sum()),
                "records_beyond_cap": beyond,
                "candidate_pairs": pairs,
                "max_candidates_per_record": int(max(sizes.max() - 1, 0)),
            }
        )
    return keys, stats


def blocking_sql(stats: list[dict], pair_filter: str = "") -> list[dict]:
    """The Splink blocking rules of the keyed rules."""
    extra = f" AND {pair_filter}" if pair_filter else ""
    return [
        {
            "blocking_rule": f'l."bk_{s["rule"]}" = r."bk_{s["rule"]}"{extra}',
            "sql_dialect": "duckdb",
        }
        for s in stats
    ]


def blocking_recall(keys: pd.DataFrame, label: pd.Series, source: pd.Series | None = None) -> dict:
    """Share of the true pairs (records sharing a ``label``) that at least one rule puts together,
    per rule and combined. With ``source``, only pairs across the two tables count."""
    frame = keys.copy()
    frame["_label"] = label.to_numpy()
    frame["_src"] = 0 if source is None else source.to_numpy()
    frame["_i"] = np.arange(len(frame))
    lab = frame.dropna(subset=["_label"])
    pairs = lab[["_label", "_i", "_src"]].merge(lab[["_label", "_i", "_src"]], on="_label")
    pairs = pairs[pairs["_i_x"] < pairs["_i_y"]]
    if source is not None:
        pairs = pairs[pairs["_src_x"] != pairs["_src_y"]]
    if pairs.empty:
        return {"true_pairs": 0}
    a, b = pairs["_i_x"].to_numpy(), pairs["_i_y"].to_numpy()
    found = np.zeros(len(pairs), bool)
    out: dict = {"true_pairs": len(pairs), "per_rule": {}}
    for col in keys.columns:
        k = keys[col].to_numpy(object)
        ka, kb = k[a], k[b]
        hit = np.array([x is not None and x == y for x, y in zip(ka, kb, strict=True)], bool)
        out["per_rule"][col.removeprefix("bk_")] = float(hit.mean())
        found |= hit
    out["combined"] = float(found.mean())
    return out
