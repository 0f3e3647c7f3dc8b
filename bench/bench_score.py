"""Benchmark `outreach score` on a large county: a snapshot replicated to N households.

Usage:
    python bench/bench_score.py --workspace WS --as-of 2025-12-31 [--households 1000000]

WS must hold the snapshot of the date and a champion model (`outreach features` and `outreach
train` ran). The snapshot is replicated (household keys suffixed per copy, township and village
codes kept) until it has ``--households`` rows and written into a scratch workspace that shares
WS's models and warehouse; then `outreach score --as-of` runs there in a fresh process (every
household scored and matched to programs, the top 5 % per township listed, explained and traced,
everything written to a fresh SQLite service database). Prints the figures as JSON; goal: at most
3 minutes for 1,000,000 households.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _stage import stage  # noqa: E402

from features.vectors.build import read_snapshot_metadata, snapshot_path, write_snapshot  # noqa: E402


def replicate(table: pa.Table, n: int) -> pa.Table:
    """``table`` repeated until it has ``n`` rows, household keys made unique per copy."""
    parts, copy = [], 0
    while sum(len(p) for p in parts) < n:
        ids = pc.binary_join_element_wise(table["household_id"], pa.scalar(f"-{copy:03d}"), "")
        parts.append(table.set_column(table.schema.get_field_index("household_id"),
                                      "household_id", ids))  # fmt: skip
        copy += 1
    return pa.concat_tables(parts).slice(0, n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workspace", type=Path, required=True)
    ap.add_argument("--as-of", required=True)
    ap.add_argument("--households", type=int, default=1_000_000)
    ap.add_argument("--keep", action="store_true", help="keep the scratch workspace")
    args = ap.parse_args()
    day = date.fromisoformat(args.as_of)
    src = snapshot_path(args.workspace / "data" / "snapshots", day)
    if not src.exists():
        sys.exit(f"no snapshot for {day} in {args.workspace}")
    scratch = Path(tempfile.mkdtemp(prefix="bench-score-"))
    try:
        (scratch / "data").mkdir()
        for name in ("models", "secrets"):
            (scratch / name).symlink_to((args.workspace / name).absolute())
        (scratch / "data" / "warehouse.duckdb").symlink_to(
            (args.workspace / "data" / "warehouse.duckdb").absolute()
        )
        table = replicate(pq.read_table(src), args.households)
        meta = read_snapshot_metadata(src)
        write_snapshot(table, scratch / "data" / "snapshots", day, meta.get("delivery_ids", []))
        result = stage(["score", "--as-of", day.isoformat(), "--workspace", str(scratch)])
        report = json.loads((scratch / "data/reports/score/latest.json").read_text("utf-8"))
        run = report["run"]
        db_mb = (scratch / "data" / "service.sqlite3").stat().st_size / 1e6
        print(
            json.dumps(
                {
                    "households": run["households"],
                    "listed": run["listed"],
                    "exploration": run["exploration"],
                    "seconds": round(result["seconds"], 1),
                    "peak_gb": round(result["peak_gb"], 2),
                    "timings": {k: round(v, 1) for k, v in run["timings"].items()},
                    "service_db_mb": round(db_mb, 1),
                    "goal_seconds": 180,
                    "goal_met": result["seconds"] <= 180,
                },
                indent=2,
            )
        )
    finally:
        if args.keep:
            print(f"scratch workspace kept: {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
