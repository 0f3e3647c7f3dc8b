"""A township with a long visit list, cloned from a scored workspace (browser tests, bench).

:func:`grow_township` adds a complete run, newer than the latest, that copies every score,
eligibility row and list of the latest run and gives one township a list of ``n`` households:
its own, then copies of them under new keys spread over its villages. The copies carry their
originals' reasons, programs and bands, so the list reads like a real one; they have no
warehouse records (their household pages are not meant to be opened).
"""

from __future__ import annotations

import datetime as dt
import hashlib

import sqlalchemy as sa

from serving.store import db
from serving.store.tables import eligibility, list_entries, score_runs, scores


def _key(township: str, i: int) -> str:
    return "H" + hashlib.sha256(f"big-list|{township}|{i}".encode()).hexdigest()[:24]


def grow_township(service_db_url: str, township: str, n: int = 150) -> str:
    """Add the run (returned) whose list for ``township`` holds ``n`` households."""
    engine = db.make_engine(service_db_url)
    try:
        with engine.begin() as conn:
            run = db.latest_complete_run(conn)
            assert run is not None, "no complete run to grow"
            new = f"{run.run_id}-big{n}"
            row = dict(conn.execute(sa.select(score_runs).where(
                score_runs.c.run_id == run.run_id)).mappings().one())  # fmt: skip
            row.update(run_id=new, finished_at=dt.datetime.now(dt.UTC))
            conn.execute(score_runs.insert().values(**row))
            rows = [dict(r) for r in conn.execute(
                sa.select(scores).where(scores.c.run_id == run.run_id)).mappings()]  # fmt: skip
            elig = [dict(r) for r in conn.execute(sa.select(eligibility).where(
                eligibility.c.run_id == run.run_id)).mappings()]  # fmt: skip
            lists = [dict(r) for r in conn.execute(sa.select(list_entries).where(
                list_entries.c.run_id == run.run_id,
                list_entries.c.jurisdiction_code != township)).mappings()]  # fmt: skip
            own = sorted((r for r in rows if r["township_code"] == township),
                         key=lambda r: -r["priority"])  # fmt: skip
            villages = sorted({r["village_code"] for r in own})
            by_id = {}
            for r in elig:
                by_id.setdefault(r["household_id"], []).append(r)
            added, added_elig = [], []
            for i in range(max(0, n - len(own))):
                source = own[i % len(own)]
                key = _key(township, i)
                added.append({**source, "household_id": key,
                              "village_code": villages[i % len(villages)],
                              "priority": source["priority"] * (0.999 - i * 1e-4)})  # fmt: skip
                added_elig += [
                    {**e, "household_id": key} for e in by_id.get(source["household_id"], [])
                ]
            for r in rows + added:
                r["run_id"] = new
            for r in elig + added_elig:
                r["run_id"] = new
            conn.execute(scores.insert(), rows + added)
            if elig or added_elig:
                conn.execute(eligibility.insert(), elig + added_elig)
            chosen = sorted(own + added, key=lambda r: -r["priority"])[:n]
            entries = [
                {"run_id": new, "jurisdiction_code": township, "household_id": r["household_id"],
                 "rank": i + 1, "score": r["score"], "priority": r["priority"],
                 "model_version": r["model_version"], "exploration": i % 10 == 9,
                 "capacity": n, "purpose": lists[0]["purpose"] if lists else "outreach",
                 "path": "exploration" if i % 10 == 9 else "ranked",
                 "selection_probability": 0.05 if i % 10 == 9 else 1.0}
                for i, r in enumerate(chosen)
            ]  # fmt: skip
            for r in lists:
                r["run_id"] = new
            conn.execute(list_entries.insert(), lists + entries)
            return new
    finally:
        engine.dispose()
