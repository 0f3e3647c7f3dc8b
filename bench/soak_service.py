"""Soak the service: mixed reads and writes for minutes, counting errors and watching memory
(a benchmark, not a test; issue 18, item 8).

Usage: python bench/soak_service.py [--workspace WS] [--households 2000] [--minutes 5]
                                    [--clients 50]

Without ``--workspace`` a county is built as ``bench_service.py`` builds it. A real uvicorn
(one worker, as ``outreach serve``) serves it, and ``wrk`` drives ``--clients`` connections with
one supervisor token (the county: reads and writes), each request drawn from a fixed mix:
70 % visit lists (every township), 20 % on-demand score + explanation (every household), 10 %
visit-outcome POSTs (each with its audit row, in one transaction). The server's resident memory
is sampled every 10 s. Goals: 0 errors (non-2xx or socket errors), memory flat (the last
sample within 10 % of the one taken after the first minute). Figures go to
bench/out/soak.json, with the machine's load average (the machine is shared: note it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _service import prepare
from bench_service import SERVER, ensure_wrk, free_port, wait_ready

LUA = """
lists = {%s}
scores = {%s}
posts = {%s}
i = 0
local auth = "Bearer %s"
local body = '{"visit_date": "%s", "outcome": "visited", "note": "soak"}'
request = function()
  i = i + 1
  local k = i %% 10
  if k == 0 then
    return wrk.format("POST", posts[(i %% #posts) + 1],
                      {["Authorization"] = auth, ["Content-Type"] = "application/json"}, body)
  elseif k <= 2 then
    return wrk.format("GET", scores[(i %% #scores) + 1], {["Authorization"] = auth})
  end
  return wrk.format("GET", lists[(i %% #lists) + 1],
                    {["Authorization"] = auth, ["Accept-Encoding"] = "gzip"})
end
-- what each non-2xx answer was: its status and the start of its problem body
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} samples = {} end
function response(status, headers, body)
  if status >= 300 then
    statuses[status] = (statuses[status] or 0) + 1
    if #samples < 10 then table.insert(samples, status .. " " .. string.sub(body or "", 1, 240)) end
  end
end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do io.write("STATUS ", code, " ", n, "\\n") end
    for _, line in ipairs(t:get("samples")) do io.write("SAMPLE ", line, "\\n") end
  end
end
"""


def statuses_of(out: str) -> dict[str, int]:
    """Non-2xx answers per status, summed over wrk's threads."""
    counts: dict[str, int] = {}
    for code, n in re.findall(r"^STATUS (\d+) (\d+)$", out, re.M):
        counts[code] = counts.get(code, 0) + int(n)
    return counts


def rss_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", text).group(1)) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path)
    parser.add_argument("--households", type=int, default=2000)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()
    wrk = ensure_wrk()
    target, tmp = prepare(args.workspace, args.households, "soak-service-", "supervisor",
                          "soak benchmark")  # fmt: skip
    ws, token, towns, ids = target.workspace, target.token, target.towns, target.households
    before = target.outcomes_before
    from core.settings import load_settings

    settings = load_settings(ws)
    quote = lambda items: ", ".join(f'"{p}"' for p in items)  # noqa: E731
    script = LUA % (quote(f"/api/v1/lists/{c}" for c in towns),
                    quote(f"/api/v1/households/{h}/score" for h in ids),
                    quote(f"/api/v1/households/{h}/outcomes" for h in ids[:200]),
                    token, dt.date.today().isoformat())  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    port, secs = free_port(), int(args.minutes * 60)
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(ws), str(port), "50000"], env=env)
    samples: list[tuple[float, float]] = []
    stop = threading.Event()
    try:
        wait_ready(base, proc)
        started = time.monotonic()

        def sample() -> None:
            while not stop.wait(10):
                samples.append((time.monotonic() - started, rss_mb(proc.pid)))

        watcher = threading.Thread(target=sample, daemon=True)
        samples.append((0.0, rss_mb(proc.pid)))
        watcher.start()
        load_before = os.getloadavg()
        done = subprocess.run(
            [wrk, "-t2", f"-c{args.clients}", f"-d{secs}s", "--latency", "-s", f.name, base],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        out = done.stdout
        load_after = os.getloadavg()
        stop.set()
        watcher.join(timeout=15)
    finally:
        stop.set()
        proc.terminate()
        proc.wait(timeout=30)
        os.unlink(f.name)
    import sqlalchemy as sa

    from serving.store import db

    engine = db.make_engine(settings.service_db_url)
    with engine.connect() as conn:
        after = conn.execute(sa.text("SELECT count(*) FROM visit_outcomes")).scalar_one()
    engine.dispose()
    if done.stderr.strip():  # a script error makes wrk send "GET /" instead: not a soak
        sys.exit(f"wrk reported: {done.stderr.strip().splitlines()[0]}")
    if after == before:
        sys.exit("no outcome was written: the load did not reach the routes")
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    statuses = int(non2xx.group(1)) if non2xx else 0
    kinds = ("connect", "read", "write", "timeout")
    sockets = dict(zip(kinds, map(int, sock.groups()), strict=True)) if sock else {}
    errors = statuses + sum(sockets.values())
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    minute = next((m for t, m in samples if t >= 60), samples[0][1])
    last = samples[-1][1]
    figures = {
        "minutes": args.minutes, "clients": args.clients, "households": len(ids),
        "requests": total, "rps": total / secs, "errors": errors, "non_2xx": statuses,
        "socket_errors": sockets, "wrk_output": out,
        "statuses": statuses_of(out),
        "samples": re.findall(r"^SAMPLE (.*)$", out, re.M),
        "outcomes_written": after - before, "p99": f"{p99.group(1)} {p99.group(2)}",
        "rss_mb": [(round(t), round(m, 1)) for t, m in samples],
        "rss_growth_after_first_minute": round((last - minute) / minute, 4),
        "load_average_before": load_before, "load_average_after": load_after,
    }  # fmt: skip
    flat = abs(figures["rss_growth_after_first_minute"]) <= 0.10
    print(
        f"{total:,} requests in {args.minutes:g} min at {args.clients} clients "
        f"({figures['rps']:.0f}/s), {after - before:,} outcomes written, p99 {figures['p99']}"
    )
    print(
        f"errors: {errors} (goal 0: {'ok' if errors == 0 else 'MISSED'}): {statuses} non-2xx, "
        f"socket errors {sockets or 'none'} (wrk's timeout: 2 s)"
    )
    print(
        f"memory: {samples[0][1]:.0f} MB at start, {minute:.0f} MB after 1 min, {last:.0f} MB "
        f"at the end (flat within 10 %: {'ok' if flat else 'MISSED'})"
    )
    for line in figures["samples"]:
        print(f"  non-2xx: {line}")
    print(f"load average: {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    outdir = Path(__file__).with_name("out")
    outdir.mkdir(exist_ok=True)
    (outdir / "soak.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
