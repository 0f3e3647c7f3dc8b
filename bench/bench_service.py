"""Benchmark the service with auditing on (a benchmark, not a test).

Usage: python bench/bench_service.py [--workspace WS] [--households 2000] [--seconds 10]

Without ``--workspace`` a county is simulated, ingested, linked, snapshotted, trained and
scored in a temporary folder (about a minute for 2,000 households). Then a real uvicorn (one
worker, LightGBM on one thread) is started on a free loopback port and ``wrk`` (Debian package
``wrk``; installed with apt-get when missing) measures:

1. visit lists at 50 concurrent connections, rotating over every township list (goal: p99 <=
   50 ms, zero errors);
2. on-demand score + explanation of one household at 10 concurrent connections, rotating over
   every household: first with the explanation cache off (every request runs TreeSHAP), then
   on (steady state) (goal: p99 <= 20 ms).

Every request is authenticated and writes its audit row (group commit) before it answers.
Each load runs ``--warmup`` seconds before it is measured (the service prepares its lists at
start; the warm-up lets the household and token caches fill as they do in a running service).
Figures also go to bench/out/service.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _stage import stage  # bench/ is the script folder

SERVER = """
import sys, uvicorn
from pathlib import Path
from core.settings import load_settings
from serving.app import create_app
from serving.runtime.tuning import tune_process
from serving.runtime.service import ServiceOptions
tune_process()  # as `outreach serve` does
options = ServiceOptions(explain_cache=int(sys.argv[3]), token_requests_per_second=None)
app = create_app(load_settings(Path(sys.argv[1])), options)  # one token for every client
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), workers=1, log_level="warning",
            access_log=False, proxy_headers=False)
"""
LUA = """
paths = {%s}
i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1],
                    {["Authorization"] = "Bearer %s", ["Accept-Encoding"] = "gzip"})
end
"""


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk missing: installing the Debian package with apt-get")
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        sys.exit("wrk is not installed and apt-get could not install it: apt-get install wrk")
    return found


def build(ws: Path, households: int) -> None:
    w = ["--workspace", str(ws)]
    for args in (
        ["simulate", "--households", str(households), "--months", "24", "--seed", "3", *w],
        ["ingest", *w], ["link", *w],
        ["features", "--from", "2023-01-31", "--to", "2024-12-31", *w], ["train", *w],
    ):  # fmt: skip
        r = stage(args)
        print(f"  {args[0]}: {r['seconds']:.1f} s")
    from datetime import date

    from core.settings import load_settings
    from serving.batch.priority import ListSpec
    from serving.batch.scoring import score

    score(load_settings(ws), date(2024, 12, 31), ListSpec(level="township", capacity_share=0.05))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit("the server exited during start-up")
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    sys.exit("the server did not become ready")


def run_wrk(
    wrk: str, base: str, paths: list[str], token: str, conns: int, secs: int, warmup: int
) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(LUA % (", ".join(f'"{p}"' for p in paths), token))
    if warmup > 0:  # one pass of the same load first: caches, pools and the JIT-free heap settle
        subprocess.run([wrk, "-t1", f"-c{conns}", f"-d{warmup}s", "-s", f.name, base],
                       capture_output=True, check=True)  # fmt: skip
    done = subprocess.run(
        [wrk, "-t1", f"-c{conns}", f"-d{secs}s", "--latency", "-s", f.name, base],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    if done.stderr.strip():  # a script error makes wrk send "GET /" instead
        sys.exit(f"wrk reported: {done.stderr.strip().splitlines()[0]}")
    out = done.stdout
    os.unlink(f.name)

    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert m, out
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    return {
        "connections": conns, "seconds": secs, "requests": int(total.group(1)),
        "rps": float(rps.group(1)), "p50_ms": ms("50"), "p90_ms": ms("90"), "p99_ms": ms("99"),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(map(int, sock.groups())) if sock else 0,
    }  # fmt: skip


def serve_and_measure(
    ws: Path, wrk: str, secs: int, warmup: int, explain_cache: int, token: str, plan
):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(ws), str(port), str(explain_cache)], env=env
    )
    try:
        wait_ready(base, proc)
        return {name: run_wrk(wrk, base, paths, token, conns, secs, warmup)
                for name, (paths, conns) in plan.items()}  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path)
    parser.add_argument("--households", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=10, help="measured seconds per load")
    parser.add_argument(
        "--warmup",
        type=int,
        default=5,
        help="seconds of the same load before each measurement (not counted)",
    )
    args = parser.parse_args()
    wrk = ensure_wrk()
    from _service import prepare

    target, tmp = prepare(args.workspace, args.households, "bench-service-", "auditor",
                          "service benchmark")  # fmt: skip
    ws, token, towns, ids = target.workspace, target.token, target.towns, target.households
    lists = [f"/api/v1/lists/{c}" for c in towns]
    scores = [f"/api/v1/households/{h}/score" for h in ids]
    print(f"{len(ids):,} households, {len(towns)} township lists; auditing on")
    figures = {"households": len(ids), "lists": len(towns)}
    figures["warmup_seconds"] = args.warmup
    figures["cache_off"] = serve_and_measure(
        ws, wrk, args.seconds, args.warmup, 0, token,
        {"lists_c50": (lists, 50), "score_explain_c10": (scores, 10)},
    )  # fmt: skip
    figures["cache_on"] = serve_and_measure(
        ws, wrk, args.seconds, args.warmup, 50_000, token, {"score_explain_c10": (scores, 10)}
    )
    rows = [
        ("visit lists, 50 conns", figures["cache_off"]["lists_c50"], 50),
        ("score+explain, 10 conns, cache off", figures["cache_off"]["score_explain_c10"], 20),
        ("score+explain, 10 conns, cache on", figures["cache_on"]["score_explain_c10"], 20),
    ]
    print(f"{'':38} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}  goal")
    for label, r, goal in rows:
        errors = r["non_2xx"] + r["socket_errors"]
        ok = "ok" if r["p99_ms"] <= goal and errors == 0 else "MISSED"
        print(f"{label:38} {r['rps']:8.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {errors:7d}"
              f"  p99 <= {goal} ms: {ok}")  # fmt: skip
    out = Path(__file__).with_name("out")
    out.mkdir(exist_ok=True)
    (out / "service.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
