"""A scored workspace for the service tests (a helper module; tests/ is on sys.path).

:func:`build_service_workspace` copies an ingested and linked workspace, builds month-end
snapshots, trains a model (the champion), adds one household of a second county to the last
snapshot (so a county-scoped supervisor has a "foreign" household), and scores that snapshot
into the service database at township level, and gives it a policy comparison (the
``twin-compare`` report of ``outreach twin compare --policies status-quo,rules,model,oracle
--seeds 2 --months 2 --households 400 --seed 5``, kept as ``twin_compare_sample.json`` beside
this module) for the ``/twin`` page. :func:`subjects` names the households and codes
each role's "own", "foreign" and "nonexistent" requests use.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from core.reports import write_report
from core.settings import Settings, load_settings
from outreach.cli import main

AS_OF = dt.date(2024, 12, 31)
OWN_TOWNSHIP = "330226001"
NEIGHBOUR_TOWNSHIP = "330226002"
OTHER_COUNTY = "330227"
OTHER_TOWNSHIP = "330227001"
OTHER_VILLAGE = "330227001001"
OTHER_HOUSEHOLD = "H" + "f" * 24
NOBODY = "H" + "0a" * 12
NO_TOWNSHIP = "330226999"


def add_foreign_household(snapshot: Path) -> None:
    """Append a copy of the first household, moved to another county, keeping the metadata."""
    table = pq.read_table(snapshot)
    row = table.slice(0, 1).to_pylist()[0]
    row.update(
        household_id=OTHER_HOUSEHOLD, township_code=OTHER_TOWNSHIP, village_code=OTHER_VILLAGE
    )
    extra = pa.Table.from_pylist([row], schema=table.schema)
    pq.write_table(pa.concat_tables([table, extra]), snapshot)


def build_service_workspace(source: Path, target: Path, db_url: str | None = None) -> Settings:
    """Copy ``source`` to ``target``; snapshots, train, score (see the module docstring)."""
    from serving.batch.priority import ListSpec
    from serving.batch.scoring import score

    shutil.copytree(source, target)
    ws = str(target)
    assert main(["features", "--from", "2023-01-31", "--to", "2024-12-31", "--workspace", ws]) == 0
    assert main(["train", "--workspace", ws]) == 0
    settings = load_settings(target, environ={"OUTREACH_DB_URL": db_url} if db_url else {})
    add_foreign_household(settings.snapshots_dir / AS_OF.isoformat() / "features.parquet")
    score(settings, AS_OF, ListSpec(level="township", capacity_share=0.1))
    add_twin_comparison(settings)
    return settings


def add_twin_comparison(settings: Settings) -> None:
    """Make the sample comparison the workspace's latest ``twin-compare`` report."""
    sample = json.loads((Path(__file__).parent / "twin_compare_sample.json").read_text())
    write_report(settings.reports_dir, "twin-compare", sample)


def rescore(source: Settings, db_url: str) -> Settings:
    """The same workspace scored into another database (e.g. a PostgreSQL schema)."""
    from serving.batch.priority import ListSpec
    from serving.batch.scoring import score

    settings = load_settings(source.workspace, environ={"OUTREACH_DB_URL": db_url})
    score(settings, AS_OF, ListSpec(level="township", capacity_share=0.1))
    return settings


@dataclass(frozen=True)
class Subjects:
    """Households and jurisdiction codes by relation to the caller."""

    own_household: str
    neighbour_household: str
    other_county_household: str
    own_village: str
    other_village_in_township: str
    own_records: tuple[str, str] = ("", "")
    """Two record keys (``<agency>:<record_id>``) of the own household's members."""


def subjects(settings: Settings) -> Subjects:
    """Pick the test households from the scored database."""
    engine = sa.create_engine(settings.service_db_url)
    try:
        with engine.connect() as conn:
            own = conn.execute(
                sa.text(
                    "SELECT household_id, village_code FROM scores WHERE township_code = :t "
                    "ORDER BY household_id LIMIT 1"
                ),
                {"t": OWN_TOWNSHIP},
            ).one()
            neighbour = conn.execute(
                sa.text("SELECT min(household_id) FROM scores WHERE township_code = :t"),
                {"t": NEIGHBOUR_TOWNSHIP},
            ).scalar_one()
            other_village = conn.execute(
                sa.text(
                    "SELECT min(village_code) FROM scores WHERE township_code = :t "
                    "AND village_code <> :v"
                ),
                {"t": OWN_TOWNSHIP, "v": own.village_code},
            ).scalar_one()
    finally:
        engine.dispose()
    return Subjects(own.household_id, neighbour, OTHER_HOUSEHOLD, own.village_code, other_village,
                    household_records(settings, own.household_id))  # fmt: skip


def household_records(settings: Settings, household: str) -> tuple[str, str]:
    """Two record keys of a household's linked records (the first two in key order)."""
    import duckdb

    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        rows = con.execute(
            "SELECT DISTINCT l.agency || ':' || l.record_id AS k FROM memberships m "
            "JOIN links l ON l.person_id = m.person_id WHERE m.household_id = ? ORDER BY k LIMIT 2",
            [household],
        ).fetchall()
    finally:
        con.close()
    assert len(rows) == 2, "the own household has fewer than two linked records"
    return rows[0][0], rows[1][0]
