"""Server-side web sessions (``web_sessions``): started at sign-in, touched while used, ended by
signing out, by the idle timeout or by the absolute lifetime. The cookie stays a signed
reference (:mod:`serving.pages.session`); this table decides whether it still counts, so an
ended session stays ended after a restart and in every worker.

A session's row id is the SHA-256 of the cookie's nonce: the table alone cannot be turned back
into a cookie.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from serving.store.tables import web_sessions


def session_id(nonce: str) -> str:
    """The stored id of a session's nonce."""
    return hashlib.sha256(nonce.encode("utf-8")).hexdigest()


@dataclasses.dataclass(frozen=True, slots=True)
class Limits:
    """How long a session lives: unused (``idle``), and at most (``absolute``)."""

    idle: dt.timedelta
    absolute: dt.timedelta

    @property
    def touch_every(self) -> dt.timedelta:
        """How stale ``seen_at`` may be before a use writes it again (a tenth of the idle
        timeout, at most a minute): the idle timeout is kept to within this much."""
        return min(self.idle / 10, dt.timedelta(minutes=1))


class SessionTable:
    """Start, check and end sessions in ``web_sessions`` (blocking: call from a thread)."""

    def __init__(self, engine: Engine, limits: Limits) -> None:
        self.engine = engine
        self.limits = limits

    def start(self, nonce: str, token_id: str, now: dt.datetime | None = None) -> None:
        """Record a new session for a verified token."""
        now = now or dt.datetime.now(dt.UTC)
        row = {"id": session_id(nonce), "token_id": token_id, "started_at": now, "seen_at": now}
        with self.engine.begin() as conn:
            conn.execute(web_sessions.insert().values(**row))

    def check(self, nonce: str, token_id: str, now: dt.datetime | None = None) -> str | None:
        """None while the session counts (its use is recorded), else why not: ``unknown``,
        ``signed_out``, ``idle`` or ``expired`` (an idle or expired session is ended now)."""
        now = now or dt.datetime.now(dt.UTC)
        sid = session_id(nonce)
        t = web_sessions.c
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(web_sessions).where(t.id == sid)).mappings().first()
            if row is None or row["token_id"] != token_id:
                return "unknown"
            if row["ended_at"] is not None:
                return row["end_reason"] or "signed_out"
            ended = None
            if now - row["started_at"] > self.limits.absolute:
                ended = "expired"
            elif now - row["seen_at"] > self.limits.idle:
                ended = "idle"
            if ended is not None:
                conn.execute(web_sessions.update().where(t.id == sid, t.ended_at.is_(None))
                             .values(ended_at=now, end_reason=ended))  # fmt: skip
                return ended
            if now - row["seen_at"] > self.limits.touch_every:
                conn.execute(web_sessions.update().where(t.id == sid).values(seen_at=now))
        return None

    def end(self, nonce: str, reason: str = "signed_out", now: dt.datetime | None = None) -> bool:
        """End a session; False when it had already ended (or never existed)."""
        now = now or dt.datetime.now(dt.UTC)
        t = web_sessions.c
        with self.engine.begin() as conn:
            done = conn.execute(
                web_sessions.update()
                .where(t.id == session_id(nonce), t.ended_at.is_(None))
                .values(ended_at=now, end_reason=reason)
            )
        return done.rowcount == 1
