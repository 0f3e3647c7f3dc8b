"""Benchmark ingest + link + features on a simulated county (a benchmark, not a test).

Usage: python bench/bench_pipeline.py [--households 100000] [--seed 1] [--raw DIR] [--keep]

Simulates the county (not timed; or reuses --raw), then runs each stage in a fresh process and
prints its wall time, rows per second and peak memory:
  ingest, link, features for one as-of date, and features for 12 monthly as-of dates.
Goals (issue 3, on the 2-core machine): ingest + link + features for one date <= 5 minutes;
12 monthly dates <= 3 minutes. Figures also go to bench/out/pipeline.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from _stage import stage  # bench/ is the script folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--raw", type=Path, help="Use this simulation instead of making one.")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary workspace.")
    args = parser.parse_args()
    ws = Path(tempfile.mkdtemp(prefix="outreach-bench-pipeline-"))
    raw = args.raw
    try:
        if raw is None:
            raw = ws / "data" / "raw"
            t = time.perf_counter()
            stage(["simulate", "--households", str(args.households), "--seed", str(args.seed),
                   "--out", str(raw), "--workspace", str(ws)])  # fmt: skip
            print(f"simulated {args.households:,} households in {time.perf_counter() - t:.0f} s")
        w = ["--workspace", str(ws)]
        figures: dict[str, dict] = {}
        figures["ingest"] = stage(["ingest", "--raw", str(raw), *w])
        rep = json.loads((ws / "data/reports/ingest/latest.json").read_text())
        rows = sum(a["rows_received"] for a in rep["by_agency"].values())
        figures["ingest"]["rows"] = rows
        figures["link"] = stage(["link", *w])
        figures["link"]["rows"] = rows
        figures["features_1"] = stage(["features", "--as-of", "2025-06-30", *w])
        snap = json.loads((ws / "data/reports/features/latest.json").read_text())["snapshots"]
        figures["features_1"]["rows"] = sum(s["rows"] for s in snap)
        figures["features_12"] = stage(["features", "--from", "2025-01-31", "--to",
                                        "2025-12-31", *w])  # fmt: skip
        snap = json.loads((ws / "data/reports/features/latest.json").read_text())["snapshots"]
        figures["features_12"]["rows"] = sum(s["rows"] for s in snap)
        print(f"{'stage':<28}{'seconds':>9}{'rows':>12}{'rows/s':>12}{'peak GB':>9}")
        for name, f in figures.items():
            print(f"{name:<28}{f['seconds']:>9.1f}{f['rows']:>12,}"
                  f"{f['rows'] / f['seconds']:>12,.0f}{f['peak_gb']:>9.2f}")  # fmt: skip
        one = sum(figures[k]["seconds"] for k in ("ingest", "link", "features_1"))
        print(f"ingest + link + features (1 date): {one:.0f} s (goal <= 300 s)")
        print(f"features for 12 monthly dates:     {figures['features_12']['seconds']:.0f} s "
              "(goal <= 180 s)")  # fmt: skip
        out = Path(__file__).parent / "out"
        out.mkdir(exist_ok=True)
        (out / "pipeline.json").write_text(
            json.dumps({"households": args.households, "raw": str(raw), **figures}, indent=1)
        )
    finally:
        if args.keep:
            print(f"workspace kept: {ws}")
        else:
            shutil.rmtree(ws, ignore_errors=True)


if __name__ == "__main__":
    main()
