"""``outreach demo``: the whole system on embedded defaults, from an empty folder to a served
county in one command (what ``make demo`` runs).

The demo calls each stage's function (``run(settings, options)``, the same ones the CLI calls),
writes its report where the CLI writes it and prints its time: simulate the default county,
ingest its deliveries, link records into persons and households, build the month-end vectors
from mid-2023, train and register the model, score the latest month into the service database,
issue demo tokens, serve. A second run reuses what is built: ``simulate`` and ``ingest`` notice
by themselves that nothing is new; ``link``, ``features`` and ``train`` are skipped when the
warehouse holds the same deliveries (and the same feature-set version) as when they last ran
here (recorded in ``<workspace>/demo-state.json``); ``score`` does not score a scored month
again. Tokens are new on every run (they are shown once and stored hashed) and expire after 7
days.
"""

from __future__ import annotations

import hashlib
import json
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.months import monthly_dates
from core.reports import write_report
from core.settings import Settings

FEATURES_FROM = "2023-06-30"
AS_OF = "2025-12-31"
TOKEN_DAYS = 7
STATE_FILE = "demo-state.json"


@dataclass
class StageTime:
    """How long a stage took and whether it reused earlier work."""

    name: str
    seconds: float
    reused: bool


def deliveries_fingerprint(settings: Settings) -> str | None:
    """A digest of the deliveries in the warehouse (None before the first ingest)."""
    if not settings.warehouse_path.exists():
        return None
    from features import warehouse

    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        rows = con.execute(
            "SELECT agency, file_name, sha256 FROM deliveries ORDER BY agency, file_name"
        ).fetchall()
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


def _state(settings: Settings) -> dict[str, str]:
    path = settings.workspace / STATE_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # a damaged state only costs a rebuild
    return data if isinstance(data, dict) else {}


def _save_state(settings: Settings, state: dict[str, str]) -> None:
    path = settings.workspace / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


Stage = tuple[str, str | None, Callable[[Settings], Any]]
"""A stage of the demo: its name, its reuse key (None: always run), and the call."""


def pipeline_stages() -> list[Stage]:
    """The pipeline as (name, reuse key, call): each call runs a stage function and returns its
    report (``as_dict()``), written like the CLI writes it."""
    from features.ingest.stage import IngestOptions
    from features.ingest.stage import run as ingest
    from features.linkage.stage import LinkOptions
    from features.linkage.stage import run as link
    from features.vectors.stage import FeaturesOptions
    from features.vectors.stage import run as build_features
    from serving.batch.stage import ScoreOptions
    from serving.batch.stage import run as score
    from simulator.stage import SimulateOptions
    from simulator.stage import run as simulate
    from training.stage import TrainOptions
    from training.stage import run as train

    days = monthly_dates(date.fromisoformat(FEATURES_FROM), date.fromisoformat(AS_OF))
    return [
        ("simulate", None, lambda s: simulate(s, SimulateOptions())),
        ("ingest", None, lambda s: ingest(s, IngestOptions())),
        ("link", "link", lambda s: link(s, LinkOptions())),
        ("features", "features", lambda s: build_features(s, FeaturesOptions(days))),
        ("train", "train", lambda s: train(s, TrainOptions())),
        ("score", None, lambda s: score(s, ScoreOptions(date.fromisoformat(AS_OF)))),
    ]


def run_stages(
    settings: Settings, say: Callable[[str], None], stages: Sequence[Stage] | None = None
) -> list[StageTime]:
    """Run the pipeline's stage functions in order (:func:`pipeline_stages` unless ``stages``),
    reusing work; write each stage's report.

    Raises:
        OutreachError: a stage's own error (one line), or a failed ingest.
    """
    from features.vectors.catalogue import FEATURE_SET_VERSION

    state = _state(settings)
    times: list[StageTime] = []
    for name, key, call in pipeline_stages() if stages is None else stages:
        fingerprint = None
        if key is not None:
            fingerprint = f"{deliveries_fingerprint(settings)}:{FEATURE_SET_VERSION}"
            if state.get(key) == fingerprint:
                times.append(StageTime(name, 0.0, True))
                say(f"[{len(times)}/8] {name}: reused (no new deliveries since it last ran)")
                continue
        say(f"[{len(times) + 1}/8] {name} ...")
        started = time.perf_counter()
        report = call(settings)
        seconds = time.perf_counter() - started
        if name != "simulate":  # the world's manifest.json is its report
            write_report(settings.reports_dir, name, report.as_dict())
        failure = getattr(report, "failure", None)  # ingest: rejected or unreconciled deliveries
        if failure is not None:
            raise ConfigError(f"the demo stopped at {name}: {failure}")
        times.append(StageTime(name, seconds, False))
        say(f"[{len(times)}/8] {name}: {seconds:.1f} s")
        if key is not None:
            state[key] = fingerprint or ""
            _save_state(settings, state)
    return times


def demo_tokens(settings: Settings) -> list[tuple[str, str | None, str]]:
    """New tokens for one caseworker (the township with the longest list), one supervisor
    (the county) and one auditor: ``(role, jurisdiction, token)``."""
    import sqlalchemy as sa

    from serving.runtime import auth
    from serving.store import db
    from serving.store.tables import list_entries

    engine = db.make_engine(settings.service_db_url)
    try:
        with engine.begin() as conn:
            run = db.latest_complete_run(conn)
            if run is None:
                raise ConfigError("no complete scoring run: the score stage did not finish")
            le = list_entries.c
            town = conn.execute(
                sa.select(le.jurisdiction_code)
                .where(le.run_id == run.run_id, sa.func.length(le.jurisdiction_code) == 9)
                .group_by(le.jurisdiction_code)
                .order_by(sa.func.count().desc(), le.jurisdiction_code)
                .limit(1)
            ).scalar()
            if town is None:
                raise ConfigError("the latest run has no township list")
            out = []
            for role, code in (("caseworker", town), ("supervisor", town[:6]), ("auditor", None)):
                holder = f"demo {role}"
                token, _ = auth.create_token(conn, role, code, TOKEN_DAYS, holder=holder)
                out.append((role, code, token))
            return out
    finally:
        engine.dispose()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``; when the port is taken, any free port instead."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.bind((host, 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve_on(settings: Settings, sock: socket.socket) -> None:
    """Serve the app on an already bound socket until interrupted."""
    from serving.runtime.tuning import tune_process

    tune_process()
    import uvicorn

    from serving.app import create_app

    config = uvicorn.Config(
        create_app(settings), workers=1, log_level="warning", access_log=False, lifespan="on",
        proxy_headers=False,  # the app honours [service] trusted_proxies itself
    )  # fmt: skip
    uvicorn.Server(config).run(sockets=[sock])


def summary(times: list[StageTime]) -> list[str]:
    """One line per stage and the total, for the terminal."""
    lines = [f"  {t.name:<9} {'reused' if t.reused else f'{t.seconds:7.1f} s'}" for t in times]
    total = sum(t.seconds for t in times)
    lines.append(f"  {'total':<9} {total:7.1f} s")
    return lines


def ensure_workspace(path: Path) -> None:
    """Create the workspace folder (the stages create what is inside)."""
    path.mkdir(parents=True, exist_ok=True)
