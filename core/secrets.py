"""Secret keys: one loader for every key the project keeps (the HMAC key of the pseudonymous
keys, the session signing key).

A key comes from its environment variable when that is set, else from its file in the workspace,
else it is generated there on first use (``secrets/<name>.key``, folder 0700, file 0600). Two
processes starting at once both end up with the same key: the file is created exclusively and the
loser reads the winner's key. A key shorter than :data:`MIN_KEY_CHARS` is refused with one line
that names where it came from, never the key itself.

Example:
    >>> load_secret(tmp_path / "secrets" / "hmac.key", "OUTREACH_HMAC_KEY", {})  # doctest: +SKIP
    b'3f9c...'
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from core.errors import ConfigError

MIN_KEY_CHARS = 32


def load_secret(path: Path, env_var: str, environ: Mapping[str, str] | None = None) -> bytes:
    """The key from ``env_var``, else from ``path``, else a new key written to ``path``.

    Raises:
        ConfigError: a key shorter than :data:`MIN_KEY_CHARS` characters.
    """
    env = os.environ if environ is None else environ
    value = env.get(env_var)
    if value:
        if len(value) < MIN_KEY_CHARS:
            raise ConfigError(f"{env_var} must hold at least {MIN_KEY_CHARS} characters")
        return value.encode("utf-8")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process wrote it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(secrets.token_hex(32) + "\n")
    text = path.read_text(encoding="utf-8").strip()
    if len(text) < MIN_KEY_CHARS:
        raise ConfigError(f"{path} holds no usable key (at least {MIN_KEY_CHARS} characters)")
    return text.encode("utf-8")


def replace_secret(path: Path) -> None:
    """Write a new random key to ``path`` (0600, folder 0700), replacing the old one atomically:
    a process reading the file sees the old key or the new one, never a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fresh = path.with_name(f".{path.name}.{secrets.token_hex(4)}.new")
    fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(secrets.token_hex(32) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(fresh, path)
