"""Graded, null-aware comparisons for ``link --table`` (Splink settings dicts over the standard
columns of :mod:`features.linkage.table_prep`).

Each comparison's first level is *null* (either side unknown: no evidence either way); the last
is *different*. The m-probabilities given are starting values; training replaces them.
"""

from __future__ import annotations


def _lv(sql: str, label: str, m: float | None = None, **kw) -> dict:
    out = {"sql_condition": sql, "label_for_charts": label, **kw}
    if m is not None:
        out["m_probability"] = m
    return out


def _null(*cols: str) -> dict:
    cond = " OR ".join(f'"{c}_l" IS NULL OR "{c}_r" IS NULL' for c in cols)
    return _lv(cond, "null", is_null_level=True)


def _jw(col: str, at: float) -> str:
    return f'jaro_winkler_similarity("{col}_l", "{col}_r") >= {at}'


def _dl(col: str, at: int = 1) -> str:
    return f'damerau_levenshtein("{col}_l", "{col}_r") <= {at}'


NAME = {
    "output_column_name": "name",
    "comparison_description": "full name and its parts, in characters and in pinyin",
    "comparison_levels": [
        _null("name_py"),
        _lv(
            '"name_norm_l" = "name_norm_r"',
            "exact",
            0.8,
            tf_adjustment_column="name_norm",
            tf_adjustment_weight=1.0,
        ),
        _lv('"name_py_l" = "name_py_r"', "same pinyin (homophone, pinyin for a character)", 0.05),
        _lv('"family_l" = "given_r" AND "given_l" = "family_r"', "parts swapped", 0.02),
        _lv(
            f'"family_py_l" = "family_py_r" AND ({_jw("given_py", 0.9)} OR '
            f'(length("given_l") >= 2 AND {_dl("given")}))',
            "family same, given close",
            0.05,
        ),
        _lv(
            f'"given_py_l" = "given_py_r" AND ({_jw("family_py", 0.9)} OR {_dl("family")})',
            "given same, family close",
            0.03,
        ),
        _lv(_jw("name_py", 0.9), "close (Jaro-Winkler >= 0.9 in pinyin)", 0.02),
        _lv(
            '"family_py_l" = "family_py_r" OR "given_py_l" = "given_py_r" '
            'OR "family_py_l" = "given_py_r" OR "given_py_l" = "family_py_r"',
            "one part agrees",
            0.02,
        ),
        _lv("ELSE", "different", 0.01),
    ],
}

_DAY = '"birth_day_l" IS NOT NULL AND "birth_day_r" IS NOT NULL'
BIRTH = {
    "output_column_name": "birth_date",
    "comparison_description": "birth date with tolerance for the errors registers make",
    "comparison_levels": [
        _null("birth_year"),
        _lv(
            '"birth_text_l" = "birth_text_r"',
            "exact",
            0.8,
            tf_adjustment_column="birth_text",
            tf_adjustment_weight=1.0,
        ),
        _lv(
            f'{_DAY} AND "birth_year_l" = "birth_year_r" AND "birth_month_l" = "birth_day_r" '
            'AND "birth_day_l" = "birth_month_r"',
            "day and month swapped",
            0.03,
        ),
        _lv(_dl("birth_text"), "one digit off or two swapped", 0.04),
        _lv(
            '"birth_year_l" = "birth_year_r" AND "birth_month_l" = "birth_month_r"',
            "same month (day differs, missing or set to the 1st)",
            0.04,
        ),
        _lv(
            f'{_DAY} AND abs(datediff(\'day\', make_date("birth_year_l", "birth_month_l", '
            '"birth_day_l"), make_date("birth_year_r", "birth_month_r", "birth_day_r"))) <= 60',
            "within 60 days (lunar calendar date)",
            0.03,
        ),
        _lv('"birth_year_l" = "birth_year_r"', "same year (or only the year known)", 0.03),
        _lv('abs("birth_year_l" - "birth_year_r") = 1', "a year apart", 0.01),
        _lv("ELSE", "different", 0.02),
    ],
}

SEX = {
    "output_column_name": "sex",
    "comparison_levels": [
        _null("sex"),
        _lv('"sex_l" = "sex_r"', "same", 0.95),
        _lv("ELSE", "different", 0.05),
    ],
}

ADDRESS = {
    "output_column_name": "address",
    "comparison_description": "address or village code",
    "comparison_levels": [
        _null("address"),
        _lv(
            '"address_l" = "address_r"',
            "same",
            0.7,
            tf_adjustment_column="address",
            tf_adjustment_weight=1.0,
        ),
        _lv(
            'length("address_l") >= 9 AND regexp_full_match("address_l", \'[0-9]+\') '
            'AND left("address_l", 9) = left("address_r", 9)',
            "same township (division code)",
            0.1,
        ),
        _lv(_jw("address", 0.9), "close (Jaro-Winkler >= 0.9)", 0.1),
        _lv("ELSE", "different", 0.1),
    ],
}


def _id(resident: bool) -> dict:
    if resident:
        levels = [
            _null("id_text"),
            _lv('"id_valid_l" = "id_valid_r"', "same valid resident ID", 0.9),
            _lv(_dl("id_text"), "one digit off or two swapped", 0.08),
            _lv(
                '"id_valid_l" IS NOT NULL AND "id_valid_r" IS NOT NULL',
                "two valid IDs differ",
                0.005,
            ),
            _lv("ELSE", "different", 0.015),
        ]
    else:
        levels = [
            _null("id_text"),
            _lv('"id_text_l" = "id_text_r"', "same", 0.9),
            _lv(_dl("id_text"), "one character off or two swapped", 0.06),
            _lv("ELSE", "different", 0.04),
        ]
    what = "resident ID" if resident else "identifier as text"
    return {"output_column_name": "id", "comparison_levels": levels, "comparison_description": what}


def _other(i: int) -> dict:
    col = f"other_{i}"
    return {
        "output_column_name": col,
        "comparison_levels": [
            _null(col),
            _lv(f'"{col}_l" = "{col}_r"', "same", 0.8,
                tf_adjustment_column=col, tf_adjustment_weight=1.0),
            _lv(_jw(col, 0.9), "close (Jaro-Winkler >= 0.9)", 0.1),
            _lv("ELSE", "different", 0.1),
        ],
    }  # fmt: skip


def table_comparisons(fields: set[str], resident_ids: bool) -> list[dict]:
    """The comparisons of the fields present (``name``, ``birth_date``, ``sex``, ``address``,
    ``id``, ``other_1`` ...)."""
    out = []
    if "id" in fields:
        out.append(_id(resident_ids))
    if "name" in fields:
        out.append(NAME)
    if "birth_date" in fields:
        out.append(BIRTH)
    if "sex" in fields:
        out.append(SEX)
    if "address" in fields:
        out.append(ADDRESS)
    for f in sorted(x for x in fields if x.startswith("other_")):
        out.append(_other(int(f.removeprefix("other_"))))
    return out
