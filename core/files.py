"""Personal data at rest is owner-only: the workspace's folders are 0700 and its files 0600.

The workspace holds names, birth dates, health and money facts (the warehouse, the service
database, snapshots, reports, exports) and the keys that make every pseudonym. Every process of
ours sets the owner-only file-creation mask first (:func:`restrict_new_files`, called by the CLI's
``main``), so everything it creates is readable by its owner alone, whatever library creates it
(DuckDB, SQLite, Parquet, MLflow). :func:`loose_paths` finds what was made wider by hand or by an
older version; the service warns about them at start (one line, no contents).

Example:
    >>> restrict_new_files()  # doctest: +SKIP
    >>> loose_paths(Path("/srv/outreach"))  # doctest: +SKIP
    [PosixPath('/srv/outreach/data/warehouse.duckdb')]
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

OWNER_ONLY_UMASK = 0o077
"""The file-creation mask: no bit for the group or others."""
WIDE_BITS = stat.S_IRWXG | stat.S_IRWXO


def restrict_new_files() -> int:
    """Make every file and folder this process creates owner-only; returns the previous mask."""
    return os.umask(OWNER_ONLY_UMASK)


def loose_paths(root: Path, limit: int = 20) -> list[Path]:
    """Paths below ``root`` (``root`` included) that the group or others may read or enter.

    Links are not followed. At most ``limit`` paths are returned (the first found).
    """
    if not root.exists():
        return []
    found: list[Path] = []
    candidates = [root]
    for folder, dirs, files in os.walk(root, followlinks=False):
        base = Path(folder)
        candidates.extend(base / name for name in (*dirs, *files))
        for path in candidates:
            try:
                mode = path.lstat().st_mode
            except OSError:  # removed while walking
                continue
            if not stat.S_ISLNK(mode) and mode & WIDE_BITS:
                found.append(path)
                if len(found) >= limit:
                    return found
        candidates = []
    return found


def tighten(root: Path) -> int:
    """Take the group's and others' bits off everything below ``root``; returns how many paths
    changed (for ``outreach`` operators fixing a workspace made before this check)."""
    changed = 0
    for path in loose_paths(root, limit=10**9):
        mode = path.lstat().st_mode
        path.chmod(stat.S_IMODE(mode) & ~WIDE_BITS)
        changed += 1
    return changed
