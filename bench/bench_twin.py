"""Benchmark the county twin (a benchmark, not a test): time and peak memory.

Usage:
    python bench/bench_twin.py one [--policy model] [--households 20000] [--months 12]
    python bench/bench_twin.py compare [--seeds 5] [--months 12]    # status-quo,rules,model,oracle
    python bench/bench_twin.py one --households 100000              # the large twin

Each case runs in a fresh process through the CLI (``outreach twin run|compare``) in a new
folder, so its time includes building the shared checkpoint (simulating to 2025-12 and the
pipeline through scoring 2025-12-31), which is reported apart (``base`` in the run report).
Peak memory is the child's and its children's maximum resident set. Figures are printed and
written to ``bench/out/twin-<case>.json``. Goals (issue 15): one policy, 12 months, default
county <= 6 minutes; 4 policies x 5 seeds <= 90 minutes.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=("one", "compare"))
    parser.add_argument("--policy", default="model")
    parser.add_argument("--policies", default="status-quo,rules,model,oracle")
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--keep", type=Path, default=None, help="Run in this folder (kept).")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-twin-"))
    workspace = folder / "workspace"
    workspace.mkdir(parents=True, exist_ok=True)
    cli = [sys.executable, "-m", "outreach.cli", "twin", "run" if args.case == "one" else "compare"]
    common = ["--households", str(args.households), "--months", str(args.months),
              "--out", str(folder / "twin"), "--workspace", str(workspace)]  # fmt: skip
    if args.case == "one":
        cmd = [*cli, "--policy", args.policy, *common]
    else:
        cmd = [*cli, "--policies", args.policies, "--seeds", str(args.seeds), *common]
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, check=False)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 / 1024
    if done.returncode != 0:
        sys.exit(f"the twin failed (exit {done.returncode})")
    stage = "twin-run" if args.case == "one" else "twin-compare"
    report = json.loads((workspace / "data" / "reports" / stage / "latest.json").read_text())
    figures = {
        "case": args.case,
        "households": args.households,
        "months": args.months,
        "seconds": round(seconds, 1),
        "peak_memory_gb": round(peak, 2),
        "stage_seconds": report.get("seconds"),
    }
    print(json.dumps(figures, indent=2))
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / f"twin-{args.case}-{args.households}.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
