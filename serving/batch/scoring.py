"""The batch scoring job behind ``outreach score --as-of DATE``.

Steps: load the snapshot and the champion (refusing a champion whose feature-set version
differs from the snapshot's), compute every score, eligibility result, priority and list in
memory (:func:`serving.batch.frame.compute`, deterministic), then write to the service database:

1. a ``score_runs`` row, status ``running`` (the run id is a hash of the date, model version,
   snapshot id, priority version, list settings and the caseworkers' corrections it applies
   (:mod:`serving.batch.corrections`, applied to the in-memory frame, never to the agency's record):
   the same inputs give the same run);
2. households in chunks; each chunk (its ``scores`` and ``eligibility`` rows) commits together
   with ``chunks_done``, so a run killed at any point resumes after its last committed chunk;
3. the list entries and ``status = complete`` in one last transaction.

A complete run is never written again (idempotent). Eligibility rows are stored for the
programs a household likely qualifies for, needs verification for, or receives; a program with
no row is "not eligible, not receiving". Traces and explanations are stored for listed households;
anyone else's are rendered on demand from the snapshot with the same code.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import sqlalchemy as sa

from core.errors import ConfigError
from core.months import add_months
from core.settings import Settings
from features.vectors.build import read_snapshot_metadata, snapshot_path
from policies.parameters import load_parameters
from serving.batch.corrections import apply_corrections, digest, mark_applied, standing_corrections
from serving.batch.frame import ScoredSnapshot, compute, programs_summary
from serving.batch.priority import (
    PRIORITY_VERSION,
    PROGRAM_GAP_PURPOSE,
    PURPOSE,
    SUPPRESS_MONTHS,
    ListSpec,
)
from serving.store import db
from serving.store.tables import eligibility, list_entries, score_runs, scores, visit_outcomes
from training import model_registry

CHUNK_ROWS = 50_000
PAUSE_ENV = "OUTREACH_SCORE_PAUSE_AFTER_CHUNK"
"""A test hook, not a setting: seconds to sleep after each committed chunk, so that the
crash-recovery test (``tests/integration/test_score_cli.py``) can kill a run mid-way. It is the
one environment variable scoring reads, and nothing but that test should set it."""


@dataclass
class ScoreOutcome:
    """What a run did (the CLI prints it and writes it as the report)."""

    run_id: str
    as_of: date
    model_version: str
    snapshot_id: str
    status: str  # "written", "resumed" or "unchanged"
    n_households: int
    n_listed: int
    n_exploration: int
    chunks: int
    timings: dict[str, float] = field(default_factory=dict)
    scored: ScoredSnapshot | None = None
    corrections_applied: int = 0


def run_id_for(
    as_of: date,
    model_version: str,
    snapshot_id: str,
    spec: ListSpec,
    corrections_digest: str | None = None,
) -> str:
    """The run id: the same date, model, snapshot, priority version, lists and applied
    corrections (:func:`serving.batch.corrections.digest`) give the same."""
    parts: list = [as_of.isoformat(), model_version, snapshot_id, PRIORITY_VERSION, spec.as_dict()]
    if corrections_digest is not None:
        parts.append({"corrections": corrections_digest})
    key = json.dumps(parts, sort_keys=True)
    return "R" + hashlib.sha256(key.encode()).hexdigest()[:20]


def recent_not_in_need(conn: sa.Connection, as_of: date) -> dict[str, int | None]:
    """Households whose latest visit recorded in the service within 6 months found no need,
    with the warning bits of the run they were listed under (None when not known)."""
    low = add_months(as_of, -SUPPRESS_MONTHS)
    v = visit_outcomes
    rows = conn.execute(
        sa.select(v.c.household_id, v.c.outcome, v.c.run_id, v.c.visit_date, v.c.id)
        .where(v.c.visit_date > low, v.c.visit_date <= as_of)
        .order_by(v.c.household_id, v.c.visit_date, v.c.id)
    ).all()
    latest: dict[str, Any] = {}
    for row in rows:
        latest[row.household_id] = row
    out: dict[str, int | None] = {}
    runs: dict[str, list[str]] = {}
    for hid, row in latest.items():
        if row.outcome == "not_in_need":
            out[hid] = None
            if row.run_id:
                runs.setdefault(row.run_id, []).append(hid)
    for run, ids in runs.items():
        for i in range(0, len(ids), 500):
            found = conn.execute(
                sa.select(scores.c.household_id, scores.c.warning_bits).where(
                    scores.c.run_id == run, scores.c.household_id.in_(ids[i : i + 500])
                )
            ).all()
            out.update({r.household_id: int(r.warning_bits) for r in found})
    return out


def _score_columns(
    s: ScoredSnapshot, rows: np.ndarray, run: str, as_of: date, version: str
) -> dict[str, list]:
    """The ``scores`` rows of a chunk as columns of plain Python values."""
    h = s.households
    n = len(rows)
    ids = h["household_id"].to_numpy()[rows].tolist()
    found = [s.explanations.get(hid) for hid in ids]
    return {
        "run_id": [run] * n,
        "household_id": ids,
        "township_code": h["township_code"].to_numpy()[rows].tolist(),
        "village_code": h["village_code"].to_numpy()[rows].tolist(),
        "as_of": [as_of] * n,
        "model_version": [version] * n,
        "score": h["score"].to_numpy(dtype=float)[rows].tolist(),
        "raw_score": h["raw_score"].to_numpy(dtype=float)[rows].tolist(),
        "band": h["band"].to_numpy()[rows].tolist(),
        "priority": h["priority"].to_numpy(dtype=float)[rows].tolist(),
        "warning_bits": h["warning_bits"].to_numpy(dtype=np.int64)[rows].tolist(),
        "low_confidence_link": h["low_confidence_link"].to_numpy(dtype=bool)[rows].tolist(),
        "reasons": [None if e is None else {"units": e["units"], **e["reasons"]} for e in found],
        "base_value": [None if e is None else e["base_value"] for e in found],
        "programs": [
            None if e is None else programs_summary(s.eligibility, int(i))
            for i, e in zip(rows, found, strict=True)
        ],
    }


_STATUS = ("not_eligible", "needs_verification", "likely")


def _eligibility_columns(s: ScoredSnapshot, rows: np.ndarray, run: str) -> dict[str, list]:
    """The ``eligibility`` rows of a chunk (programs likely, to verify, or received)."""
    r = s.eligibility
    codes = np.asarray(r.program_codes, dtype=object)
    sub_status, sub_recv, sub_gap = r.status[rows], r.receiving[rows], r.gap[rows]
    k, j = np.nonzero((sub_status > 0) | (sub_recv == 2))
    ids = np.asarray(r.household_id, dtype=object)[rows[k]].astype(str).tolist()
    programs = codes[j].tolist()
    traces = []
    for hid, code in zip(ids, programs, strict=True):
        trace = s.traces.get(hid)
        traces.append(None if trace is None else [t for t in trace if t["program"] == code])
    return {
        "run_id": [run] * len(ids),
        "household_id": ids,
        "program": programs,
        "status": [_STATUS[v] for v in sub_status[k, j].tolist()],
        "receiving": (sub_recv[k, j] == 2).tolist(),
        "gap": (sub_gap[k, j] > 0).tolist(),
        "trace": traces,
    }


def _list_rows(s: ScoredSnapshot, run: str, version: str):
    h = s.households.set_index("household_id")
    for e in s.lists.itertuples(index=False):
        yield {
            "run_id": run,
            "jurisdiction_code": e.jurisdiction_code,
            "household_id": e.household_id,
            "rank": int(e.rank),
            "score": float(h.at[e.household_id, "score"]),
            "priority": float(h.at[e.household_id, "priority"]),
            "model_version": version,
            "exploration": bool(e.exploration),
            "capacity": int(e.capacity),
            "purpose": PROGRAM_GAP_PURPOSE if e.path == "program_gap" else PURPOSE,
            "path": e.path,
            "selection_probability": float(e.selection_probability),
        }


def load_champion(settings: Settings):
    """The champion ``OutreachModel`` and its version, or a clear error."""
    store = model_registry.Store.for_settings(settings)
    if model_registry.champion_version(store) is None:
        raise ConfigError("no champion model: run `outreach train` first")
    return model_registry.load_version(store)


def score(
    settings: Settings,
    as_of: date,
    spec: ListSpec,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[str], None] | None = None,
    model_and_version: tuple[Any, str] | None = None,
) -> ScoreOutcome:
    """Score one snapshot into the service database (see the module docstring).

    Raises:
        ConfigError: no snapshot for the date, no champion, or a feature-set mismatch.
    """
    say = progress or (lambda _msg: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    path = snapshot_path(settings.snapshots_dir, as_of)
    if not path.exists():
        raise ConfigError(f"no snapshot for {as_of}: run `outreach features --as-of {as_of}`")
    meta = read_snapshot_metadata(path)
    model, version = model_and_version or load_champion(settings)
    if model.feature_set_version != meta.get("feature_set_version"):
        raise ConfigError(
            f"champion version {version} uses feature set {model.feature_set_version} but the "
            f"snapshot of {as_of} has {meta.get('feature_set_version')}: rebuild the snapshot "
            "(`outreach features`) or train a model on this feature set"
        )
    engine = db.make_engine(settings.service_db_url)
    try:
        db.upgrade(engine)
        frame = pq.read_table(path).to_pandas()
        with engine.connect() as conn:
            standing = standing_corrections(conn)
        frame, applied = apply_corrections(frame, standing)  # the snapshot file stays as it is
        run = run_id_for(as_of, version, meta["snapshot_id"], spec, digest(applied))
        with engine.begin() as conn:
            existing = db.get_run(conn, run)
            if existing is not None and existing.status == "complete":
                say("already scored: nothing to do")
                return ScoreOutcome(
                    run, as_of, version, meta["snapshot_id"], "unchanged",
                    existing.n_households or 0, 0, 0, existing.chunks_done,
                )  # fmt: skip
            not_in_need = recent_not_in_need(conn, as_of)
        timings["load_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        scored = compute(frame, model, load_parameters(settings.params_dir), spec, as_of,
                         not_in_need, say)  # fmt: skip
        timings["compute_s"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        n = len(scored.households)
        chunks = max(1, -(-n // chunk_rows))
        done = 0 if existing is None else existing.chunks_done
        if existing is None:
            with engine.begin() as conn:
                conn.execute(
                    score_runs.insert().values(
                        run_id=run, as_of=as_of, model_name=model_registry.MODEL_NAME,
                        model_version=version, feature_set_version=model.feature_set_version,
                        snapshot_id=meta["snapshot_id"], priority_version=PRIORITY_VERSION,
                        capacity=spec.as_dict(), exploration_share=spec.exploration_share,
                        started_at=datetime.now(UTC), status="running", chunks_done=0,
                        n_households=n,
                    )
                )  # fmt: skip
        pause = float(os.environ.get(PAUSE_ENV, "0") or 0)
        for c in range(done, chunks):
            rows = np.arange(c * chunk_rows, min(n, (c + 1) * chunk_rows))
            with engine.begin() as conn:
                db.write_columns(conn, scores, _score_columns(scored, rows, run, as_of, version))
                db.write_columns(conn, eligibility, _eligibility_columns(scored, rows, run))
                conn.execute(
                    score_runs.update().where(score_runs.c.run_id == run).values(chunks_done=c + 1)
                )
            say(f"chunk {c + 1}/{chunks} written")
            if pause:
                time.sleep(pause)
        with engine.begin() as conn:
            db.write_rows(conn, list_entries, _list_rows(scored, run, version))
            conn.execute(
                score_runs.update()
                .where(score_runs.c.run_id == run)
                .values(status="complete", finished_at=datetime.now(UTC))
            )
            mark_applied(conn, applied, run)
        timings["write_s"] = time.perf_counter() - t2
    finally:
        engine.dispose()
    lists = scored.lists
    return ScoreOutcome(
        run, as_of, version, meta["snapshot_id"], "written" if done == 0 else "resumed", n,
        len(lists), int(lists["exploration"].sum()), chunks, timings, scored, len(applied),
    )  # fmt: skip


def lists_frame(scored: ScoredSnapshot) -> pd.DataFrame:
    """List entries joined with their household rows (for reports)."""
    return scored.lists.merge(scored.households, on="household_id", how="left")
