"""Pseudonymous keys: keyed hashes (HMAC-SHA256) of normalized identifiers.

The key is kept outside the repository: ``$OUTREACH_HMAC_KEY`` when set, else a file in the
workspace (``secrets/hmac.key``, mode 0600) generated on first use. Stages do not read the
environment themselves: they call :func:`pseudonymizer_for` with their settings, so the key given
to :func:`core.settings.load_settings` is the one used. Without the key nobody can turn a person
key back into an ID number by hashing every possible number. The warehouse stores a
fingerprint of the key and refuses to mix keys made with two different secrets.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from core.secrets import load_secret
from core.settings import Settings

KEY_ENV = "OUTREACH_HMAC_KEY"
KEY_HEX_CHARS = 24  # 96 bits: no collision in any county's population


@dataclass(frozen=True)
class Pseudonymizer:
    """Makes person and household keys with one secret."""

    secret: bytes

    def _digest(self, kind: bytes, value: str) -> str:
        mac = hmac.new(self.secret, kind + b":" + value.encode("utf-8"), hashlib.sha256)
        return mac.hexdigest()[:KEY_HEX_CHARS]

    def person_key(self, id18: str) -> str:
        """Key of the person with this normalized 18-character ID number."""
        return "P" + self._digest(b"person", id18)

    def household_key(self, registry_household_no: str) -> str:
        """Key of the registered household with this registry number."""
        return "H" + self._digest(b"household", registry_household_no)

    def person_keys(self, ids: Iterable[str]) -> dict[str, str]:
        """Keys of many distinct IDs (hash each once)."""
        return {i: self.person_key(i) for i in set(ids)}

    def household_keys(self, numbers: Iterable[str]) -> dict[str, str]:
        return {n: self.household_key(n) for n in set(numbers)}

    @property
    def fingerprint(self) -> str:
        """A public fingerprint of the secret (tells two secrets apart, reveals nothing)."""
        return self._digest(b"fingerprint", "outreach")


def load_pseudonymizer(path: Path, environ: Mapping[str, str] | None = None) -> Pseudonymizer:
    """The secret from ``$OUTREACH_HMAC_KEY``, else from ``path``, else a new one written there."""
    return Pseudonymizer(load_secret(path, KEY_ENV, environ))


def pseudonymizer_for(settings: Settings) -> Pseudonymizer:
    """The workspace's pseudonymizer: the key the settings carry, else the workspace's key file."""
    return load_pseudonymizer(settings.secret_path, environ=settings.key_environ())
