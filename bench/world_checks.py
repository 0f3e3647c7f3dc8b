"""Print the simulator's promised figures for a simulated world (reads only its truth/).

Usage: python bench/world_checks.py [DIR]   (default: data/raw, the `make demo` world)
The figures are also written as JSON to bench/out/world_checks.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from core.contracts import AGENCIES
from simulator.validate import defect_rates, world_checks


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "data/raw")
    if not (out / "truth" / "household_months.parquet").exists():
        sys.exit(f"error: {out} holds no simulation (run `outreach simulate` first)")
    c = world_checks(out)
    print(f"world: {out}")
    print(f"hardship flag equals the income rule: {c['hardship_rule_holds']}")
    print(
        f"monthly hardship share: {c['hardship_share_min']:.3f} .. {c['hardship_share_max']:.3f}"
        " (promise: 0.03 .. 0.12)"
    )
    for k, v in c["relative_risk"].items():
        print(f"relative risk of hardship, {k}: {v:.2f} (promise: >= 1.5)")
    print(
        f"silent share of hardship months: {c['silent_share_of_hardship']:.3f}"
        " (promise: 0.20 .. 0.60)"
    )
    print(
        f"evaluation rows (not in hardship, complete future): {c['evaluation_rows']:,};"
        f" onset within 6 months: {c['onset_rate_6m']:.3f}"
    )
    print(f"ROC-AUC of p_onset_6m: {c['oracle_auc']:.3f} (promise: 0.80 .. 0.90)")
    for k, v in sorted(c["rule_auc"].items(), key=lambda kv: -kv[1]):
        print(f"ROC-AUC of rule {k}: {v:.3f}")
    print(f"best single rule: {c['best_rule']} {c['best_rule_auc']:.3f} (promise: 0.60 .. 0.70)")
    print("calibration of p_onset_6m in 10 equal-mass bins (tolerance max(0.01, 2 SE)):")
    for b in c["calibration"]:
        print(
            f"  bin {b['bin']}: n={b['n']:>7,}  mean p={b['mean_p']:.4f}"
            f"  observed={b['observed']:.4f}  {'ok' if b['ok'] else 'OUT'}"
        )
    rates = {a: defect_rates(out, a) for a in AGENCIES}
    print("defect shares by agency (mistyped / legacy / missing ID, name variant, duplicate):")
    for a, r in rates.items():
        print(
            f"  {a:<20} {r['mistyped_id']:.4f} {r['legacy_id']:.4f} {r['missing_id']:.4f}"
            f" {r['name_variant']:.4f} {r['duplicate']:.4f}  ({r['records']:,} records)"
        )
    Path("bench/out").mkdir(parents=True, exist_ok=True)
    Path("bench/out/world_checks.json").write_text(
        json.dumps({"world": str(out), "checks": c, "defects": rates}, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
