"""Files of personal data that a command writes for a person to read (access-request reports,
clerical-review files): owner-only, in one folder each under the workspace, named by the UTC
time they were written, so that ``outreach purge`` finds the old ones by their name.

A file is ``<folder>/<prefix>-<YYYYMMDDTHHMMSSZ>-<6 hex>.<suffix>``: the folder is 0700 and the
file 0600 from its creation (``O_EXCL``: never an existing file overwritten).

Example:
    >>> at = dt.datetime(2026, 12, 7, 23, 5, tzinfo=dt.UTC)
    >>> stamped_name("link-review", ".csv", at)[:32]
    'link-review-20261207T230500Z-'
    >>> written_at("link-review-20261207T230500Z-a1b2c3.csv")
    datetime.datetime(2026, 12, 7, 23, 5, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
from pathlib import Path

_STAMP = re.compile(r"-(\d{8}T\d{6}Z)-[0-9a-f]{6}\.[A-Za-z0-9]+$")


def owner_only_dir(folder: Path) -> Path:
    """Make ``folder`` (and its parents) and set it to 0700, also when it existed already."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


def stamped_name(prefix: str, suffix: str, at: dt.datetime) -> str:
    """``<prefix>-<UTC time>-<6 random hex>.<suffix>`` (``suffix`` with its dot)."""
    stamp = at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{prefix}-{stamp}-{secrets.token_hex(3)}{suffix}"


def write_owner_only(folder: Path, prefix: str, suffix: str, data: bytes, at: dt.datetime) -> Path:
    """Write ``data`` to a new stamped file in the owner-only ``folder``; its path."""
    owner_only_dir(folder)
    path = folder / stamped_name(prefix, suffix, at)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    return path


def written_at(name: str) -> dt.datetime | None:
    """The UTC time in a stamped file name; ``None`` for a name without one."""
    found = _STAMP.search(name)
    if found is None:
        return None
    return dt.datetime.strptime(found.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)


def files_before(folder: Path, cut: dt.datetime) -> list[Path]:
    """The files of ``folder`` written before ``cut``: by the time in their name, or for a file
    put there under another name, by its modification time (nothing in the folder is exempt)."""
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.is_symlink():
            continue
        at = written_at(path.name)
        if at is None:
            at = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
        if at < cut:
            out.append(path)
    return out
