"""``link --table`` input: the ``--map`` read, and any person table turned into the standard
columns the blocking rules and comparisons use (names in parts and in pinyin, dates as year /
month / day, sex codes, addresses, identifiers of the right kind, other attributes).

Nothing is dropped: a value that cannot be read becomes null, and a row with no usable field
at all is kept (it becomes a singleton, counted in the notes).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core import idnumber
from core.errors import ConfigError
from features.linkage import names

TABLE_FIELDS = ("name", "given", "family", "birth_date", "sex", "address", "id", "other")
"""The fields ``--map`` can name (``other`` any number of times)."""
IDENTIFYING = ("name", "given", "family", "birth_date", "id")
"""At least one of these must be mapped; a row with none of them usable is a singleton."""
RESIDENT_SHARE = 0.5
"""An ``id`` column is read as Chinese resident IDs when at least this share of its values has
their shape (18 characters, or 15 digits); otherwise its values are compared as plain text."""
_RESIDENT_SHAPE = re.compile(r"^(\d{17}[\dX]|\d{15})$")


@dataclass(frozen=True)
class TableMap:
    """Which column holds which field; ``other`` keeps its columns in ``--map`` order."""

    fields: dict[str, str]
    other: tuple[str, ...] = ()

    def columns(self) -> list[str]:
        """Every mapped column."""
        return [*self.fields.values(), *self.other]


def parse_map(text: str, columns: list[str]) -> TableMap:
    """``name=COL,birth_date=COL,other=COL,...`` checked against the table's columns.

    Raises:
        ConfigError: an unknown field, a missing column, a field given twice (but ``other``),
            ``name`` together with ``given``/``family``, or none of the identifying fields.
    """
    fields: dict[str, str] = {}
    other: list[str] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        field_, sep, col = part.partition("=")
        field_, col = field_.strip(), col.strip()
        if not sep or not col:
            raise ConfigError(f"--map entry '{part}' is not FIELD=COLUMN")
        if field_ not in TABLE_FIELDS:
            raise ConfigError(f"--map field '{field_}' is unknown; use {', '.join(TABLE_FIELDS)}")
        if col not in columns:
            raise ConfigError(f"--map column '{col}' is not in the table")
        if field_ == "other":
            if col not in other:
                other.append(col)
            continue
        if field_ in fields:
            raise ConfigError(f"--map gives '{field_}' twice")
        fields[field_] = col
    if "name" in fields and fields.keys() & {"given", "family"}:
        raise ConfigError("--map takes name= or given=/family=, not both")
    if not fields.keys() & set(IDENTIFYING):
        raise ConfigError("--map needs at least one of name, given, family, birth_date, id")
    return TableMap(fields, tuple(other))


def _by_value(values: pd.Series, fn: Callable) -> pd.Series:
    """``fn`` applied once per distinct value (registers repeat names and dates a lot)."""
    text = [None if _missing(v) else (v if isinstance(v, str) else str(v)) for v in values]
    table = {u: fn(u) for u in set(text) if u is not None}
    return pd.Series([None if v is None else table[v] for v in text], dtype=object)


def _cat(a, b) -> str | None:
    return ("" if _missing(a) else a) + ("" if _missing(b) else b) or None


def _missing(v: object) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float) and v != v


def _names(frame: pd.DataFrame, m: TableMap, out: pd.DataFrame) -> None:
    f = m.fields
    if "name" in f:
        cleaned = _by_value(frame[f["name"]], names.clean)
        parts = _by_value(cleaned, names.split_name)
        fam = parts.map(lambda p: None if p is None else p[0])
        giv = parts.map(lambda p: None if p is None else p[1])
    else:
        fam = _by_value(frame[f["family"]], names.clean) if "family" in f else None
        giv = _by_value(frame[f["given"]], names.clean) if "given" in f else None
        n = len(frame)
        fam = fam if fam is not None else pd.Series([None] * n, dtype=object)
        giv = giv if giv is not None else pd.Series([None] * n, dtype=object)
        fam = _by_value(fam, lambda v: "".join(names.fold_latin(v).split()) or None)
        giv = _by_value(giv, lambda v: "".join(names.fold_latin(v).split()) or None)
    if "name" in f:
        fam = _by_value(fam, lambda v: "".join(names.fold_latin(v).split()) or None)
        giv = _by_value(giv, lambda v: "".join(names.fold_latin(v).split()) or None)
    out["family"] = fam.to_numpy(object)
    out["given"] = giv.to_numpy(object)
    out["name_norm"] = [_cat(a, b) for a, b in zip(fam, giv, strict=True)]
    out["family_py"] = _by_value(out["family"], names.pinyin).to_numpy(object)
    out["given_py"] = _by_value(out["given"], names.pinyin).to_numpy(object)
    out["name_py"] = [_cat(a, b) for a, b in zip(out["family_py"], out["given_py"], strict=True)]
    out["family_ph"] = _by_value(out["family"], names.phonetic).to_numpy(object)
    out["given_ph"] = _by_value(out["given"], names.phonetic).to_numpy(object)
    out["han"] = _by_value(out["name_norm"], lambda v: names.han_share(v) >= 0.5).to_numpy(object)


def _dates(values: pd.Series, out: pd.DataFrame, notes: dict) -> None:
    parts = _by_value(values, names.parse_date)
    ymd = np.array([p if p is not None else (None, None, None) for p in parts], dtype=object)
    for i, col in enumerate(("birth_year", "birth_month", "birth_day")):
        out[col] = pd.array([v[i] for v in ymd], dtype="Int64")
    full = out["birth_day"].notna()
    out["birth_text"] = None
    out.loc[full, "birth_text"] = (
        out.loc[full, "birth_year"].astype(str)
        + out.loc[full, "birth_month"].astype(str).str.zfill(2)
        + out.loc[full, "birth_day"].astype(str).str.zfill(2)
    )
    recorded = values.notna() & (values.astype(str).str.strip() != "")
    notes["unreadable_birth_dates"] = int((recorded & out["birth_year"].isna()).sum())
    notes["birth_dates_year_only"] = int(
        (out["birth_year"].notna() & out["birth_month"].isna()).sum()
    )


def _clean_id(v: str) -> str | None:
    text = names.clean(v)
    return re.sub(r"[\s\-_/.]", "", text).upper() or None if text else None


def _ids(values: pd.Series, out: pd.DataFrame, notes: dict) -> None:
    cleaned = _by_value(values, _clean_id)
    present = cleaned.dropna()
    share = present.str.fullmatch(_RESIDENT_SHAPE.pattern).mean() if len(present) else 0.0
    resident = bool(share >= RESIDENT_SHARE)
    notes["id_kind"] = "resident ID" if resident else "plain identifier"
    if resident:
        norm = _by_value(cleaned, idnumber.normalize)
        status = norm.map(lambda x: None if x is None else x.raw_status)
        canon = norm.map(lambda x: None if x is None else x.value)
        out["id_valid"] = canon.to_numpy(object)
        # a number that fails its check is compared as typed (a digit off, two swapped)
        out["id_text"] = cleaned.where(canon.isna(), canon).to_numpy(object)
        notes["usable_ids"] = int(canon.notna().sum())
        notes["ids_failing_check"] = int((status == idnumber.IdStatus.BAD_CHECK).sum())
    else:
        out["id_valid"] = None
        out["id_text"] = cleaned.to_numpy(object)
        notes["usable_ids"] = 0


def _text(values: pd.Series) -> np.ndarray:
    return _by_value(values, lambda v: (names.clean(v) or "").replace(" ", "") or None).to_numpy(
        object
    )


def prepare(frame: pd.DataFrame, m: TableMap, source: int = 1) -> tuple[pd.DataFrame, dict]:
    """The standard columns of one table (one row per input row, in order) and its notes."""
    n = len(frame)
    frame = frame.reset_index(drop=True)
    out = pd.DataFrame({"source_table": np.full(n, source, np.int8)})
    out["source_row"] = np.arange(n, dtype=np.int64)
    notes: dict = {"rows": n, "fields": sorted(m.fields) + (["other"] if m.other else [])}
    f = m.fields
    if f.keys() & {"name", "given", "family"}:
        _names(frame, m, out)
    else:
        for col in ("family", "given", "name_norm", "family_py", "given_py", "name_py",
                    "family_ph", "given_ph", "han"):  # fmt: skip
            out[col] = None
    if "birth_date" in f:
        _dates(frame[f["birth_date"]], out, notes)
    else:
        for col in ("birth_year", "birth_month", "birth_day"):
            out[col] = pd.array([None] * n, dtype="Int64")
        out["birth_text"] = None
    out["sex"] = (
        _by_value(frame[f["sex"]], names.parse_sex).to_numpy(object) if "sex" in f else None
    )
    out["address"] = _text(frame[f["address"]]) if "address" in f else None
    if "id" in f:
        _ids(frame[f["id"]], out, notes)
    else:
        out["id_valid"] = out["id_text"] = None
    for i, col in enumerate(m.other, start=1):
        out[f"other_{i}"] = _text(frame[col])
    out = _as_objects(out)
    usable = out["name_norm"].notna() | out["birth_year"].notna() | out["id_text"].notna()
    out["usable"] = usable.to_numpy(bool)
    notes["rows_without_usable_field"] = int((~usable).sum())
    return out, notes


def _as_objects(out: pd.DataFrame) -> pd.DataFrame:
    """Text columns as plain objects with ``None`` for missing (pandas would infer its string
    type, with NaN, and the key code tests for ``None``)."""
    for c in out.columns:
        if out[c].dtype == "Int64" or c in ("source_table", "source_row"):
            continue
        col = out[c].astype(object)
        out[c] = pd.Series([None if _missing(v) else v for v in col], dtype=object, index=out.index)
    return out


def field_set(m: TableMap) -> set[str]:
    """The comparable fields a map gives (``name`` for any name column)."""
    out = {k for k in m.fields if k in ("birth_date", "sex", "address", "id")}
    if m.fields.keys() & {"name", "given", "family"}:
        out.add("name")
    out |= {f"other_{i}" for i in range(1, len(m.other) + 1)}
    return out
