"""Retention in the warehouse and the raw deliveries (``outreach purge``; ``docs/privacy.md``).

What is past its period, as of ``today``, with ``cut = today - records_months``:

- agency records (``rec_<agency>``) recorded and in effect before the cut, with their personal
  identifiers (``person_records``: names, birth dates, unnormalizable raw ID numbers) and their
  links. Civil-registry records are kept while they give a person's household **as of the cut**
  (the person's latest membership row then): every household as of any date from the cut on is
  unchanged, and the next ``outreach link`` rebuilds the same memberships;
- memberships no longer needed for that (superseded before the cut);
- persons left with no record;
- the term frequencies the auditor pages read (``link_term_frequencies``) of the names and
  birth dates no record holds any more;
- quarantined rows (raw values, possibly an invalid ID number) older than ``quarantine_days``;
- delivery files under ``raw/agencies/<agency>/`` whose month ended before the cut. The
  ``deliveries`` table (checksums and counts, no personal data) is kept.

The rows go in one DuckDB transaction; when any went, the file is rewritten (``COPY FROM
DATABASE`` into a fresh file that replaces it), since DuckDB leaves deleted rows' bytes in freed
blocks until they are reused. With ``dry_run`` everything is counted and nothing changed.

Feature windows reach back at most 24 months and training uses the last 24 months of snapshots,
so snapshots built from ``cut + 24 months`` on are the same before and after a purge
(``records_months`` defaults to 36).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import duckdb
import pyarrow as pa

from core.contracts import CONTRACTS
from core.months import add_months
from core.settings import Settings
from features import warehouse
from features.ingest.read import FILE_NAME


@dataclasses.dataclass(frozen=True)
class WarehousePurge:
    """Rows (per table) and delivery files removed, or that a dry run would remove."""

    removed: dict[str, int]
    raw_files: list[str]


def _kept_memberships(cut: str) -> str:
    """The membership rows that give each person's household as of the cut (cf. households)."""
    return f"""
        SELECT record_id FROM (
            SELECT record_id, ROW_NUMBER() OVER (
                PARTITION BY person_id
                ORDER BY event_date DESC, recorded_date DESC, record_id DESC) AS rn
            FROM memberships
            WHERE event_date <= {cut} AND recorded_date <= {cut} AND evidence_date <= {cut}
        ) WHERE rn = 1"""


def _old(cut: str, alias: str = "") -> str:
    p = f"{alias}." if alias else ""
    return f"{p}recorded_date < {cut} AND {p}event_date < {cut}"


def purge_rows(con: duckdb.DuckDBPyConnection, cut: dt.date, quarantine_before: dt.datetime):
    """Delete what is past its period (the caller owns the transaction); rows per table."""
    d = f"DATE '{cut.isoformat()}'"
    removed: dict[str, int] = {}

    def delete(table: str, where: str, params: list | None = None) -> None:
        (n,) = warehouse.fetch_one(con, f"SELECT count(*) FROM {table} WHERE {where}", params)
        if n:
            con.execute(f"DELETE FROM {table} WHERE {where}", params or [])
        removed[table] = removed.get(table, 0) + int(n)

    keep = _kept_memberships(d)
    delete("memberships", f"{_old(d)} AND evidence_date < {d} AND record_id NOT IN ({keep})")
    for agency in CONTRACTS:
        table = warehouse.record_table(agency)
        where = _old(d)
        if agency == "civil_registry":  # only records no membership row stands on any more
            where += " AND record_id NOT IN (SELECT record_id FROM memberships)"
        delete(table, where)
        gone = f"agency = '{agency}' AND record_id NOT IN (SELECT record_id FROM {table})"
        delete("person_records", gone)
        delete("links", gone)
    delete("persons", "person_id NOT IN (SELECT person_id FROM links)")
    # the kept corrections of raw IDs no record holds any more (features.linkage.id_fix)
    delete("id_candidates", "id_invalid NOT IN (SELECT id_invalid FROM person_records "
           "WHERE id_invalid IS NOT NULL)")  # fmt: skip
    delete("quarantine", "quarantined_at < ?", [quarantine_before])
    _purge_frequencies(con, delete)
    return removed


def _purge_frequencies(con: duckdb.DuckDBPyConnection, delete) -> None:
    """The term frequencies of values no record holds any more (names compared normalized)."""
    from features.linkage.comparisons import normalize_name

    sql = "SELECT DISTINCT name FROM person_records WHERE name IS NOT NULL"
    names = con.execute(sql).fetchall()
    held = sorted({n for (name,) in names if (n := normalize_name(name))})
    con.register("held_src", pa.table({"value": pa.array(held, pa.string())}))
    con.execute("CREATE OR REPLACE TEMP TABLE held_names AS SELECT value FROM held_src")
    con.unregister("held_src")
    delete("link_term_frequencies", "(column_name = 'name_norm' AND value NOT IN "
           "(SELECT value FROM held_names)) OR (column_name = 'birth_date' AND value NOT IN "
           "(SELECT CAST(birth_date AS VARCHAR) FROM person_records "
           "WHERE birth_date IS NOT NULL))")  # fmt: skip


def old_deliveries(raw_dir: Path, cut: dt.date) -> list[Path]:
    """Delivery files whose month ended before ``cut``."""
    root = raw_dir / "agencies"
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.glob("*/*")):
        m = FILE_NAME.match(path.name)
        if m and path.is_file():
            month_end = add_months(dt.date(int(m.group(1)), int(m.group(2)), 1), 1)
            if month_end <= cut:
                found.append(path)
    return found


def purge_warehouse(settings: Settings, today: dt.date, now: dt.datetime, dry_run: bool = False):
    """Open the warehouse and purge it (see the module docstring); returns a pending purge whose
    ``commit()`` (or ``rollback()``) finishes it, so the caller can audit before committing."""
    r = settings.retention
    cut = add_months(today, -r.records_months)
    files = old_deliveries(settings.raw_dir, cut)
    path = settings.warehouse_path
    if not path.exists():
        return PendingPurge(None, path, WarehousePurge({}, [str(p) for p in files]), files)
    con = warehouse.connect(path)
    con.execute("BEGIN TRANSACTION")
    try:
        removed = purge_rows(con, cut, now - dt.timedelta(days=r.quarantine_days))
    except BaseException:
        con.execute("ROLLBACK")
        con.close()
        raise
    rel = [str(p.relative_to(settings.raw_dir)) for p in files]
    return PendingPurge(con, path, WarehousePurge(removed, rel), files, dry_run)


@dataclasses.dataclass
class PendingPurge:
    """A warehouse purge done in an open transaction, awaiting commit or rollback."""

    con: duckdb.DuckDBPyConnection | None
    path: Path
    report: WarehousePurge
    files: list[Path]
    dry_run: bool = False

    def rollback(self) -> None:
        """Undo the rows; remove no file."""
        if self.con is not None:
            self.con.execute("ROLLBACK")
            self.con.close()
            self.con = None

    def commit(self) -> None:
        """Commit the rows, rewrite the file when rows went, and remove the delivery files."""
        if self.dry_run:
            self.rollback()
            return
        if self.con is not None:
            self.con.execute("COMMIT")
            changed = any(self.report.removed.values())
            if changed:
                _compact(self.con, self.path)
            self.con.close()
            self.con = None
            if changed:
                os.replace(self.path.with_suffix(".compact"), self.path)
        for f in self.files:
            f.unlink(missing_ok=True)


def _compact(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Copy the database into a fresh file beside it (the caller moves it into place)."""
    fresh = path.with_suffix(".compact")
    fresh.unlink(missing_ok=True)
    (name,) = warehouse.fetch_one(con, "SELECT current_database()")
    con.execute(f"ATTACH '{fresh}' AS compact_target")
    con.execute(f'COPY FROM DATABASE "{name}" TO compact_target')
    con.execute("DETACH compact_target")
    fresh.chmod(0o600)
