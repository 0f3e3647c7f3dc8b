"""Cookie sessions and CSRF tokens of the web pages.

A session is a signed cookie (``outreach_session``; HttpOnly, SameSite=Strict, Path=/, Secure
over https) holding the API token's **id** (never the token), a random nonce and the time it was
issued, signed with HMAC-SHA256 (itsdangerous) under a key kept in the workspace
(``secrets/session.key``, created 0600 on first use; ``OUTREACH_SESSION_KEY`` overrides it).
Every request re-checks the token row through the service's token cache, so a session dies
within seconds of its token expiring or being revoked. A session also ends after
:data:`SESSION_SECONDS`, and signing out deny-lists its nonce (in memory: a restart forgets the
list, bounded by the session lifetime; revoke the token for a hard stop).

CSRF: every form carries ``csrf_token`` = HMAC(key, ``"csrf" | nonce``), compared in constant
time. The sign-in form, which has no session yet, is tied the same way to a random value in the
short-lived ``outreach_signin`` cookie (double submit, signed).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from itsdangerous import BadSignature, URLSafeSerializer

from core.secrets import load_secret

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
        max_age: seconds a session lives.
        clock: the time source (tests).
    """

    def __init__(self, key: bytes, max_age: int = SESSION_SECONDS, clock=time.time) -> None:
        self._key = key
        self.max_age = max_age
        self._clock = clock
        self._signer = URLSafeSerializer(
            key, salt=_SALT, signer_kwargs={"digest_method": hashlib.sha256}
        )
        self._ended: dict[str, float] = {}
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
        with self._lock:
            if nonce in self._ended:
                return None
        return Session(token_id, nonce, issued)

    def end(self, session: Session) -> None:
        """Sign a session out (its cookie is refused from now on, until a restart)."""
        now = self._clock()
        with self._lock:
            self._ended[session.nonce] = session.issued + self.max_age
            if len(self._ended) > 10_000:  # forget nonces whose sessions are over anyway
                self._ended = {n: until for n, until in self._ended.items() if until > now}

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
