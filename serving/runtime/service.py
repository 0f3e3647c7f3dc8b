"""The service's long-lived parts, built once per application by :func:`serving.app.create_app`.

:class:`Service` owns the database engine, the group-commit audit writer, the champion watcher,
the in-memory snapshot, the masked-name book, the prepared visit-list bytes and the token
cache. Nothing here runs on import; :meth:`Service.start` (called by the app's lifespan, or by
the first request when an ASGI host skips lifespan events) migrates the database, loads the
champion and starts the background threads.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from core.months import LOCAL_TZ
from core.settings import Settings
from serving.runtime import auth
from serving.runtime.audit import AuditWriter
from serving.runtime.denials import Denials
from serving.runtime.masking import NameBook
from serving.runtime.metrics import Metrics
from serving.runtime.modelswap import ChampionWatcher
from serving.runtime.ondemand import SnapshotStore
from serving.store import db
from serving.store.checkpoint import WalCheckpointer
from serving.store.db import ScoreRun

log = logging.getLogger(__name__)


class ServiceOptions(BaseModel):
    """Tuning of the service (defaults suit one county on one machine)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    poll_seconds: float = Field(2.0, gt=0, description="champion alias and latest-run checks")
    token_cache_seconds: float = Field(
        2.0, ge=0, description="how long a verified token is trusted before it is checked again"
    )
    explain_cache: int = Field(50_000, ge=0, description="on-demand explanations kept")
    list_cache: int = Field(4096, ge=0, description="prepared visit-list responses kept")
    max_capacity: int = Field(500, ge=1, description="largest list a request may ask for")
    migrate: bool = Field(True, description="bring the database schema to head at start")
    db_wait_seconds: float = Field(
        5.0, gt=0, le=60,
        description="the longest a request waits on the database or for its audit row's "
        "commit before it answers 503 (SQLite busy timeout; PostgreSQL connect, lock, "
        "statement and pool timeouts)",
    )  # fmt: skip
    max_body_bytes: int = Field(64 * 1024, ge=1024, description="largest request body")
    anonymous_per_minute: int = Field(
        10, ge=1, description="requests without a valid token (API) and sign-in attempts per "
        "client address a minute (a burst of as many), then 429",
    )  # fmt: skip
    token_requests_per_second: float | None = Field(
        50.0, gt=0, description="API requests per token a second (bursts of twice as many), "
        "then 429; None: no per-token limit (benchmarks)",
    )  # fmt: skip
    denied_rows_per_minute: int = Field(
        20, ge=1, description="denied rows per caller a minute; the rest are counted in one row"
    )
    prepared_reads: bool = Field(
        True, description="answer prepared lists and in-memory scores without the framework's "
        "per-request machinery (serving.api.prepared; the same checks, bytes and audit rows)",
    )  # fmt: skip
    wal_checkpoint_seconds: float = Field(
        1.0, ge=0, le=60,
        description="SQLite: seconds between the service's own passive checkpoints of the "
        "write-ahead log, run beside the commits (serving.store.checkpoint); 0: SQLite's "
        "automatic checkpoint inside the commit that fills the log",
    )  # fmt: skip
    audit_wait_linger: float = Field(
        0.001, ge=0, le=0.05,
        description="seconds an audited read's row may wait for other rows before its group "
        "commit (more rows per transaction under load, at most this much added latency)",
    )  # fmt: skip


class ListCache:
    """Prepared visit-list bytes per (run, jurisdiction, capacity, identified); LRU-bounded."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._building: dict[tuple[Any, ...], threading.Lock] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
            else:
                self.hits += 1
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], value: bytes) -> None:
        if self.size == 0:
            return
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def build_once(self, key: tuple[Any, ...], build: Callable[[], bytes | None]) -> bytes | None:
        """The cached bytes of ``key``, else ``build()``'s, built by one thread at a time per key
        (50 clients missing the same list at once wait for one build, not 50)."""
        with self._lock:
            lock = self._building.setdefault(key, threading.Lock())
        with lock:
            found = self.get(key)
            if found is None:
                found = build()
                if found is not None:
                    self.put(key, found)
        with self._lock:
            self._building.pop(key, None)
        return found


class Service:
    """See the module docstring.

    Args:
        settings: the workspace settings (database URL, models, snapshots, warehouse).
        options: tuning.
        watcher: a champion watcher (default: one following the workspace's registry).
        clock: the service's "now" (a tz-aware datetime), behind the visit-date rule (a visit
            is dated within the last 366 local days, never later than today) and the
            ``recorded_at`` of outcomes and corrections (default: the wall clock). A county
            twin gives the simulated month's time so that outcomes are recorded in it; audit
            rows always carry the wall clock (when the write happened).
    """

    def __init__(
        self,
        settings: Settings,
        options: ServiceOptions | None = None,
        watcher: ChampionWatcher | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.settings = settings
        self._clock = clock or wall_clock
        self.options = options or ServiceOptions()
        path = db.sqlite_path(settings.service_db_url)
        every = self.options.wal_checkpoint_seconds
        self.checkpointer = WalCheckpointer(path, every) if path is not None and every else None
        self.engine = db.make_engine(
            settings.service_db_url,
            wait_seconds=self.options.db_wait_seconds,
            wal_autocheckpoint=self.checkpointer is None,
        )
        self.audit = AuditWriter(self.engine, wait_linger=self.options.audit_wait_linger)
        self.denials = Denials(self.audit, per_minute=self.options.denied_rows_per_minute)
        self.watcher = watcher or _registry_watcher(settings, self.options.poll_seconds)
        self.snapshots = SnapshotStore(settings.snapshots_dir, self.options.explain_cache)
        self.names = NameBook(settings.warehouse_path)
        self.lists = ListCache(self.options.list_cache)
        self.metrics = Metrics(self)
        self._run: ScoreRun | None = None
        self._rows: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._rows_lock = threading.Lock()
        self._places: dict[str, tuple[str, str]] = {}  # latest run: household -> (town, village)
        self._run_hooks: list[Callable[[ScoreRun], None]] = []
        self._tokens: dict[str, tuple[auth.Principal, float]] = {}
        self._verifying: dict[str, asyncio.Future[auth.Principal | None]] = {}
        self._params: Any = None
        self._started = False
        self._holders = 0
        self._start_lock = threading.Lock()
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None

    # ------------------------------------------------------------------ life cycle
    def start(self) -> Service:
        """Migrate, read the latest run, load the champion, start the threads (idempotent)."""
        if self._started:
            return self
        with self._start_lock:
            if self._started:
                return self
            if self.options.migrate:
                db.upgrade(self.engine)
            self.refresh_run()
            self.watcher.poll()
            self._warm()
            self.watcher.start()
            self.audit.start()
            if self.checkpointer is not None:
                self.checkpointer.start()
            self._poller = threading.Thread(target=self._poll_runs, name="run-watcher", daemon=True)
            self._poller.start()
            self._started = True
        return self

    def acquire(self) -> None:
        """Start (if needed) for one host's lifespan; nested lifespans share the service."""
        with self._start_lock:
            self._holders += 1
        self.start()

    def release(self) -> None:
        """End one lifespan; the last one closes the service."""
        with self._start_lock:
            self._holders -= 1
            last = self._holders == 0
        if last:
            self.close()

    def close(self) -> None:
        """Stop the threads, flush the audit log, release the database."""
        self._stop.set()
        self.watcher.stop()
        if self._poller is not None:
            self._poller.join(timeout=10)
        self.denials.close()
        self.audit.close()
        if self.checkpointer is not None:
            self.checkpointer.close()
        self.engine.dispose()

    def _warm(self) -> None:
        """Load the latest run's snapshot and model matrix, then freeze the start-up heap.

        ``gc.freeze()`` moves everything built so far (MLflow, the model, the snapshot) out of
        the collector's sight: full collections then scan only per-request garbage, which keeps
        latency tails short.
        """
        import gc

        from serving.runtime.ondemand import SnapshotUnavailable

        run, ref = self._run, self.watcher.current()
        if run is not None and ref is not None:
            try:
                snap = self.snapshots.snapshot(run.as_of)
                self.snapshots.warm(ref, snap)
            except SnapshotUnavailable:
                pass
        gc.collect()
        gc.freeze()

    def _poll_runs(self) -> None:
        while not self._stop.wait(self.options.poll_seconds):
            try:
                self.denials.flush()
                self.refresh_run()
            except Exception as exc:  # the database is briefly away: keep the known run
                log.warning("latest-run check failed (%s)", type(exc).__name__)

    # ------------------------------------------------------------------ clock
    def now(self) -> dt.datetime:
        """The service's current time, tz-aware UTC (see ``clock``).

        Raises:
            ValueError: the clock gave a naive datetime.
        """
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("the service clock must give a tz-aware datetime")
        return now.astimezone(dt.UTC)

    def today(self) -> dt.date:
        """The service's local calendar date (:data:`core.months.LOCAL_TZ`, Asia/Shanghai)."""
        return self.now().astimezone(LOCAL_TZ).date()

    # ------------------------------------------------------------------ state
    def run(self) -> ScoreRun | None:
        """The latest complete run (refreshed every ``poll_seconds``)."""
        return self._run

    def refresh_run(self) -> ScoreRun | None:
        """Read the latest complete run now; a new one drops the prepared lists and names."""
        with self.engine.connect() as conn:
            run = db.latest_complete_run(conn)
        new = run is not None and (self._run is None or run.run_id != self._run.run_id)
        if new:
            self.lists.clear()
            self.names.clear()
            with self._rows_lock:
                self._rows.clear()
            self._places = self._read_places(run)
        self._run = run
        if new:
            for hook in self._run_hooks:
                threading.Thread(target=hook, args=(run,), name="run-hook", daemon=True).start()
        return run

    def on_new_run(self, hook: Callable[[ScoreRun], None]) -> None:
        """Call ``hook(run)`` in a background thread whenever a new complete run is seen, and
        now for the current one (e.g. to prepare its visit lists before anyone asks)."""
        self._run_hooks.append(hook)
        if self._run is not None:
            threading.Thread(target=hook, args=(self._run,), name="run-hook", daemon=True).start()

    def _read_places(self, run: ScoreRun) -> dict[str, tuple[str, str]]:
        from serving.store.tables import scores

        q = sa.select(scores.c.household_id, scores.c.township_code, scores.c.village_code)
        with self.engine.connect() as conn:
            rows = conn.execute(q.where(scores.c.run_id == run.run_id))
            return {h: (t, v) for h, t, v in rows}

    def locate(self, household_id: str) -> dict[str, Any] | None:
        """Where a household of the latest run lives (``household_id``, ``township_code``,
        ``village_code``, ``as_of``) from memory, or None when the latest run lacks it (then
        :meth:`household_row` finds its newest row, if any)."""
        run, place = self._run, self._places.get(household_id)
        if run is None or place is None:
            return None
        town, village = place
        return {"household_id": household_id, "township_code": town, "village_code": village,
                "as_of": run.as_of}  # fmt: skip

    def household_row(self, household_id: str) -> dict[str, Any] | None:
        """The household's latest score row (cached until a new run completes), or None."""
        with self._rows_lock:
            hit = self._rows.get(household_id)
        if hit is not None:
            return hit
        from serving.store.queries import latest_household_row

        with self.engine.connect() as conn:
            row = latest_household_row(conn, household_id)
        if row is not None:
            with self._rows_lock:
                self._rows[household_id] = row
                while len(self._rows) > 100_000:
                    self._rows.popitem(last=False)
        return row

    def cached_household_row(self, household_id: str) -> dict[str, Any] | None:
        """The cached row, or None without touching the database."""
        return self._rows.get(household_id)

    def params(self) -> Any:
        """The policy parameters (loaded once)."""
        if self._params is None:
            from policies.parameters import load_parameters

            self._params = load_parameters(self.settings.params_dir)
        return self._params

    # ------------------------------------------------------------------ tokens
    def cached_principal(self, token: str) -> auth.Principal | None:
        """A principal verified less than ``token_cache_seconds`` ago, or None."""
        return self._cached_token(auth.hash_token(token))

    async def principal_of(self, token: str) -> auth.Principal | None:
        """The token's principal, from the cache or the database (from the event loop).

        One database check per token at a time: when the cached check expires under load,
        every request waiting on the same token shares the next one, instead of each sending
        its own query through the thread pool (a burst of one query per in-flight request,
        every ``token_cache_seconds``, was a latency spike). The answer is never older than the
        cache's bound: the shared check starts after the cached one expired (with the cache
        off, each request checks for itself).
        """
        return await self._shared_check(auth.hash_token(token), self.verify, token)

    async def principal_of_id(self, token_id: str) -> auth.Principal | None:
        """:meth:`principal_of` for a web session's token, named by id."""
        return await self._shared_check(f"id:{token_id}", self.verify_id, token_id)

    async def _shared_check(self, key: str, check: Callable[[str], Any], arg: str):
        hit = self._cached_token(key)
        if hit is not None:
            return hit
        if self.options.token_cache_seconds <= 0:  # every request checks for itself
            return await anyio.to_thread.run_sync(check, arg)
        pending = self._verifying.get(key)
        if pending is None:
            pending = asyncio.ensure_future(anyio.to_thread.run_sync(check, arg))
            self._verifying[key] = pending
            pending.add_done_callback(lambda _: self._verifying.pop(key, None))
        return await asyncio.shield(pending)

    def verify(self, token: str | None) -> auth.Principal | None:
        """Verify a token against the database (and remember a valid one briefly)."""
        if not token:
            return None
        with self.engine.connect() as conn:
            principal = auth.verify_token(conn, token)
        return self._remember_token(auth.hash_token(token), principal)

    def cached_principal_of_id(self, token_id: str) -> auth.Principal | None:
        """A web session's principal (its token named by id, see ``serving.pages.session``)
        verified less than ``token_cache_seconds`` ago, or None, without a database query."""
        return self._cached_token(f"id:{token_id}")

    def verify_id(self, token_id: str) -> auth.Principal | None:
        """Verify a web session's token (by id) against the database, like :meth:`verify`."""
        with self.engine.connect() as conn:
            principal = auth.verify_token_id(conn, token_id)
        return self._remember_token(f"id:{token_id}", principal)

    def _cached_token(self, key: str) -> auth.Principal | None:
        hit = self._tokens.get(key)
        if hit is None:
            return None
        principal, at = hit
        if time.monotonic() - at > self.options.token_cache_seconds:
            return None
        if principal.expires_at <= dt.datetime.now(dt.UTC):
            return None
        return principal

    def _remember_token(self, key: str, principal: auth.Principal | None) -> auth.Principal | None:
        if principal is not None and self.options.token_cache_seconds > 0:
            if len(self._tokens) > 10_000:
                self._tokens.clear()
            self._tokens[key] = (principal, time.monotonic())
        return principal


def wall_clock() -> dt.datetime:
    """The default service clock: now, UTC."""
    return dt.datetime.now(dt.UTC)


def _registry_watcher(settings: Settings, poll_seconds: float) -> ChampionWatcher:
    from training import model_registry

    store = model_registry.Store.for_settings(settings)
    return ChampionWatcher(
        version_of=lambda: model_registry.champion_version(store),
        load=lambda version: model_registry.load_version(store, version),
        poll_seconds=poll_seconds,
    )
