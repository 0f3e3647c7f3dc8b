"""Masked identifiers for caseworkers: the household head's masked name, from the warehouse.

The service database holds no name and no ID number. The warehouse (``features.warehouse``)
keeps names in ``person_records`` and ID numbers only as keyed hashes (``person_key``; a raw ID
is kept only when it could not be normalized, as evidence for linkage). So:

- **name**: the head of household's name as of a date (the most frequent spelling over the
  head's linked records), masked by :func:`core.idnumber.mask_name` ("王*") before it
  leaves this module; the clear name is never cached, logged or returned;
- **ID number**: not available in clear anywhere, so the masked ID is always ``None`` (the
  API omits it); an unnormalizable raw ID is never shown, even masked.

Lookups open the DuckDB file read-only for the duration of one query (a long-lived handle would
block ``outreach ingest``), and masked names are cached per (as-of date, household).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from core.idnumber import mask_name
from features.linkage.households import JOIN_EVENTS, date_literal

_CHUNK = 500


def _head_names_sql(as_of: dt.date, n: int) -> str:
    d = date_literal(as_of)
    joins = ", ".join(f"'{e}'" for e in JOIN_EVENTS)
    marks = ", ".join("?" for _ in range(n))
    return f"""
        WITH cand AS (SELECT DISTINCT person_id FROM memberships WHERE household_id IN ({marks})),
        latest AS (
            SELECT m.person_id, m.household_id, m.relation, m.event, ROW_NUMBER() OVER (
                PARTITION BY m.person_id
                ORDER BY m.event_date DESC, m.recorded_date DESC, m.record_id DESC) AS rn
            FROM memberships m JOIN cand c ON c.person_id = m.person_id
            WHERE m.event_date <= {d} AND m.recorded_date <= {d} AND m.evidence_date <= {d})
        SELECT l.household_id, pr.name
        FROM latest l
        JOIN links k ON k.person_id = l.person_id
        JOIN person_records pr ON pr.agency = k.agency AND pr.record_id = k.record_id
        WHERE l.rn = 1 AND l.event IN ({joins}) AND l.relation = 'head'
          AND pr.name IS NOT NULL AND pr.recorded_date <= {d}
    """


class NameBook:
    """Masked head-of-household names looked up in the warehouse (see the module docstring).

    Args:
        warehouse_path: the DuckDB file; when it does not exist every name is ``None``.
    """

    def __init__(self, warehouse_path: Path) -> None:
        self.warehouse_path = warehouse_path
        self._cache: dict[tuple[dt.date, str], str | None] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget cached masked names (called when a new run completes)."""
        with self._lock:
            self._cache.clear()

    def masked_names(self, household_ids: Iterable[str], as_of: dt.date) -> dict[str, str | None]:
        """Masked head names (``None`` when unknown) of the given households as of a date."""
        ids = list(dict.fromkeys(household_ids))
        with self._lock:
            missing = [h for h in ids if (as_of, h) not in self._cache]
        if missing:
            found = self._lookup(missing, as_of)
            with self._lock:
                for h in missing:
                    self._cache[(as_of, h)] = found.get(h)
        with self._lock:
            return {h: self._cache.get((as_of, h)) for h in ids}

    def _lookup(self, ids: list[str], as_of: dt.date) -> dict[str, str]:
        if not self.warehouse_path.exists():
            return {}
        import duckdb

        counts: dict[str, Counter[str]] = {}
        try:
            con = duckdb.connect(str(self.warehouse_path), read_only=True)
        except duckdb.Error:  # locked by a writer (ingest/link running): names left out
            return {}
        try:
            for i in range(0, len(ids), _CHUNK):
                part = ids[i : i + _CHUNK]
                for hid, name in con.execute(_head_names_sql(as_of, len(part)), part).fetchall():
                    counts.setdefault(hid, Counter())[name] += 1
        except duckdb.Error:  # a warehouse without linkage tables: names left out
            return {}
        finally:
            con.close()
        out = {}
        for hid, names in counts.items():
            best = min(names.items(), key=lambda kv: (-kv[1], kv[0]))[0]
            out[hid] = mask_name(best) or None
        return out


_LONG_DECIMAL = re.compile(r"(?<![\d.])(\d+\.\d{7,})(?![\d.])")


def shorten_decimals(text: str) -> str:
    """Round decimals with more than 6 places (model cards and metrics print raw floats such as
    0.037037037037037035, whose digit runs look like ID numbers to any scan or export)."""
    return _LONG_DECIMAL.sub(lambda m: repr(round(float(m.group(1)), 6)), text)
