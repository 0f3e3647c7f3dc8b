"""Labels for ``link --table --labels FILE``: which records are (or are not) the same person.

A labels file (CSV or XLSX) is either
- **pairs**: columns ``record_l``, ``record_r`` and ``match`` (1/0, yes/no, y/n, true/false,
  是/否; an empty mark is skipped) — the clerical-review file of ``--review`` once marked; or
- **clusters**: columns ``record`` and ``cluster`` (records with one cluster value are one
  person, every other labelled pair is two).

Records are numbered as in the output: 0, 1, ... in the order of the rows (the first table's
rows, then the second's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import ConfigError, DataContractError

_YES = {"1", "1.0", "yes", "y", "true", "t", "是", "match", "same"}
_NO = {"0", "0.0", "no", "n", "false", "f", "否", "non-match", "different"}


@dataclass
class Labels:
    """Marked pairs (matches and non-matches) or cluster labels, by record number."""

    matches: list[tuple[int, int]] = field(default_factory=list)
    apart: list[tuple[int, int]] = field(default_factory=list)
    clusters: dict[int, str] | None = None

    def label_column(self, n: int) -> pd.Series:
        """A cluster label per record (null where unlabelled), for training m."""
        out = pd.Series([None] * n, dtype=object)
        if self.clusters is not None:
            for rec, lab in self.clusters.items():
                out[rec] = f"c{lab}"
            return out
        parent = {}

        def find(x: int) -> int:
            parent.setdefault(x, x)
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for a, b in self.matches:
            ra, rb = find(a), find(b)
            parent[max(ra, rb)] = min(ra, rb)
        for rec in parent:
            out[rec] = f"m{find(rec)}"
        return out

    def non_matches(self) -> set[tuple[int, int]]:
        """Pairs marked as two persons (pair labels only)."""
        return set(self.apart)

    def counts(self) -> dict[str, int | str]:
        """What the labels hold, for the audit row: their kind and how many (no record)."""
        if self.clusters is not None:
            return {"kind": "clusters", "records": len(self.clusters)}
        return {"kind": "pairs", "matches": len(self.matches), "non_matches": len(self.apart)}

    def marked_pairs(self) -> pd.DataFrame:
        """Every marked pair with its mark (pair labels only)."""
        rows = [(a, b, True) for a, b in self.matches] + [(a, b, False) for a, b in self.apart]
        return pd.DataFrame(rows, columns=["a", "b", "match"])


def read_labels(path: Path, n_records: int) -> Labels:
    """Read a labels file.

    Raises:
        ConfigError: the file is missing or not CSV/XLSX.
        DataContractError: it has neither the pair nor the cluster columns, or names a record
            that does not exist.
    """
    if not path.is_file():
        raise ConfigError(f"--labels {path} is not a file")
    try:
        if path.suffix == ".xlsx":
            frame = pd.read_excel(path, dtype=str)
        elif path.suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        else:
            raise ConfigError("--labels must be a .csv or .xlsx file")
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        what = type(exc).__name__
        raise DataContractError(f"--labels {path.name}: cannot be read ({what})") from None
    cols = set(frame.columns)
    if {"record_l", "record_r", "match"} <= cols:
        labels = Labels()
        for a, b, mark in zip(frame["record_l"], frame["record_r"], frame["match"], strict=True):
            text = str(mark).strip().lower() if mark is not None else ""
            if text in ("", "nan", "none"):
                continue
            if text not in _YES | _NO:
                raise DataContractError(f"--labels {path.name}: a match mark '{mark}' is not 1/0")
            pair = (_record(a, n_records, path), _record(b, n_records, path))
            (labels.matches if text in _YES else labels.apart).append(pair)
        return labels
    if {"record", "cluster"} <= cols:
        clusters = {
            _record(r, n_records, path): str(c).strip()
            for r, c in zip(frame["record"], frame["cluster"], strict=True)
            if str(c).strip() not in ("", "nan", "None")
        }
        return Labels(clusters=clusters)
    raise DataContractError(
        f"--labels {path.name}: needs columns record_l,record_r,match or record,cluster"
    )


def _record(value: object, n: int, path: Path) -> int:
    try:
        rec = int(float(str(value).strip()))
    except ValueError:
        raise DataContractError(f"--labels {path.name}: '{value}' is not a record number") from None
    if not 0 <= rec < n:
        raise DataContractError(f"--labels {path.name}: record {rec} is not in the table(s)")
    return rec


def force_labels(pairs: pd.DataFrame, labels: Labels | None) -> pd.DataFrame:
    """The scored pairs with marked pairs set to what they were marked (1 / 0), marked matches
    that no rule found added."""
    if labels is None or labels.clusters is not None or not (labels.matches or labels.apart):
        return pairs
    marks = labels.marked_pairs()
    lo = np.minimum(marks["a"], marks["b"]).to_numpy(np.int64)
    hi = np.maximum(marks["a"], marks["b"]).to_numpy(np.int64)
    mark = pd.Series(np.where(marks["match"], 1.0, 0.0), index=pd.MultiIndex.from_arrays([lo, hi]))
    mark = mark[~mark.index.duplicated(keep="last")]
    out = pairs.copy()
    idx = pd.MultiIndex.from_arrays([out["uid_l"].to_numpy(), out["uid_r"].to_numpy()])
    hit = idx.isin(mark.index)
    out.loc[hit, "match_probability"] = mark.reindex(idx[hit]).to_numpy()
    missing = mark[(mark == 1.0) & ~mark.index.isin(idx)]
    if len(missing):
        add = pd.DataFrame(
            {
                "uid_l": missing.index.get_level_values(0).astype(np.int64),
                "uid_r": missing.index.get_level_values(1).astype(np.int64),
                "match_weight": np.inf,
                "match_probability": 1.0,
            }
        )
        out = pd.concat([out, add], ignore_index=True)
    return out
