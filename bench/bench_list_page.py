"""Benchmark the field visit list page for a 150-household township (a benchmark, not a test).

Usage: python bench/bench_list_page.py [--workspace WS] [--households 150] [--requests 60]

``--workspace`` is a scored workspace (``make demo``'s, or any); without it a 400-household
county is simulated, ingested, linked, snapshotted, trained and scored in a temporary folder
(about a minute). The workspace is copied, and the township with the most scored households
gets a newer run whose list holds ``--households`` entries (``tests/support/big_list.py``).
The application then runs in this process (``serving.app.create_app``) and a signed-in
caseworker opens the list ``--requests`` times after a warm-up. Measured, against the budgets
of issue 20:

- weight: the HTML page plus the stylesheet and the script as sent (the pages are not
  compressed by the service; the gzip size is shown for a proxy that does): <= 200 KB;
- server time per request, audit row included (p50, p95): p95 <= 150 ms.

Figures also go to bench/out/list_page.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

BUDGET_KB, BUDGET_P95_MS = 200, 150


def _township(settings) -> str:
    import sqlalchemy as sa

    from serving.store import db
    from serving.store.tables import scores

    engine = db.make_engine(settings.service_db_url)
    with engine.connect() as conn:
        run = db.latest_complete_run(conn)
        q = (
            sa.select(scores.c.township_code, sa.func.count())
            .where(scores.c.run_id == run.run_id)
            .group_by(scores.c.township_code)
            .order_by(sa.func.count().desc(), scores.c.township_code)
        )
        township = conn.execute(q).first()[0]
    engine.dispose()
    return township


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspace", type=Path)
    parser.add_argument("--households", type=int, default=150)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--save", type=Path, help="Write the list page's HTML here.")
    parser.add_argument("--keep", type=Path, help="Copy the built workspace here (to rerun).")
    args = parser.parse_args()

    from fastapi.testclient import TestClient
    from support.big_list import grow_township
    from support.pages import sign_in

    from core.settings import load_settings
    from serving.app import create_app
    from serving.runtime import auth
    from serving.store import db

    tmp = Path(tempfile.mkdtemp(prefix="bench-list-"))
    ws = tmp / "ws"
    if args.workspace is None:
        from bench_service import build

        print("building a 400-household county…")
        build(ws, 400)
        if args.keep:
            shutil.copytree(ws, args.keep, dirs_exist_ok=True)
    else:
        shutil.copytree(args.workspace, ws)
    settings = load_settings(ws, environ={})
    township = _township(settings)
    grow_township(settings.service_db_url, township, args.households)
    engine = db.make_engine(settings.service_db_url)
    with engine.begin() as conn:
        token, _ = auth.create_token(conn, "caseworker", township)
    engine.dispose()

    app = create_app(settings)
    with TestClient(app):
        c = sign_in(app, token)
        url = f"/lists/{township}"
        page = c.get(url)
        rows = page.text.count('data-testid="list-row"')
        assert page.status_code == 200 and rows == args.households, (page.status_code, rows)
        static = [c.get(p).content for p in ("/static/outreach.css", "/static/outreach.js")]
        for _ in range(5):
            c.get(url)
        times = []
        for _ in range(args.requests):
            t = time.perf_counter()
            r = c.get(url)
            times.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200
    body = page.content
    if args.save:
        args.save.write_bytes(body)
    weight = len(body) + sum(len(s) for s in static)
    zipped = len(gzip.compress(body)) + sum(len(gzip.compress(s)) for s in static)
    times.sort()
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
    out = {
        "township": township, "households": rows, "requests": len(times),
        "page_bytes": len(body), "static_bytes": sum(len(s) for s in static),
        "weight_kb": round(weight / 1024, 1), "gzip_kb": round(zipped / 1024, 1),
        "p50_ms": round(statistics.median(times), 1), "p95_ms": round(p95, 1),
        "budget": {"weight_kb": BUDGET_KB, "p95_ms": BUDGET_P95_MS},
    }  # fmt: skip
    print(f"list {township}: {rows} households")
    print(f"weight: {out['weight_kb']} KB (page {len(body) / 1024:.1f} KB + css/js), "
          f"{out['gzip_kb']} KB gzipped; budget {BUDGET_KB} KB")  # fmt: skip
    print(f"server time: p50 {out['p50_ms']} ms, p95 {out['p95_ms']} ms; budget p95 "
          f"{BUDGET_P95_MS} ms")  # fmt: skip
    (ROOT / "bench" / "out").mkdir(exist_ok=True)
    (ROOT / "bench" / "out" / "list_page.json").write_text(json.dumps(out, indent=2) + "\n")
    shutil.rmtree(tmp, ignore_errors=True)
    ok = out["weight_kb"] <= BUDGET_KB and out["p95_ms"] <= BUDGET_P95_MS
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
