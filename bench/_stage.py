"""Run one `outreach` command in a fresh process and measure it (shared by the benchmarks)."""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = """
import json, resource, sys, time
from outreach.cli import main
t = time.perf_counter()
code = main(sys.argv[1:])
secs = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
print(json.dumps({"code": code, "seconds": secs, "peak_gb": peak}), file=sys.stderr)
"""


def stage(args: list[str]) -> dict:
    """`outreach ARGS` in a child process: its wall time in seconds and peak memory in GB.

    Exits with the child's stderr when the command fails.
    """
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, *args], capture_output=True, text=True, check=False
    )
    lines = proc.stderr.strip().splitlines()
    result = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {"code": -1}
    if result["code"] != 0:
        sys.exit(f"stage {args[0]} failed:\n{proc.stderr[-2000:]}")
    return result
