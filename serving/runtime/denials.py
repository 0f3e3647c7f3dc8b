"""Refusals on the record: every 401, 403, out-of-area 404, failed sign-in and CSRF failure is
an ``audit_log`` row with action ``denied``, capped so that no one can flood the log.

Each caller (a token id when known, else the client address) gets at most ``per_minute`` rows a
minute; beyond that refusals are counted, and when the minute is over one more row records how
many were left out (resource ``denied_suppressed``, ``detail.count``). Rows go through the
group-commit writer without waiting (a refusal is never delayed by the log), and a log line
names the route template and the reason, never the values asked for.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from serving.runtime.audit import AuditWriteError, AuditWriter
from serving.store.db import AuditEvent

log = logging.getLogger(__name__)
PURPOSE = "refused request (recorded for audit)"


class Denials:
    """Record refusals with a per-caller cap (see the module docstring).

    Args:
        audit: the audit writer.
        per_minute: rows per caller per minute before refusals are only counted.
        clock: seconds (monotonic) for the windows (tests).
    """

    def __init__(
        self, audit: AuditWriter, per_minute: int = 20, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.audit = audit
        self.per_minute = per_minute
        self._clock = clock
        self._windows: dict[str, list[Any]] = {}  # key -> [start, written, suppressed, actor, role]
        self._lock = threading.Lock()

    def record(
        self,
        *,
        key: str,
        actor: str,
        role: str,
        route: str,
        status: int,
        reason: str,
        request_id: str | None = None,
        household_id: str | None = None,
        jurisdiction_code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> bool:
        """Record one refusal; False when it was only counted (over the cap)."""
        now = self._clock()
        summaries = []
        with self._lock:
            window = self._windows.get(key)
            if window is None or now - window[0] >= 60:
                if window is not None and window[2]:
                    summaries.append(self._summary(key, window))
                window = self._windows[key] = [now, 0, 0, actor, role]
            write = window[1] < self.per_minute
            window[1 if write else 2] += 1
        log.info("denied %d %s on %s (%s)", status, reason, route, actor)
        events = [self._event(*s) for s in summaries]
        if write:
            detail = {"status": status, "reason": reason, "route": route, **(extra or {})}
            events.append(AuditEvent(
                actor=actor, role=role, action="denied", resource=route, purpose=PURPOSE,
                household_id=household_id, jurisdiction_code=jurisdiction_code,
                request_id=request_id, detail=detail,
            ))  # fmt: skip
        if events:
            try:
                self.audit.write(*events)
            except AuditWriteError:  # closing: the refusal itself still stands
                log.warning("a denied row could not be queued (the audit writer is closed)")
        return write

    def flush(self) -> int:
        """Write the counts of finished windows (called periodically and at close)."""
        now = self._clock()
        with self._lock:
            done = [(k, w) for k, w in self._windows.items() if now - w[0] >= 60]
            for k, _ in done:
                del self._windows[k]
        events = [self._event(*self._summary(k, w)) for k, w in done if w[2]]
        if events:
            self.audit.write(*events)
        return len(events)

    def close(self) -> int:
        """Write every pending count now."""
        with self._lock:
            pending = list(self._windows.items())
            self._windows.clear()
        events = [self._event(*self._summary(k, w)) for k, w in pending if w[2]]
        if events:
            self.audit.write(*events)
        return len(events)

    @staticmethod
    def _summary(key: str, window: list[Any]) -> tuple[str, str, int]:
        return window[3], window[4], window[2]

    @staticmethod
    def _event(actor: str, role: str, count: int) -> AuditEvent:
        return AuditEvent(
            actor=actor, role=role, action="denied", resource="denied_suppressed",
            purpose=PURPOSE, detail={"count": count, "until": dt.datetime.now(dt.UTC).isoformat()},
        )  # fmt: skip
