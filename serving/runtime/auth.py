"""Bearer tokens, roles and jurisdictions: who may call the service, and on which households.

A token is ``otk_<id>_<secret>``: ``id`` is a short public reference (shown by ``outreach token
list``, written in the audit log), ``secret`` 32 random bytes. The database keeps only the
SHA-256 of the whole token, its role, jurisdiction, expiry, revocation time and **holder** (the
person it was issued to, ``outreach token create --holder``: the audit log names a token, and the
token names a person); a tampered, expired or revoked token authenticates nobody.

Roles (``serving.store.tables.ROLES``) and what they may do (:data:`PERMISSIONS`):

- ``caseworker``: own jurisdiction only (a village token: its village; a township token: the
  township and its villages); reads lists and households, records outcomes and corrections;
- ``supervisor``: the county (a 6-digit county code, or every county when none is given);
  reads and records like a caseworker, sees all corrections;
- ``auditor``: read-only, everything, including explanations, corrections and the audit log;
- ``data_scientist``: read-only pseudonymous data (no masked names, no visit notes, no
  corrections' free text).

Example:
    >>> token, row = new_token("caseworker", "330226001", days=30)   # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import secrets
import unicodedata
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.errors import ConfigError
from serving.store.tables import ROLES, api_tokens

TOKEN_PREFIX = "otk_"
DEFAULT_DAYS = 90
MAX_DAYS = 366
_TOKEN_RE = re.compile(r"^otk_([0-9a-f]{10})_([A-Za-z0-9_-]{43})$")
_CODE_LEN = {"county": 6, "township": 9, "village": 12}
HOLDER_MAX = 80
_DIGIT_RUN = re.compile(r"\d{6}")

# actions -> roles allowed (the application's policy; tests hold their own literal table)
PERMISSIONS: Mapping[str, frozenset[str]] = {
    "read": frozenset(ROLES),
    "record": frozenset({"caseworker", "supervisor"}),
    "read_corrections": frozenset({"caseworker", "supervisor", "auditor"}),
    "list_corrections": frozenset({"supervisor", "auditor"}),
    "read_audit_log": frozenset({"auditor"}),
}
IDENTIFIED_ROLES = frozenset({"caseworker", "supervisor", "auditor"})
"""Roles shown masked names and visit notes; ``data_scientist`` gets pseudonymous data only."""


@dataclasses.dataclass(frozen=True, slots=True)
class Principal:
    """The caller behind a verified token."""

    token_id: str
    role: str
    jurisdiction: str | None
    expires_at: dt.datetime
    holder: str | None = None

    @property
    def identified(self) -> bool:
        """Whether masked names and notes may be shown to this caller."""
        return self.role in IDENTIFIED_ROLES

    def may(self, action: str) -> bool:
        """Whether the role may perform ``action`` (a key of :data:`PERMISSIONS`)."""
        return self.role in PERMISSIONS[action]

    def sees_household(self, township_code: str, village_code: str) -> bool:
        """Whether a household in this township and village is inside the caller's area."""
        j = self.jurisdiction
        if self.role in ("auditor", "data_scientist") or j is None:
            return True
        if self.role == "supervisor":
            return township_code.startswith(j)
        return village_code == j if len(j) == 12 else township_code == j

    def sees_jurisdiction(self, code: str) -> bool:
        """Whether the caller may open the list of a township or village code."""
        j = self.jurisdiction
        if self.role in ("auditor", "data_scientist") or j is None:
            return True
        if self.role == "supervisor":
            return code.startswith(j)
        return code == j if len(j) == 12 else code.startswith(j)


def hash_token(token: str) -> str:
    """The stored form of a token (SHA-256, hex)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_scope(role: str, jurisdiction: str | None) -> None:
    """Validate a role and its jurisdiction code.

    Raises:
        ConfigError: unknown role, or a code that does not fit the role (caseworkers need a
            9-digit township or 12-digit village code; supervisors may have a 6-digit county
            code; auditors and data scientists have none).
    """
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if jurisdiction is not None and not jurisdiction.isdigit():
        raise ConfigError("--jurisdiction must be digits")
    if role == "caseworker":
        if jurisdiction is None or len(jurisdiction) not in (9, 12):
            raise ConfigError(
                "a caseworker token needs --jurisdiction: a 9-digit township or 12-digit "
                "village code"
            )
    elif role == "supervisor":
        if jurisdiction is not None and len(jurisdiction) != 6:
            raise ConfigError("a supervisor's --jurisdiction is a 6-digit county code")
    elif jurisdiction is not None:
        raise ConfigError(f"a {role} token covers the whole service: give no --jurisdiction")


def check_holder(holder: str) -> str:
    """The holder's name, trimmed (a person's or a post's name, shown to auditors).

    Raises:
        ConfigError: empty, longer than 80 characters, with control characters, or holding a run
            of six digits (an ID or phone number is not a name).
    """
    name = " ".join(holder.split())
    if not name:
        raise ConfigError("--holder must name the person the token is for")
    if len(name) > HOLDER_MAX:
        raise ConfigError(f"--holder is at most {HOLDER_MAX} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        raise ConfigError("--holder must not contain control characters")
    if _DIGIT_RUN.search(unicodedata.normalize("NFKC", name)):
        raise ConfigError("--holder is a name: no ID or phone numbers")
    return name


def new_token(
    role: str,
    jurisdiction: str | None = None,
    days: int = DEFAULT_DAYS,
    now: dt.datetime | None = None,
    holder: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """A fresh token and the ``api_tokens`` row that stores its hash.

    Raises:
        ConfigError: see :func:`check_scope` and :func:`check_holder`; ``days`` outside 1..366.
    """
    check_scope(role, jurisdiction)
    holder = check_holder(holder) if holder is not None else None
    if not 1 <= days <= MAX_DAYS:
        raise ConfigError(f"--days must be between 1 and {MAX_DAYS}")
    now = now or dt.datetime.now(dt.UTC)
    token_id = secrets.token_hex(5)
    token = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    row = {
        "id": token_id,
        "token_hash": hash_token(token),
        "role": role,
        "jurisdiction_code": jurisdiction,
        "created_at": now,
        "expires_at": now + dt.timedelta(days=days),
        "revoked_at": None,
        "holder": holder,
    }
    return token, row


def create_token(
    conn: Connection,
    role: str,
    jurisdiction: str | None = None,
    days: int = DEFAULT_DAYS,
    holder: str | None = None,
) -> tuple[str, str]:
    """Store a new token; returns ``(token, id)``. The token is shown once and never stored.
    ``outreach token create`` always names a ``holder``; ``None`` is left for tests."""
    token, row = new_token(role, jurisdiction, days, holder=holder)
    conn.execute(api_tokens.insert().values(**row))
    return token, row["id"]


def revoke_token(conn: Connection, token_id: str, now: dt.datetime | None = None) -> bool:
    """Revoke a token by id; False when no such unrevoked token exists."""
    now = now or dt.datetime.now(dt.UTC)
    result = conn.execute(
        api_tokens.update()
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount == 1


def list_tokens(conn: Connection) -> list[dict[str, Any]]:
    """Every token row except its hash, newest first."""
    cols = [c for c in api_tokens.c if c.name != "token_hash"]
    rows = conn.execute(sa.select(*cols).order_by(api_tokens.c.created_at.desc()))
    return [dict(r) for r in rows.mappings()]


def verify_token(
    conn: Connection, token: str | None, now: dt.datetime | None = None
) -> Principal | None:
    """The principal of a valid token, or None (missing, malformed, unknown, expired, revoked)."""
    if not token:
        return None
    match = _TOKEN_RE.match(token)
    if match is None:
        return None
    row = (
        conn.execute(sa.select(api_tokens).where(api_tokens.c.token_hash == hash_token(token)))
        .mappings()
        .first()
    )
    now = now or dt.datetime.now(dt.UTC)
    if row is None or row["id"] != match.group(1):
        return None
    if row["revoked_at"] is not None or row["expires_at"] <= now:
        return None
    return _principal(row)


def _principal(row: Mapping[str, Any]) -> Principal:
    return Principal(row["id"], row["role"], row["jurisdiction_code"], row["expires_at"],
                     row.get("holder"))  # fmt: skip


def holders(conn: Connection, token_ids: set[str]) -> dict[str, str]:
    """The holder of each named token that has one (for the audit log's readers)."""
    if not token_ids:
        return {}
    q = sa.select(api_tokens.c.id, api_tokens.c.holder).where(
        api_tokens.c.id.in_(sorted(token_ids)), api_tokens.c.holder.is_not(None)
    )
    return {i: h for i, h in conn.execute(q)}


def verify_token_id(
    conn: Connection, token_id: str, now: dt.datetime | None = None
) -> Principal | None:
    """The principal of a token known by its id only (a web session names its token by id),
    or None when no such token exists or it has expired or been revoked."""
    if not re.fullmatch(r"[0-9a-f]{10}", token_id or ""):
        return None
    row = conn.execute(sa.select(api_tokens).where(api_tokens.c.id == token_id)).mappings().first()
    now = now or dt.datetime.now(dt.UTC)
    if row is None or row["revoked_at"] is not None or row["expires_at"] <= now:
        return None
    return _principal(row)


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None
