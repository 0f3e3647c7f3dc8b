"""A group-commit writer for the append-only audit log.

Request handlers hand events to :class:`AuditWriter`; one background thread commits them in
batches (one transaction for up to ``max_rows`` events), so an audited read costs a queue put,
not a database commit. Two ways to write:

- :meth:`AuditWriter.write` returns at once; the row is committed within ``linger`` seconds;
- :meth:`AuditWriter.submit` returns a :class:`~concurrent.futures.Future` that resolves when the
  row is committed (``await asyncio.wrap_future(fut)`` in an async route): the response can wait
  for its audit row without paying for a commit of its own, because concurrent requests share it.

Rows are never dropped: the queue is bounded, so when the database is slow or down producers
block (back-pressure) rather than lose events; a commit that fails for a transient reason (the
database is locked, down or unreachable) is retried with back-off, and :meth:`AuditWriter.close`
flushes everything and raises :class:`AuditWriteError` if that fails. Events are validated when
they are built (:class:`~serving.store.db.AuditEvent`), so a malformed one cannot block the queue.

Example:
    >>> with AuditWriter(engine) as audit:                          # doctest: +SKIP
    ...     audit.write(AuditEvent(actor="t1", role="caseworker", action="read",
    ...                            resource="list", purpose="visit planning"))
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from types import TracebackType

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from serving.store.db import AuditEvent, append_audit

log = logging.getLogger(__name__)

_STOP = object()


class AuditWriteError(RuntimeError):
    """Audit events could not be committed (the message carries counts, never event contents)."""


class _Batch:
    __slots__ = ("events", "future", "urgent")

    def __init__(self, events: Sequence[AuditEvent], urgent: bool) -> None:
        self.events = list(events)
        self.urgent = urgent  # someone waits for the commit: do not linger
        self.future: Future[int] = Future()
        self.future.set_running_or_notify_cancel()  # an audit row cannot be cancelled


class AuditWriter:
    """Buffers audit events and commits them from one background thread.

    Args:
        engine: the service database engine.
        linger: seconds a fire-and-forget event may wait for company before its batch commits.
        wait_linger: seconds a batch with a waiting :meth:`submit` caller may wait for company
            (0: it commits at once). Under concurrent reads a millisecond or two gathers the
            other in-flight requests' rows into the same transaction.
        max_rows: the most events in one transaction.
        max_queued: submissions held in memory before :meth:`write` blocks (back-pressure).
        retry_limit_on_close: commit attempts per batch while closing before giving up loudly.
    """

    def __init__(
        self,
        engine: Engine,
        linger: float = 0.05,
        wait_linger: float = 0.0,
        max_rows: int = 1000,
        max_queued: int = 100_000,
        retry_limit_on_close: int = 5,
    ) -> None:
        self.engine = engine
        self.linger = linger
        self.wait_linger = wait_linger
        self.max_rows = max_rows
        self.retry_limit_on_close = retry_limit_on_close
        self._queue: queue.Queue[_Batch | object] = queue.Queue(maxsize=max_queued)
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._failed: list[_Batch] = []
        self.rows_written = 0
        self.commits = 0

    def start(self) -> AuditWriter:
        """Start the background thread (idempotent); returns ``self``."""
        with self._lock:
            if self._closing.is_set():
                raise AuditWriteError("the audit writer is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
                self._thread.start()
        return self

    def submit(self, *events: AuditEvent) -> Future[int]:
        """Queue events; the future resolves (to the count) once they are committed."""
        return self._put(_Batch(events, urgent=True))

    def write(self, *events: AuditEvent) -> None:
        """Queue events and return without waiting for the commit."""
        self._put(_Batch(events, urgent=False))

    def _put(self, batch: _Batch) -> Future[int]:
        if self._thread is None:
            self.start()
        while True:
            with self._lock:  # close() sets the flag under this lock: no put can follow _STOP
                if self._closing.is_set():
                    raise AuditWriteError("the audit writer is closed")
                try:
                    self._queue.put_nowait(batch)
                    return batch.future
                except queue.Full:
                    pass
            time.sleep(0.005)  # back-pressure: wait for the writer rather than drop the event

    def flush(self, timeout: float | None = None) -> None:
        """Block until every event queued before this call is committed.

        Raises:
            AuditWriteError: the writer was closed with events it could not commit.
            TimeoutError: ``timeout`` seconds passed first.
        """
        self.submit().result(timeout=timeout)

    def close(self, timeout: float | None = None) -> None:
        """Commit everything queued, stop the thread; idempotent.

        Raises:
            AuditWriteError: some events could not be committed (the database stayed down).
        """
        with self._lock:
            already = self._closing.is_set()
            self._closing.set()
            thread = self._thread
        if not already and thread is not None:
            self._queue.put(_STOP)
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                raise TimeoutError("the audit writer did not finish in time")
        leftovers = [b for b in self._drain() if isinstance(b, _Batch)]
        if leftovers:
            self._commit(leftovers)
        if self._failed:
            lost = sum(len(b.events) for b in self._failed)
            raise AuditWriteError(f"{lost} audit events could not be committed")

    def __enter__(self) -> AuditWriter:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _drain(self) -> list[_Batch | object]:
        items: list[_Batch | object] = []
        while True:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                return items

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is _STOP:
                break
            assert isinstance(first, _Batch)
            batches, stop = self._gather(first)
            self._commit(batches)

    def _gather(self, first: _Batch) -> tuple[list[_Batch], bool]:
        """Collect more batches until ``max_rows``, the linger deadline, or a waiting caller."""
        batches = [first]
        rows = len(first.events)
        started = time.monotonic()
        while rows < self.max_rows:
            if self._closing.is_set():
                remaining = 0.0
            else:
                urgent = any(b.urgent for b in batches)
                wait = self.wait_linger if urgent else self.linger
                remaining = started + wait - time.monotonic()
            try:
                if remaining > 0:
                    item = self._queue.get(timeout=remaining)
                else:
                    item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                return batches, True
            assert isinstance(item, _Batch)
            batches.append(item)
            rows += len(item.events)
        return batches, False

    def _commit(self, batches: list[_Batch]) -> None:
        events = [e for b in batches for e in b.events]
        attempt = 0
        while True:
            attempt += 1
            try:
                if events:
                    with self.engine.begin() as conn:
                        append_audit(conn, events)
                break
            except Exception as exc:  # retried: audit rows are never dropped silently
                transient = isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError)
                log.warning(
                    "audit commit of %d events failed (%s), attempt %d",
                    len(events),
                    type(exc).__name__,
                    attempt,
                )
                give_up = self._closing.is_set() and attempt >= self.retry_limit_on_close
                if give_up or not transient:  # a non-transient error would fail forever
                    self._failed.extend(batches)
                    error = AuditWriteError(f"{len(events)} audit events could not be committed")
                    for b in batches:
                        b.future.set_exception(error)
                    return
                time.sleep(min(0.05 * 2 ** (attempt - 1), 2.0))
        self.rows_written += len(events)
        self.commits += 1 if events else 0
        for b in batches:
            b.future.set_result(len(b.events))
