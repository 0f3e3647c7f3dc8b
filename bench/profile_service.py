"""Profile the service bench's two loads: CPU per request, and py-spy stacks (a benchmark).

Usage: python bench/profile_service.py --workspace WS [--tree DIR ...] [--seconds 10]
       [--py-spy OUT_PREFIX]

Starts the server of ``bench/bench_service.py`` (one uvicorn worker, explanation cache off)
from each code tree given (``--tree``: a checkout with its own ``.venv``, e.g. main and a
branch, in the order given: repeat them to interleave), runs the bench's two ``wrk`` loads
(lists at 50 connections, on-demand score + explanation at 10) after the same warm-up, and
prints per load: requests a second, p50, p99, and the server process's CPU time per request,
which depends much less on what else the machine runs than the latency does. ``--py-spy``
records the server during each measured load (``py-spy record --threads --format raw``: one
file per tree and load, collapsed stacks; py-spy must be installed, and its sampling costs the
server CPU, so compare CPU figures of runs without it). Needs a built workspace (run
``bench_service.py`` once, or give the one it printed).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_service import LUA, SERVER, ensure_wrk, free_port, wait_ready

HERE = Path(__file__).resolve().parents[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(wrk: str, base: str, lua: str, conns: int, secs: int, pid: int, spy: str | None):
    subprocess.run([wrk, "-t1", f"-c{conns}", "-d5s", "-s", lua, base],
                   capture_output=True, check=True)  # fmt: skip
    recorder = None
    if spy:
        recorder = subprocess.Popen(
            ["py-spy", "record", "-p", str(pid), "-d", str(secs), "-r", "250", "--threads",
             "--format", "raw", "-o", spy],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    before, load = cpu_seconds(pid), os.getloadavg()[0]
    out = subprocess.run([wrk, "-t1", f"-c{conns}", f"-d{secs}s", "--latency", "-s", lua, base],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    used = cpu_seconds(pid) - before
    if recorder is not None:
        recorder.wait()
    n = int(re.search(r"(\d+) requests in", out).group(1))
    q = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (f"{n / secs:6.0f} req/s, p50 {q.get('50')}, p99 {q.get('99')}, "
            f"CPU {1e6 * used / max(n, 1):5.0f} us/request, load {load:.2f}, "
            f"non-2xx {errors.group(1) if errors else 0}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--tree", type=Path, action="append", help="code tree (default: this)")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--py-spy", dest="spy", help="prefix of the py-spy output files")
    args = parser.parse_args()
    if not (args.workspace / "data").is_dir():
        sys.exit(f"no workspace at {args.workspace}: build one with bench/bench_service.py")
    wrk = ensure_wrk()
    from _service import prepare

    target, _ = prepare(args.workspace, 0, "", "auditor", "service profile")
    loads = {
        "lists": ([f"/api/v1/lists/{c}" for c in target.towns], 50),
        "score": ([f"/api/v1/households/{h}/score" for h in target.households], 10),
    }
    for i, tree in enumerate(t.resolve() for t in args.tree or [HERE]):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen(
            [str(tree / ".venv/bin/python"), "-c", SERVER, str(args.workspace), str(port), "0"],
            cwd=tree, env={**os.environ, "OMP_NUM_THREADS": "1"}, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_ready(base, proc)
            for name, (paths, conns) in loads.items():
                with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
                    f.write(LUA % (", ".join(f'"{p}"' for p in paths), target.token))
                spy = f"{args.spy}-{i}-{tree.name}-{name}.txt" if args.spy else None
                line = measure(wrk, base, f.name, conns, args.seconds, proc.pid, spy)
                os.unlink(f.name)
                print(f"{tree.name:12} {name:6} {line}", flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
