"""Precision and recall of the eligibility engine against the simulator's true eligibility.

Evaluation only (reads the simulator's truth, like :mod:`training.truth`): for each as-of date,
the snapshot is evaluated with the shipped rules and the dibao status is compared with the truth
column ``dibao_eligible`` (true income per person below S and assets pass). Two predictions are
scored: ``likely`` and ``likely + needs_verification``.

Run::

    python -m training.eligibility_eval --workspace DIR [--as-of 2025-06-30 ...]

It prints a table and writes ``DIR/data/reports/eligibility/truth.json``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from core.settings import load_settings
from core.truth import truth_dir_for
from features.eligibility.engine import EligibilityResult, evaluate
from features.pseudonym import Pseudonymizer, pseudonymizer_for
from features.vectors.build import snapshot_path
from policies.parameters import ParameterSet, load_parameters
from policies.tristate import LIKELY, NEEDS_VERIFICATION
from training.truth import month_index, start_month

TRUTH_PROGRAMS = {"dibao": "dibao_eligible"}
"""Program code -> truth column of ``household_months.parquet``."""


def eligibility_truth(
    truth_dir: Path, pseudonymizer: Pseudonymizer, as_of_dates: Iterable[date]
) -> pd.DataFrame:
    """True eligibility per household and as-of date (pseudonymous ``household_id``), from the
    truth folder :func:`core.truth.truth_dir_for` allowed."""
    truth_dir = Path(truth_dir)
    start = start_month(truth_dir)
    cols = ["household_id", "month", *TRUTH_PROGRAMS.values()]
    hm = pq.read_table(truth_dir / "household_months.parquet", columns=cols).to_pandas()
    wanted = {month_index(d, start): d for d in sorted(set(as_of_dates))}
    rows = hm[hm["month"].astype(int).isin(list(wanted))]
    ids = rows["household_id"].astype(np.int64).unique()
    keys = {h: pseudonymizer.household_key(f"HH{h:09d}") for h in ids}
    out = pd.DataFrame(
        {
            "household_id": rows["household_id"].map(keys).astype(str).to_numpy(),
            "as_of": rows["month"].astype(int).map(wanted).to_numpy(),
        }
    )
    for col in TRUTH_PROGRAMS.values():
        out[col] = rows[col].fillna(False).astype(bool).to_numpy()
    return out


def precision_recall(predicted: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
    """Precision, recall and counts of a boolean prediction."""
    p, t = np.asarray(predicted, bool), np.asarray(truth, bool)
    tp = int((p & t).sum())
    return {
        "predicted": int(p.sum()),
        "true": int(t.sum()),
        "true_positive": tp,
        "precision": tp / int(p.sum()) if p.any() else None,
        "recall": tp / int(t.sum()) if t.any() else None,
    }


def score_result(result: EligibilityResult, truth: pd.DataFrame) -> dict[str, Any]:
    """Scores of one evaluated snapshot against the truth rows of its date."""
    day = truth.loc[truth["as_of"] == result.as_of]
    frame = pd.DataFrame({"household_id": result.household_id}).merge(
        day, on="household_id", how="left"
    )
    out: dict[str, Any] = {"households": len(frame), "unmatched": int(frame["as_of"].isna().sum())}
    for code, col in TRUTH_PROGRAMS.items():
        status = result.status[:, result.program_index(code)]
        true = frame[col].fillna(False).astype(bool).to_numpy()
        out[code] = {
            "likely": precision_recall(status == LIKELY, true),
            "likely_or_verify": precision_recall(status >= NEEDS_VERIFICATION, true),
        }
    return out


def evaluate_against_truth(
    snapshots_dir: Path,
    truth_dir: Path,
    pseudonymizer: Pseudonymizer,
    params: ParameterSet,
    as_of_dates: Sequence[date],
    *,
    strict: bool = False,
) -> dict[str, Any]:
    """Evaluate each snapshot and score it (keyed by ISO date)."""
    truth = eligibility_truth(truth_dir, pseudonymizer, as_of_dates)
    report: dict[str, Any] = {"strict": strict, "params_fingerprint": params.fingerprint()}
    for day in sorted(as_of_dates):
        frame = pd.read_parquet(snapshot_path(snapshots_dir, day))
        result = evaluate(frame, params, day, strict=strict)
        report[day.isoformat()] = score_result(result, truth)
    return report


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print the table and write the JSON report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", type=Path, default=None)
    ap.add_argument("--as-of", action="append", type=date.fromisoformat, default=None)
    ap.add_argument("--strict", action="store_true", help="routine unknowns lower the status")
    args = ap.parse_args(argv)
    settings = load_settings(args.workspace)
    dates = args.as_of or sorted(
        date.fromisoformat(p.parent.name) for p in settings.snapshots_dir.glob("*/features.parquet")
    )
    truth_dir = truth_dir_for(settings)
    if truth_dir is None:
        print("error: no truth to evaluate against (truth_dir is off, or no <raw>/truth)")
        return 2
    report = evaluate_against_truth(
        settings.snapshots_dir,
        truth_dir,
        pseudonymizer_for(settings),
        load_parameters(settings.params_dir),
        dates,
        strict=args.strict,
    )
    print("as_of       program  prediction          n      precision  recall")
    for day in dates:
        for code in TRUTH_PROGRAMS:
            for kind, m in report[day.isoformat()][code].items():
                print(
                    f"{day}  {code:7s}  {kind:18s} {m['predicted']:6d}  "
                    f"{_fmt(m['precision']):9s}  {_fmt(m['recall'])}"
                )
    out = settings.reports_dir / "eligibility" / "truth.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"report: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
