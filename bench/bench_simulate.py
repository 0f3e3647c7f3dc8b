"""Benchmark `outreach simulate`: households per second and peak memory (a benchmark, not a test).

Usage: python bench/bench_simulate.py [--households N ...] [--months M] [--seed S]
Runs each size in a fresh process (so peak memory is that run's alone) and prints a table;
the figures are also written to bench/out/simulate.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, resource, sys, time
from pathlib import Path
import policies
from policies.parameters import load_parameters
from simulator.config import build_config
from simulator.simulation import simulate
n, months, seed, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
t = time.perf_counter()
r = simulate(build_config(n, months, seed), load_parameters(policies.PARAMS_DIR), out)
secs = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
print(json.dumps({"households": n, "months": months, "seconds": round(secs, 1),
                  "households_per_second": round(n / secs, 1), "peak_memory_gb": round(peak, 2),
                  "household_months": r.manifest["counts"]["household_months"]}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, nargs="+", default=[100_000])
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    results = []
    for n in args.households:
        out = Path(tempfile.mkdtemp(prefix="outreach-bench-")) / "raw"
        try:
            proc = subprocess.run(
                [sys.executable, "-c", CHILD, str(n), str(args.months), str(args.seed), str(out)],
                capture_output=True,
                text=True,
                check=True,
            )
        finally:
            shutil.rmtree(out.parent, ignore_errors=True)
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(row)
        print(
            f"simulate --households {n:>9,} --months {args.months} --seed {args.seed}: "
            f"{row['seconds']:>7.1f} s  {row['households_per_second']:>9,.0f} households/s  "
            f"peak {row['peak_memory_gb']:.2f} GB"
        )
    Path("bench/out").mkdir(parents=True, exist_ok=True)
    Path("bench/out/simulate.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
