"""A guard that sees every open of a file under a truth folder while it is on (a test helper).

Two watchers, because the pipeline reads files through three engines:

- a Python audit hook on ``"open"`` (:func:`sys.addaudithook`) sees ``open()``, ``Path.read_*``
  and everything else that opens through Python, and refuses the open (raises
  :class:`TruthRead`) while the guard is on;
- Linux ``inotify`` on the folder and its subfolders sees the opens that never pass through
  Python: pyarrow's and DuckDB's C++ readers (``pq.read_table``, ``read_parquet``), in any thread.

Audit hooks cannot be removed, so the hook is installed once per process and does nothing unless
a guard is on (a module-level flag, not a context variable: reads from worker threads count too).

Example:
    with TruthGuard(world / "truth") as guard:
        run_the_pipeline()
    assert guard.opened == []
"""

from __future__ import annotations

import ctypes
import os
import struct
import sys
import threading
from pathlib import Path

IN_ACCESS = 0x001
IN_OPEN = 0x020
IN_NONBLOCK = os.O_NONBLOCK
_EVENT = struct.Struct("iIII")


class TruthRead(PermissionError):
    """An open of a truth path while the guard is on."""


_lock = threading.Lock()
_active: list[TruthGuard] = []
_installed = False


def _hook(event: str, args: tuple) -> None:
    if event != "open" or not _active:
        return
    target = args[0]
    if isinstance(target, int):
        return
    try:
        path = os.path.abspath(os.fsdecode(target))
    except (TypeError, ValueError):
        return
    for guard in list(_active):
        if path == guard.root or path.startswith(guard.root + os.sep):
            guard.opened.append(path)
            raise TruthRead(f"truth read while guarded: {path}")


def _install() -> None:
    global _installed
    with _lock:
        if not _installed:
            sys.addaudithook(_hook)
            _installed = True


class TruthGuard:
    """See the module docstring. ``opened`` lists every truth path opened while on."""

    def __init__(self, root: Path) -> None:
        self.root = os.path.abspath(root)
        self.opened: list[str] = []
        self._libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self._fd = -1
        self._dirs: dict[int, str] = {}

    def __enter__(self) -> TruthGuard:
        _install()
        self._fd = self._libc.inotify_init1(IN_NONBLOCK)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        folders = [folder for folder, _subdirs, _files in os.walk(self.root)]  # walk, then watch:
        for folder in folders:  # the walk's own directory reads are not the pipeline's
            wd = self._libc.inotify_add_watch(self._fd, folder.encode(), IN_OPEN | IN_ACCESS)
            if wd < 0:
                raise OSError(ctypes.get_errno(), f"inotify_add_watch failed on {folder}")
            self._dirs[wd] = folder
        with _lock:
            _active.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        with _lock:
            _active.remove(self)
        try:
            self._drain()
        finally:
            os.close(self._fd)

    def _drain(self) -> None:
        seen = set(self.opened)
        while True:
            try:
                data = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                return
            i = 0
            while i < len(data):
                wd, _mask, _cookie, size = _EVENT.unpack_from(data, i)
                name = data[i + _EVENT.size : i + _EVENT.size + size].rstrip(b"\0").decode()
                i += _EVENT.size + size
                path = os.path.join(self._dirs.get(wd, self.root), name) if name else self._dirs[wd]
                if path not in seen:
                    seen.add(path)
                    self.opened.append(path)
