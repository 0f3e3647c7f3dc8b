"""Eligibility engine throughput: a snapshot replicated to 1,000,000 households.

Usage: python bench/bench_eligibility.py SNAPSHOT.parquet [--households 1000000]
Prints the evaluation time, rows per second and the counts of the dibao program.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

import policies
from features.eligibility.engine import evaluate
from features.eligibility.trace import render_trace
from policies.parameters import load_parameters


def main() -> None:
    """Replicate the snapshot, evaluate it, trace the first household."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("snapshot", type=Path)
    ap.add_argument("--households", type=int, default=1_000_000)
    args = ap.parse_args()
    params = load_parameters(policies.PARAMS_DIR)
    base = pd.read_parquet(args.snapshot)
    copies = -(-args.households // len(base))
    frame = pd.concat([base] * copies, ignore_index=True).iloc[: args.households]
    frame["household_id"] = frame["household_id"] + "-" + (frame.index // len(base)).astype(str)
    t0 = time.perf_counter()
    result = evaluate(frame, params)
    seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    render_trace(result, frame, [result.household_id[0]], params, "both")
    trace_ms = (time.perf_counter() - t1) * 1000
    print(f"households: {len(frame):,}")
    print(f"evaluate: {seconds:.2f} s ({len(frame) / seconds:,.0f} households/s)")
    print(f"one trace: {trace_ms:.0f} ms")
    print(f"matrices: conditions {result.conditions.shape}, status {result.status.shape} (int8)")
    print(f"dibao: {result.counts()['dibao']}")


if __name__ == "__main__":
    main()
