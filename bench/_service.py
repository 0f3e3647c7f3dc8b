"""Shared set-up of the service benchmarks (``bench_service.py``, ``soak_service.py``): the
workspace (built when not given), a token, and the targets (township lists, households)."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Target:
    """What the load is aimed at."""

    workspace: Path
    token: str
    towns: list[str]
    households: list[str]
    outcomes_before: int


def prepare(workspace: Path | None, households: int, prefix: str, role: str, holder: str):
    """``(target, temporary folder or None)``: build a county when ``workspace`` is None."""
    from bench_service import build

    from core.files import restrict_new_files

    restrict_new_files()  # the county built here holds personal data, as the CLI's would
    tmp = None
    if workspace is not None and not (workspace / "data" / "snapshots").is_dir():
        raise SystemExit(f"{workspace} holds no scored county (no data/snapshots): "
                         "leave out --workspace to build one")
    if workspace is None:
        tmp = tempfile.mkdtemp(prefix=prefix)
        workspace = Path(tmp) / "ws"
        print(f"building a {households:,}-household county in {workspace}")
        build(workspace, households)
    import sqlalchemy as sa

    from core.settings import load_settings
    from serving.runtime import auth
    from serving.store import db

    engine = db.make_engine(load_settings(workspace).service_db_url)
    with engine.begin() as conn:
        token, _ = auth.create_token(conn, role, days=1, holder=holder)
        run = db.latest_complete_run(conn)
        q = "SELECT DISTINCT jurisdiction_code FROM list_entries WHERE run_id = :r"
        towns = [r[0] for r in conn.execute(sa.text(q), {"r": run.run_id})]
        q = "SELECT household_id FROM scores WHERE run_id = :r"
        ids = [r[0] for r in conn.execute(sa.text(q), {"r": run.run_id})]
        before = conn.execute(sa.text("SELECT count(*) FROM visit_outcomes")).scalar_one()
    engine.dispose()
    return Target(workspace, token, towns, ids, before), tmp
