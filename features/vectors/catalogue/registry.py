"""Every feature in snapshot-column order, and the look-ups over them.

Example:
    >>> reason("serious_illness_members_12m", 2, "en")
    '2 member(s) had claims for a serious illness in the last 12 months'
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

    Bool features use their true or false phrase; a missing value says so.

    Example:
        >>> reason("elderly_living_alone", True, "zh")
        '独居老人户（一人户且年满60岁）'
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"unknown language {lang!r} (zh or en)")
    f = feature(name)
    zh = lang == "zh"
    if value is None or (isinstance(value, float) and value != value):
        return f"{f.zh}：无记录" if zh else f"{f.en}: no record"
    if f.dtype == "bool":
        if bool(value):
            return f.reason_zh if zh else f.reason_en
        return f.reason_zh_false if zh else f.reason_en_false
    if f.dtype == "int":
        value = int(value)  # type: ignore[call-overload]
    elif f.dtype == "float":
        value = float(value)  # type: ignore[arg-type]
    return (f.reason_zh if zh else f.reason_en).format(value=value)


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
