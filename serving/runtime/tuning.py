"""Process settings for serving (one LightGBM thread, a short thread switch interval)."""

from __future__ import annotations

import os
import sys

SWITCH_INTERVAL_S = 0.0005
"""The interpreter's thread switch interval when serving (CPython's default is 5 ms): the audit
writer and the run watcher get the GIL back within half a millisecond of needing it, so a
response waiting for its audit row's group commit does not wait out the event loop's slice
(p99 of on-demand scores at 10 clients ~26 -> ~20 ms; ``bench/bench_service.py``)."""


def tune_process() -> None:
    """Process settings for serving: LightGBM on one thread (its OpenMP and fork do not mix,
    FIELD-NOTES) and a short thread switch interval (:data:`SWITCH_INTERVAL_S`)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.setswitchinterval(SWITCH_INTERVAL_S)
