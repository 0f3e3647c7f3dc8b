"""How two records are compared: names and ID numbers made compare-ready, the Fellegi-Sunter
comparisons of each field, the blocking rules that pick candidate pairs, and the Splink settings
that join them.

Pure: settings dicts out, nothing run.
"""

from __future__ import annotations

import unicodedata

from core import idnumber


def normalize_name(name: str | None) -> str | None:
    """Compare-ready form of a recorded name: NFKC (full-width to half-width), no whitespace,
    Latin letters lower-cased. Chinese characters are kept as they are.

    >>> normalize_name("王　伟"), normalize_name(" Zhang  Wei ")
    ('王伟', 'zhangwei')
    """
    if name is None:
        return None
    s = "".join(unicodedata.normalize("NFKC", str(name)).split()).casefold()
    return s or None


def id_corrections(raw: str) -> list[str]:
    """Every valid 18-character ID that ``raw`` (failing its check) may have been meant as: one
    digit away, keeping the check character, or with two adjacent characters swapped back.

    A single mistyped digit changes the weighted sum by a non-multiple of 11, so for each of the
    17 positions at most one digit restores the check: at most 17 candidates. Two adjacent,
    different digits swapped (weights ``w1 != w2``) move the sum by ``(w1 - w2)(b - a)``, never a
    multiple of 11 either, so such a number always fails its check too; swapping each adjacent
    pair back gives at most 17 more. Usually one or two of all these have a possible birth date.

    >>> "11010519491231002X" in id_corrections("11010519491231012X")
    True
    >>> "11010519491231002X" in id_corrections("11010519942131002X")
    False
    >>> "11010519491231002X" in id_corrections("11010591491231002X")
    True
    """
    text = str(raw).strip().upper()
    if len(text) != 18 or not text[:17].isdigit() or text[17] not in idnumber.CHECK_CHARS:
        return []
    digits = [int(c) for c in text[:17]]
    total = sum(w * d for w, d in zip(idnumber.WEIGHTS, digits, strict=True))
    want = idnumber.CHECK_CHARS.index(text[17])  # the remainder the check character stands for
    cands = []
    for pos, (w, a) in enumerate(zip(idnumber.WEIGHTS, digits, strict=True)):
        # solve total + w * (d - a) = want (mod 11) for the digit d
        d = (a + (want - total) * pow(w, -1, 11)) % 11
        if d == a or d > 9:
            continue
        cands.append(text[:pos] + str(d) + text[pos + 1 :])
    for pos in range(17):  # two adjacent characters swapped back (the check character too)
        if text[pos] != text[pos + 1] and text[pos + 1] in "0123456789":
            cands.append(text[:pos] + text[pos + 1] + text[pos] + text[pos + 2 :])
    out = []
    for cand in dict.fromkeys(cands):
        if idnumber.normalize(cand).raw_status is idnumber.IdStatus.VALID:
            out.append(cand)
    return out


def _level(sql: str, label: str, **kw) -> dict:
    return {"sql_condition": sql, "label_for_charts": label, **kw}


def _null(col: str) -> dict:
    return _level(f'"{col}_l" IS NULL OR "{col}_r" IS NULL', "null", is_null_level=True)


def comparisons(fields: set[str]) -> list[dict]:
    """Fellegi-Sunter comparisons of the fields present (Splink settings dicts).

    The m-probabilities given here are starting values, used as they are only where the data
    cannot train them (a small table without IDs); training replaces them.
    """
    out = []
    if "id" in fields:
        has_l = '("person_key_l" IS NOT NULL OR "id_fix_l" IS NOT NULL)'
        has_r = '("person_key_r" IS NOT NULL OR "id_fix_r" IS NOT NULL)'
        out.append(
            {
                "output_column_name": "id",
                "comparison_description": "usable ID numbers, or the single-digit correction "
                "of one failing its check character",
                "comparison_levels": [
                    _level(f"NOT ({has_l} AND {has_r})", "nothing to compare", is_null_level=True),
                    _level(
                        '"person_key_l" = "person_key_r" OR "person_key_l" = "id_fix_r" '
                        'OR "id_fix_l" = "person_key_r" OR "id_fix_l" = "id_fix_r"',
                        "same ID (or corrected ID)",
                        m_probability=0.95,
                        u_probability=1e-7,
                        fix_m_probability=True,
                        fix_u_probability=True,
                    ),
                    _level(
                        "ELSE",
                        "different ID",
                        m_probability=0.05,
                        u_probability=1.0 - 1e-7,
                        fix_m_probability=True,
                        fix_u_probability=True,
                    ),
                ],
            }
        )
    if "name" in fields:
        out.append(
            {
                "output_column_name": "name",
                "comparison_levels": [
                    _null("name_norm"),
                    _level(
                        '"name_norm_l" = "name_norm_r"',
                        "exact",
                        tf_adjustment_column="name_norm",
                        tf_adjustment_weight=1.0,
                        m_probability=0.9,
                    ),
                    _level(
                        '"name_py_l" = "name_py_r"',
                        "same pinyin (homophones)",
                        m_probability=0.05,
                    ),
                    _level(
                        'levenshtein("name_norm_l", "name_norm_r") <= 1',
                        "one character (a look-alike, a placeholder, a traditional form)",
                        m_probability=0.03,
                    ),
                    _level(
                        'damerau_levenshtein("name_norm_l", "name_norm_r") <= 2 '
                        'OR jaro_winkler_similarity("name_py_l", "name_py_r") >= 0.92',
                        "close (two characters, or pinyin Jaro-Winkler >= 0.92)",
                        m_probability=0.01,
                    ),
                    _level("ELSE", "different", m_probability=0.01),
                ],
            }
        )
    if "birth_date" in fields:
        out.append(
            {
                "output_column_name": "birth_date",
                "comparison_levels": [
                    _null("birth_date"),
                    _level(
                        '"birth_date_l" = "birth_date_r"',
                        "exact",
                        tf_adjustment_column="birth_date",
                        tf_adjustment_weight=1.0,
                        m_probability=0.95,
                    ),
                    _level(
                        'year("birth_date_l") = year("birth_date_r") '
                        'AND month("birth_date_l") = day("birth_date_r") '
                        'AND day("birth_date_l") = month("birth_date_r")',
                        "day and month swapped",
                        m_probability=0.01,
                    ),
                    _level(
                        "date_trunc('month', \"birth_date_l\") "
                        "= date_trunc('month', \"birth_date_r\")",
                        "same month (a day set to the 1st)",
                        m_probability=0.01,
                    ),
                    _level(
                        'abs(datediff(\'day\', "birth_date_l", "birth_date_r")) <= 60',
                        "within 60 days (a lunar date)",
                        m_probability=0.01,
                    ),
                    _level(
                        'year("birth_date_l") = year("birth_date_r")',
                        "same year",
                        m_probability=0.01,
                    ),
                    _level("ELSE", "different", m_probability=0.01),
                ],
            }
        )
    if "sex" in fields:
        out.append(
            {
                "output_column_name": "sex",
                "comparison_levels": [
                    _null("sex"),
                    _level('"sex_l" = "sex_r"', "same", m_probability=0.98),
                    _level("ELSE", "different", m_probability=0.02),
                ],
            }
        )
    if "address" in fields:
        out.append(
            {
                "output_column_name": "address",
                "comparison_levels": [
                    _null("address"),
                    _level('"address_l" = "address_r"', "same code", m_probability=0.85),
                    _level(
                        'left("address_l", 9) = left("address_r", 9)',
                        "same township",
                        m_probability=0.1,
                    ),
                    _level("ELSE", "different", m_probability=0.05),
                ],
            }
        )
    if "entity_key" in fields:
        out.append(
            {
                "output_column_name": "entity_key",
                "comparison_levels": [
                    _null("entity_key"),
                    _level(
                        '"entity_key_l" = "entity_key_r"',
                        "same case / certificate",
                        m_probability=0.7,
                    ),
                    _level("ELSE", "different", m_probability=0.3),
                ],
            }
        )
    return out


def blocking_rules(fields: set[str], pair_filter: str = "") -> list[dict]:
    """Blocking rules over the fields present; ``pair_filter`` restricts which pairs count."""
    cand = []
    if "id" in fields:
        cand += [["person_key|id_fix"], ["id_fix"]]
    if {"name", "birth_date"} <= fields:
        cand.append(["name_norm", "birth_date"])
    if {"name", "address"} <= fields:
        cand.append(["name_norm", "address"])
    if {"birth_date", "address"} <= fields:
        cand.append(["birth_date", "address"])
    if {"entity_key", "name"} <= fields:
        cand.append(["entity_key", "surname"])
    if {"birth_date", "sex", "name"} <= fields:
        cand.append(["birth_date", "surname", "sex"])
    if fields == {"name"} or not cand:
        cand.append(["name_norm"])
    rules = []
    for cols in cand:
        parts = []
        for c in cols:
            if "|" in c:
                a, b = c.split("|")
                parts.append(f'l."{a}" = r."{b}"')
            else:
                parts.append(f'l."{c}" = r."{c}"')
        sql = " AND ".join(parts) + (f" AND {pair_filter}" if pair_filter else "")
        rules.append({"blocking_rule": sql, "sql_dialect": "duckdb"})
    return rules


def splink_settings(
    fields: set[str], prior: float, pair_filter: str = "", retain: list[str] = ()
) -> dict:
    """The Splink settings (``dedupe_only``) of the fields present, before training."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": prior,
        "blocking_rules_to_generate_predictions": blocking_rules(fields, pair_filter),
        "comparisons": comparisons(fields),
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": False,
        "additional_columns_to_retain": list(retain),
        "em_convergence": 0.001,
    }
