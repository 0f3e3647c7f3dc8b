"""``outreach keys rotate``: replace the session signing key (issue 18).

Rotating the session key: in one transaction on the service database, under the audit
chain's lock, every web session still open is ended (``end_reason = 'key_rotated'``), a new
random key replaces ``secrets/session.key`` atomically (0600), and one ``key_rotation`` audit
row (actor ``outreach-keys``, role ``system``) records how many sessions ended; the rows say
nothing of either key.

Ending the sessions in the table is what makes the rotation take effect at once: every worker
checks the table on page requests (trusting a check for at most ``token_cache_seconds``, 2 s),
so a cookie signed with the old key stops counting
even in a server still holding that key in memory. Restart ``outreach serve`` afterwards so new
sign-ins are signed with the new key. A key given in ``OUTREACH_SESSION_KEY`` is the
environment's to change: the command refuses it.

The HMAC key of the pseudonymous keys is not rotated by a command: see :data:`HMAC_REFUSAL`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa

from core.errors import ConfigError
from core.secrets import replace_secret
from core.settings import SESSION_KEY_ENV, Settings
from serving.store import chain, db, tables

ACTOR = "outreach-keys"
END_REASON = "key_rotated"
HMAC_REFUSAL = (
    "the HMAC key cannot be rotated in place: every person and household key is an HMAC of an "
    "ID number the system does not keep, so re-keying means re-ingesting the deliveries into a "
    "new workspace (docs/privacy.md, 'Rotation')"
)


@dataclasses.dataclass(frozen=True)
class Rotation:
    """What a rotation did."""

    kind: str
    sessions_ended: int

    def line(self) -> str:
        return (
            f"{self.kind} key rotated; {self.sessions_ended} open session(s) ended; restart "
            "outreach serve so new sign-ins use the new key"
        )


def rotate(settings: Settings, kind: str, now: dt.datetime | None = None) -> Rotation:
    """Rotate the ``kind`` key (only ``session``: see the module docstring).

    Raises:
        ConfigError: ``hmac``, an unknown kind, or a session key given in the environment.
    """
    if kind == "hmac":
        raise ConfigError(HMAC_REFUSAL)
    if kind != "session":
        raise ConfigError(f"unknown key kind {kind!r}: use session (hmac: see docs/privacy.md)")
    if settings.session_key is not None:
        raise ConfigError(f"the session key comes from {SESSION_KEY_ENV}: change it there")
    now = now or dt.datetime.now(dt.UTC)
    engine = db.make_engine(settings.service_db_url)
    try:
        db.upgrade(engine)
        t = tables.web_sessions
        with engine.begin() as conn:
            head = chain.lock(conn)
            ended = conn.execute(
                t.update().where(t.c.ended_at.is_(None)).values(ended_at=now, end_reason=END_REASON)
            ).rowcount
            replace_secret(settings.session_key_path)  # a failure here rolls the ending back
            event = db.AuditEvent(
                actor=ACTOR, role="system", action="key_rotation", resource="session_key",
                purpose="session signing key rotated", at=now,
                detail={"sessions_ended": ended},
            )  # fmt: skip
            chain.append(conn, [event], head)
    finally:
        engine.dispose()
    return Rotation(kind, ended)


def open_sessions(settings: Settings) -> int:
    """How many web sessions are open (for the command's confirmation prompt)."""
    engine = db.make_engine(settings.service_db_url)
    try:
        with engine.connect() as conn:
            t = tables.web_sessions
            q = sa.select(sa.func.count()).select_from(t).where(t.c.ended_at.is_(None))
            return int(conn.execute(q).scalar_one())
    finally:
        engine.dispose()
