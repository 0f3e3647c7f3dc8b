"""A household table's columns: what they mean (:class:`TableSpec`), and how each becomes a
feature, the label or the time of a row (see :mod:`training.table` for the rules).

Example:
    >>> frame = pd.DataFrame({"n": ["1", "2", ""] * 2, "c": ["p", "q", "q"] * 2})
    >>> X, info = feature_matrix(frame, exclude=[])
    >>> info["numeric"], info["categorical"]
    (['n'], {'c': 2})
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.errors import ConfigError, DataContractError

MAX_LEVELS = 50
NUMERIC_SHARE = 0.8
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "#n/a"})
"""Text read as a missing value (compared in lower case, after stripping spaces)."""


@dataclass(frozen=True)
class TableSpec:
    """What the columns mean. ``positive``: the label classes that count as hardship."""

    label: str
    id_col: str
    time: str | None = None
    groups: tuple[str, ...] = ()
    positive: tuple[str, ...] | None = None


def parse_positive(text: str | None) -> tuple[str, ...] | None:
    """``"a, b"`` -> ``("a", "b")``; None stays None."""
    if text is None:
        return None
    values = tuple(v.strip() for v in text.split(",") if v.strip())
    if not values:
        raise ConfigError("--positive names no class")
    return values


def load_table(path: Path, encoding: str = "auto") -> pd.DataFrame:
    """The table as a frame (CSV values as text, Parquet with its own types); refuses a missing,
    unreadable, 0-byte or row-less file with one line."""
    from features.ingest import read_table

    return read_table(path, encoding)


def as_text(col: pd.Series) -> pd.Series:
    """Values as stripped text (integral floats without ``.0``, bools as true/false), missing
    values and :data:`MISSING_TOKENS` as None."""

    def one(v: Any) -> str | None:
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return None
        if isinstance(v, bool | np.bool_):
            return "true" if v else "false"
        if isinstance(v, float | np.floating) and float(v).is_integer():
            return str(int(v))
        text = str(v).strip()
        return None if text.lower() in MISSING_TOKENS else text

    return col.astype(object).map(one)


def _numbers(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Text parsed as finite floats (NaN where missing) and a mask of values that are not."""
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    bad = text.notna().to_numpy() & ~np.isfinite(values)
    return np.where(bad, np.nan, values), bad


def _is_dates(text: pd.Series) -> bool:
    """Whether every present value is an ISO date (``2024-01-31``, ``2024-01-31T08:00``)."""
    present = text.dropna()
    if present.empty or not present.str.match(r"^\d{4}-\d{2}").all():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bool(pd.to_datetime(present, errors="coerce", format="ISO8601").notna().all())


def show_classes(values: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(values[:limit])
    return shown + (", ..." if len(values) > limit else "")


def first_row(frame: pd.DataFrame, mask: np.ndarray) -> int:
    """1-based data row (in the file) of the first flagged value."""
    return int(frame.index[np.flatnonzero(mask)[0]]) + 1


def feature_matrix(frame: pd.DataFrame, exclude: Sequence[str]) -> tuple[pd.DataFrame, dict]:
    """The model input (float64 and ``category`` columns) and a description of every column.

    Raises:
        DataContractError: a mostly numeric column holds values that are not numbers.
    """
    out: dict[str, pd.Series] = {}
    info: dict[str, Any] = {"numeric": [], "categorical": {}, "dropped": []}
    for name in frame.columns:
        if name in exclude:
            continue
        col = frame[name]
        if pd.api.types.is_datetime64_any_dtype(col):
            info["dropped"].append({"column": name, "reason": "dates are not used as features"})
            continue
        if pd.api.types.is_numeric_dtype(col):
            values = pd.Series(col.to_numpy(dtype=float, na_value=np.nan), index=frame.index)
        else:
            text = as_text(col)
            n = int(text.notna().sum())
            numbers, bad = _numbers(text)
            if n and not bad.any():
                values = pd.Series(numbers, index=frame.index)
            elif n and 1 - bad.sum() / n >= NUMERIC_SHARE:
                raise DataContractError(
                    f"column '{name}' is numeric but {int(bad.sum())} of {n} values are not "
                    f"numbers (first in data row {first_row(frame, bad)}); fix them or leave "
                    "them empty"
                )
            elif _is_dates(text):
                info["dropped"].append({"column": name, "reason": "dates are not used as features"})
                continue
            else:
                levels = sorted(text.dropna().unique())
                if len(levels) > MAX_LEVELS:
                    info["dropped"].append(
                        {"column": name, "reason": f"text with {len(levels)} levels "
                         f"(more than {MAX_LEVELS})"}
                    )  # fmt: skip
                    continue
                values = pd.Series(pd.Categorical(text, categories=levels), index=frame.index)
        if values.nunique(dropna=True) < 2:
            info["dropped"].append({"column": name, "reason": "fewer than two distinct values"})
            continue
        out[name] = values
        if values.dtype == "category":
            info["categorical"][name] = len(values.cat.categories)
        else:
            info["numeric"].append(name)
    if not out:
        raise DataContractError("the table has no usable feature column")
    return pd.DataFrame(out, index=frame.index), info


def binary_label(frame: pd.DataFrame, spec: TableSpec) -> tuple[pd.Series, list[str]]:
    """The label as 1.0 / 0.0 (NaN where missing) and the classes seen."""
    text = as_text(frame[spec.label])
    classes = sorted(text.dropna().unique())
    if spec.positive is not None:
        for p in spec.positive:
            if p not in classes:
                raise ConfigError(
                    f"--positive '{p}' is not a class of label '{spec.label}' "
                    f"(classes: {show_classes(classes)})"
                )
        y = text.isin(spec.positive).astype(float)
    else:
        numbers, bad = _numbers(text)
        lower = {c.lower() for c in classes}
        if not bad.any() and set(np.unique(numbers[~np.isnan(numbers)])) <= {0.0, 1.0}:
            y = pd.Series(numbers, index=frame.index)
        elif lower <= {"true", "false"}:
            y = (text.str.lower() == "true").astype(float)
        else:
            raise ConfigError(
                f"label '{spec.label}' has {len(classes)} classes ({show_classes(classes)}), "
                "not 0/1 or true/false; name the hardship classes with --positive"
            )
    return y.where(text.notna()), classes


def time_keys(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, str]:
    """Sortable keys (floats) of the time column and its kind (``number`` or ``date``)."""
    col = frame[column]
    if pd.api.types.is_datetime64_any_dtype(col):
        keys, kind = col.to_numpy(dtype="datetime64[ns]").astype("int64").astype(float), "date"
        keys[col.isna().to_numpy()] = np.nan
    elif pd.api.types.is_numeric_dtype(col):
        keys, kind = col.to_numpy(dtype=float, na_value=np.nan), "number"
    else:
        text = as_text(col)
        keys, bad = _numbers(text)
        kind = "number"
        if bad.any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                days = pd.to_datetime(text, errors="coerce", format="ISO8601")
                if days.isna().sum() > text.isna().sum():
                    days = pd.to_datetime(text, errors="coerce", format="mixed")
            kind = "date"
            keys = days.to_numpy(dtype="datetime64[ns]").astype("int64").astype(float)
            bad = text.notna().to_numpy() & days.isna().to_numpy()
            keys[days.isna().to_numpy()] = np.nan
            if bad.any():
                raise DataContractError(
                    f"--time column '{column}': {int(bad.sum())} values are neither dates nor "
                    f"numbers (first in data row {first_row(frame, bad)})"
                )
    missing = np.isnan(keys)
    if missing.any():
        raise DataContractError(
            f"--time column '{column}' is empty in {int(missing.sum())} labelled rows "
            f"(first in data row {first_row(frame, missing)})"
        )
    return keys, kind


def show_time(key: float, kind: str) -> str | float:
    return str(pd.Timestamp(int(key)).date()) if kind == "date" else float(key)
