"""Cookie sessions and CSRF tokens of the web pages.

A session is a signed cookie (``outreach_session``; HttpOnly, SameSite=Strict, Path=/, Secure
over https, directly or behind a trusted proxy: ``[service] trusted_proxies``) holding the API
token's **id** (never the token), a random nonce and the time it was issued, signed with
HMAC-SHA256 (itsdangerous) under a key kept in the workspace (``secrets/session.key``, created
0600 on first use; ``OUTREACH_SESSION_KEY`` overrides it).

The cookie is only a reference: the session itself is a row of ``web_sessions``
(:mod:`serving.store.websessions`), started at sign-in and ended by signing out, after
``[service] session_idle_minutes`` unused or ``session_hours`` after sign-in. So a signed-out
cookie stays refused after a restart and in every worker. A check is remembered for
``cache_seconds`` (the service's token cache, 2 s), so an end takes effect everywhere within
that. Every request also re-checks the token row, so a session dies within seconds of its token
expiring or being revoked.

CSRF: every form carries ``csrf_token`` = HMAC(key, ``"csrf" | nonce``), compared in constant
time. The sign-in form, which has no session yet, is tied the same way to a random value in the
short-lived ``outreach_signin`` cookie (double submit, signed).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from itsdangerous import BadSignature, URLSafeSerializer

from core.secrets import load_secret
from serving.store.websessions import SessionTable, session_id

COOKIE = "outreach_session"
SIGNIN_COOKIE = "outreach_signin"
LANG_COOKIE = "lang"
FLASH_COOKIE = "outreach_flash"
CSRF_FIELD = "csrf_token"
SESSION_SECONDS = 12 * 3600
SIGNIN_SECONDS = 3600
KEY_ENV = "OUTREACH_SESSION_KEY"
_SALT = "outreach.session.v1"


@dataclasses.dataclass(frozen=True, slots=True)
class Session:
    """One signed-in browser: the token id, a nonce naming the session, when it began."""

    token_id: str
    nonce: str
    issued: int


def load_key(path: Path, environ: Mapping[str, str] | None = None) -> bytes:
    """The signing key: ``OUTREACH_SESSION_KEY``, else ``path``, else a new key written there.

    Raises:
        ConfigError: a key shorter than 32 characters.
    """
    return load_secret(path, KEY_ENV, environ)


class Sessions:
    """Issue, read and end sessions; derive and check CSRF tokens (see the module docstring).

    Args:
        key: the signing key.
        max_age: seconds a session lives (the signed cookie's own bound; the table's absolute
            limit is the same setting).
        clock: the time source (tests).
        table: the server-side sessions; None only where no database exists (signing tests):
            then a well-signed, young enough cookie counts.
        cache_seconds: how long a table check is trusted before it is made again.
    """

    def __init__(
        self,
        key: bytes,
        max_age: float = SESSION_SECONDS,
        clock=time.time,
        table: SessionTable | None = None,
        cache_seconds: float = 2.0,
    ) -> None:
        self._key = key
        self.max_age = max_age
        self._clock = clock
        self._signer = URLSafeSerializer(
            key, salt=_SALT, signer_kwargs={"digest_method": hashlib.sha256}
        )
        self.table = table
        self.cache_seconds = cache_seconds
        self._checked: dict[str, float] = {}  # session id -> monotonic time of a passed check
        self._lock = threading.Lock()

    def issue(self, token_id: str) -> tuple[str, Session]:
        """A new session for a verified token: ``(cookie value, session)``."""
        session = Session(token_id, secrets.token_urlsafe(16), int(self._clock()))
        value = self._signer.dumps([session.token_id, session.nonce, session.issued])
        return value, session

    def read(self, value: str | None) -> Session | None:
        """The session of a cookie value; None when absent, tampered, too old or signed out."""
        if not value or len(value) > 512:
            return None
        try:
            data = self._signer.loads(value)
        except BadSignature:
            return None
        if not (isinstance(data, list) and len(data) == 3):
            return None
        token_id, nonce, issued = data
        if not (isinstance(token_id, str) and isinstance(nonce, str) and isinstance(issued, int)):
            return None
        age = self._clock() - issued
        if age < -60 or age > self.max_age:
            return None
        return Session(token_id, nonce, issued)

    def recently_valid(self, session: Session) -> bool:
        """Whether the session passed a table check less than ``cache_seconds`` ago (no query)."""
        if self.table is None:
            return True
        with self._lock:
            at = self._checked.get(session_id(session.nonce))
        return at is not None and time.monotonic() - at <= self.cache_seconds

    def valid(self, session: Session) -> bool:
        """Whether the session still counts in the table (blocking: call from a thread); an
        idle or expired one is ended there now."""
        if self.table is None:
            return True
        ended = self.table.check(session.nonce, session.token_id, self._now())
        sid = session_id(session.nonce)
        with self._lock:
            if ended is not None:
                self._checked.pop(sid, None)
                return False
            if self.cache_seconds > 0:
                if len(self._checked) > 10_000:
                    self._checked.clear()
                self._checked[sid] = time.monotonic()
        return True

    def begin(self, session: Session) -> None:
        """Record a session just issued (blocking)."""
        if self.table is not None:
            self.table.start(session.nonce, session.token_id, self._now())

    def end(self, session: Session) -> None:
        """Sign a session out (blocking): its cookie is refused from now on, restarts included."""
        with self._lock:
            self._checked.pop(session_id(session.nonce), None)
        if self.table is not None:
            self.table.end(session.nonce, "signed_out", self._now())

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._clock(), dt.UTC)

    def csrf_token(self, session: Session) -> str:
        """The CSRF token of a session's forms."""
        return self._mac("csrf", session.nonce)

    def signin_csrf(self, presession: str) -> str:
        """The CSRF token of the sign-in form tied to the ``outreach_signin`` cookie."""
        return self._mac("signin", presession)

    def _mac(self, purpose: str, value: str) -> str:
        # base64, not hex: a hex digest shown on every page could hold a long digit run
        msg = f"{purpose}|{value}".encode()
        digest = hmac.new(self._key, msg, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def same_token(expected: str, given: object) -> bool:
    """Constant-time comparison of a CSRF token with what the form sent (missing: False)."""
    if not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))
