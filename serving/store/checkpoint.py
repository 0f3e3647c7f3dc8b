"""Write-ahead-log checkpoints of the service's SQLite database, off the commit path.

SQLite in WAL mode appends every commit to the ``-wal`` file; by default the commit that takes
the log past 1,000 pages also copies the log back into the database and syncs it (an automatic
checkpoint) before it returns. The service's audit writer commits every audited read, so the
log fills every few seconds under load, and the commit that checkpoints holds up every read
waiting for its audit row: measured with ``bench/bench_service.py`` on an idle machine, the
on-demand p99 fell from 18.8-19.3 ms to 11.5-12.3 ms (and 17.2-17.9 to 7.5-9.1 ms with the
explanation cache) with the automatic checkpoint off (docs/api.md, Performance).

So the service's engine turns the automatic checkpoint off (``make_engine(...,
wal_autocheckpoint=False)``) and :class:`WalCheckpointer` runs a ``PASSIVE`` checkpoint on a
connection of its own every ``interval`` seconds, in a thread. A passive checkpoint never
blocks a writer or a reader: it copies what no reader still needs, and the next writer starts
the log again from its beginning once all of it has been copied, so the log stays bounded.
Closing runs a last ``TRUNCATE`` checkpoint. Other processes on the same file (``outreach
score``, ``purge``) keep SQLite's automatic checkpoint.

Example:
    >>> cp = WalCheckpointer(Path("data/service.sqlite3"), interval=1.0).start()  # doctest: +SKIP
    >>> cp.close()  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger(__name__)


class Checkpoint(NamedTuple):
    """What one ``PRAGMA wal_checkpoint`` reported: ``busy`` (1 when it could not finish),
    ``log`` (frames in the log) and ``copied`` (frames copied into the database)."""

    busy: int
    log: int
    copied: int


class WalCheckpointer:
    """Checkpoints ``path``'s write-ahead log every ``interval`` seconds in a daemon thread.

    Args:
        path: the SQLite database file.
        interval: seconds between passive checkpoints (> 0).
        busy_ms: how long a checkpoint may wait for SQLite's locks.
    """

    def __init__(self, path: Path, interval: float, busy_ms: int = 1000) -> None:
        if interval <= 0:
            raise ValueError("interval must be above 0")
        self.path = path
        self.interval = interval
        self.busy_ms = busy_ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failed = False

    def start(self) -> WalCheckpointer:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="wal-checkpoint", daemon=True)
            self._thread.start()
        return self

    def run_once(self, mode: str = "PASSIVE") -> Checkpoint | None:
        """One checkpoint (``PASSIVE`` or ``TRUNCATE``); None when the file is not there or
        SQLite refused (logged once, without the path's contents)."""
        if mode not in ("PASSIVE", "TRUNCATE"):
            raise ValueError(f"unknown checkpoint mode {mode!r}")
        if not self.path.is_file():
            return None
        try:
            con = sqlite3.connect(self.path, timeout=self.busy_ms / 1000, isolation_level=None)
            try:
                row = con.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
            finally:
                con.close()
        except sqlite3.Error as exc:
            if not self._failed:
                log.warning("WAL checkpoint failed (%s); retrying every %.1f s",
                            type(exc).__name__, self.interval)  # fmt: skip
                self._failed = True
            return None
        self._failed = False
        return Checkpoint(*row)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.run_once()

    def close(self) -> None:
        """Stop the thread, then checkpoint everything and empty the log (``TRUNCATE``)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.run_once("TRUNCATE")
