"""Hot model swap: follow the registry's ``champion`` alias without a restart.

:class:`ChampionWatcher` polls the alias (a cheap registry query, ~5 ms on the local store) from
a background thread every ``poll_seconds``; when it names a new version, the new model is loaded
in that thread and then published with one reference assignment. A request takes
:meth:`ChampionWatcher.current` **once** and uses that :class:`ModelRef` for everything it
computes, so no response mixes two versions, and no request waits for a load. Until the first
load finishes (or when there is no champion) ``current()`` is ``None``.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class ModelRef:
    """One loaded model version (an ``training.estimators.OutreachModel``)."""

    version: str
    model: Any

    @property
    def feature_set_version(self) -> str:
        """The feature set the model was trained on."""
        return str(self.model.feature_set_version)


class ChampionWatcher:
    """Keeps the champion model loaded and follows the alias.

    Args:
        version_of: returns the version the alias names now (None: no champion).
        load: loads a version, returning ``(model, version)``.
        poll_seconds: seconds between alias checks in the background thread.
    """

    def __init__(
        self,
        version_of: Callable[[], str | None],
        load: Callable[[str], tuple[Any, str]],
        poll_seconds: float = 2.0,
    ) -> None:
        self._version_of = version_of
        self._load = load
        self.poll_seconds = poll_seconds
        self._ref: ModelRef | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.swaps = 0
        self.last_error: str | None = None
        self._listeners: list[Callable[[ModelRef], None]] = []

    def current(self) -> ModelRef | None:
        """The model to use for one request (take it once per request)."""
        return self._ref

    def on_swap(self, listener: Callable[[ModelRef], None]) -> None:
        """Call ``listener`` with the new reference after every swap."""
        self._listeners.append(listener)

    def poll(self) -> bool:
        """Check the alias once and load a new champion if it moved; True when it swapped."""
        with self._lock:  # one load at a time (the thread and an explicit call)
            try:
                version = self._version_of()
                if version is None or (self._ref is not None and self._ref.version == version):
                    return False
                model, loaded = self._load(version)
            except Exception as exc:  # keep serving the current model; reported by /readyz
                self.last_error = type(exc).__name__
                log.warning(
                    "champion check failed (%s); keeping the current model", self.last_error
                )
                return False
            self.last_error = None
            ref = ModelRef(str(loaded), model)
            self._ref = ref
            self.swaps += 1
        log.info("serving model version %s", ref.version)
        for listener in self._listeners:
            listener(ref)
        return True

    def start(self) -> ChampionWatcher:
        """Start the background thread (idempotent)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="champion-watcher", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the background thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll()
            self._stop.wait(self.poll_seconds)
