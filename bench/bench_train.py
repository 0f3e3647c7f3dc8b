"""Benchmark training and scoring (a benchmark, not a test).

Usage: python bench/bench_train.py --workspace WS [--dates 24]

WS must hold an ingested and linked county (e.g. made by bench_pipeline.py --keep, or
`outreach simulate --households 100000 --seed 1 && outreach ingest && outreach link`). The script
builds the last ``--dates`` month-end snapshots that are missing, then
1. runs `outreach train` in a fresh process (goal: <= 10 minutes for 100,000 households and 24
   monthly snapshots), printing its time and peak memory;
2. scores 1,000,000 households (the latest snapshot replicated until it reaches a million) with
   the champion and explains the top 5 % with SHAP and rendered reasons (goal: <= 3 minutes).
Figures also go to bench/out/train.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from datetime import date
from pathlib import Path

from _stage import stage  # bench/ is the script folder


def month_ends(last: date, n: int) -> list[date]:
    import calendar

    out, y, m = [], last.year, last.month
    for _ in range(n):
        out.append(date(y, m, calendar.monthrange(y, m)[1]))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return sorted(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--dates", type=int, default=24)
    parser.add_argument("--last", default="2025-12-31", help="Last snapshot date.")
    parser.add_argument("--households", type=int, default=1_000_000)
    args = parser.parse_args()
    ws = ["--workspace", str(args.workspace)]
    dates = month_ends(date.fromisoformat(args.last), args.dates)
    snaps = args.workspace / "data" / "snapshots"
    missing = [d for d in dates if not (snaps / d.isoformat() / "features.parquet").exists()]
    figures: dict = {}
    if missing:
        args_f = [a for d in missing for a in ("--as-of", d.isoformat())]
        figures["features"] = stage(["features", *args_f, *ws])
        print(f"built {len(missing)} snapshots in {figures['features']['seconds']:.0f} s")
    as_of = [a for d in dates for a in ("--as-of", d.isoformat())]
    figures["train"] = stage(["train", *as_of, *ws])
    report = json.loads((args.workspace / "data/reports/train/latest.json").read_text())
    rows = report["metrics"]["data"]["rows"]
    print(
        f"train: {figures['train']['seconds']:.0f} s for {len(dates)} snapshots "
        f"({rows['train']:,} train / {rows['valid']:,} valid / {rows['test']:,} test rows), "
        f"peak {figures['train']['peak_gb']:.2f} GB (goal <= 600 s)"
    )
    figures["scoring"] = score_and_explain(args.workspace, dates[-1], args.households)
    s = figures["scoring"]
    print(
        f"score {s['households']:,} households: {s['score_s']:.1f} s; explain top 5 % "
        f"({s['explained']:,}): {s['explain_s']:.1f} s; total {s['total_s']:.1f} s "
        f"(goal <= 180 s); peak {s['peak_gb']:.2f} GB"
    )
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "train.json").write_text(json.dumps(figures, indent=1, default=str))


def score_and_explain(workspace: Path, as_of: date, target: int) -> dict:
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    from core.settings import load_settings
    from features.vectors.build import snapshot_path
    from training import explain, model_registry

    settings = load_settings(workspace)
    model, _ = model_registry.load_version(model_registry.Store.for_settings(settings))
    snap = pq.read_table(snapshot_path(settings.snapshots_dir, as_of)).to_pandas()
    copies = -(-target // len(snap))
    frame = pd.concat(
        [snap.assign(household_id=snap["household_id"] + f"-{i}") for i in range(copies)],
        ignore_index=True,
    ).head(target)
    t0 = time.perf_counter()
    p = model.predict_proba(frame)
    t1 = time.perf_counter()
    top = frame.iloc[np.argsort(-p, kind="stable")[: int(0.05 * len(frame))]]
    records = explain.explain_households(
        model.booster, model.matrix(top), top["household_id"].tolist(), k=3, values=top
    )
    t2 = time.perf_counter()
    assert all(r["sum_ok"] for r in records)
    return {
        "households": len(frame),
        "score_s": t1 - t0,
        "explained": len(records),
        "explain_s": t2 - t1,
        "total_s": t2 - t0,
        "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024,
    }


if __name__ == "__main__":
    main()
