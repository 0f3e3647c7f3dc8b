"""Every feature in snapshot-column order, and the look-ups over them.

Example:
    >>> reason("serious_illness_members_12m", 2, "en")
    '2 members had claims for a serious illness in the last 12 months'
"""

from __future__ import annotations

from features.vectors.catalogue import (
    area,
    arrears,
    assets,
    assistance,
    disability,
    illness,
    income,
    linkage,
    medical,
    phrases,
    school,
    structure,
    unemployment,
    visits,
)
from features.vectors.catalogue.declaration import Feature

_MODULES = (
    illness, disability, school, unemployment, income, medical, structure, assets, assistance,
    visits, arrears, area, linkage,
)  # fmt: skip

FEATURES: tuple[Feature, ...] = tuple(f for m in _MODULES for f in m.FEATURES)
"""Every feature, by group in ``GROUPS`` order: the column order of a snapshot."""

_BY_NAME = {f.name: f for f in FEATURES}


def feature(name: str) -> Feature:
    """The feature called ``name``.

    Raises:
        KeyError: no such feature.
    """
    return _BY_NAME[name]


def feature_names() -> list[str]:
    """Every feature name, in registry (and snapshot column) order."""
    return [f.name for f in FEATURES]


def reason(name: str, value: object, lang: str = "zh") -> str:
    """The reason phrase of a feature at a value, in ``zh`` or ``en``.

    Bool features use their true or false phrase; a count or amount of nothing its zero phrase
    (when declared); a missing value its missing phrase, else "<label>: no record". Values are
    read the way a caseworker says them (:mod:`.phrases`): 本月 / 上个月 / N 个月前, 1 member /
    2 members, ¥1,234.

    Example:
        >>> reason("elderly_living_alone", True, "zh")
        '独居老人户（一人户且年满60岁）'
        >>> reason("months_since_arrears", 0, "zh")
        '本月有水电燃气欠费'
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"unknown language {lang!r} (zh or en)")
    f = feature(name)
    zh = lang == "zh"
    if value is None or (isinstance(value, float) and value != value):
        none = f.reason_zh_none if zh else f.reason_en_none
        if none:
            return none
        return f"{f.zh}：无记录" if zh else f"{f.en}: no record"
    if f.dtype == "bool":
        if bool(value):
            return f.reason_zh if zh else f.reason_en
        return f.reason_zh_false if zh else f.reason_en_false
    if f.dtype == "int":
        value = int(value)  # type: ignore[call-overload]
    elif f.dtype == "float":
        value = float(value)  # type: ignore[arg-type]
    zero = f.reason_zh_zero if zh else f.reason_en_zero
    if zero and _reads_as_zero(f, value):
        return zero
    return phrases.render(f.reason_zh if zh else f.reason_en, value, lang)


_EXACT_UNITS = ("ratio", "share", "probability")


def _reads_as_zero(f: Feature, value: object) -> bool:
    """Whether the value is nothing as shown: exactly 0 for ratios, else rounding to 0."""
    if f.unit in _EXACT_UNITS:
        return value == 0
    return phrases.is_zero(value)


def is_context(name: str) -> bool:
    """Whether a feature's reason only describes history (shown as context, not a cause);
    False for a name outside the catalogue."""
    found = _BY_NAME.get(name)
    return bool(found and found.context)


def registry_json() -> list[dict]:
    """The registry as plain data (stored in every snapshot's Parquet metadata)."""
    return [
        {
            "name": f.name,
            "dtype": f.dtype,
            "unit": f.unit,
            "group": f.group,
            "window": f.window,
            "sources": list(f.sources),
            "nullable": f.nullable,
        }
        for f in FEATURES
    ]
