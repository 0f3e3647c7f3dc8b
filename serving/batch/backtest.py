"""The lists the system would have produced, month by month, judged by the truth (evaluation).

For each test month of the rolling origin (:func:`training.rolling.rolling_origin`: a model
trained only on what was known before that month), the month's snapshot is scored and listed by
the same code as ``outreach score`` (:func:`serving.batch.frame.compute`: the discovery
population by priority, suppression after a visit that found no need, the program-gap path and
the exploration draw). Visit outcomes recorded only in the service database are not replayed:
suppression uses the agency's delivered visits (``visit_not_in_need_6m``). The lists are judged
with :func:`serving.batch.list_evaluation.evaluate_lists` beside rules lists built under the
same conditions, and the months pooled (:func:`serving.batch.list_evaluation.pool_months`).

Simulated data only (the truth is read here for evaluation, never by scoring).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from core.settings import Settings
from features.pseudonym import pseudonymizer_for
from features.vectors.build import snapshot_path
from policies.early_warning import rules_baseline
from policies.parameters import load_parameters
from policies.population import PROGRAM_GAP_SHARE
from serving.batch.frame import compute
from serving.batch.list_evaluation import evaluate_lists, pool_months
from serving.batch.priority import ListSpec
from training.definitions import RECORD_INPUTS
from training.rolling import Origin
from training.truth import truth_frame


def backtest_lists(
    settings: Settings,
    origins: Sequence[Origin],
    truth_dir: Path,
    spec: ListSpec,
    n_boot: int = 200,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Judge each origin month's lists and pool the months (see the module docstring).

    Returns:
        :func:`pool_months`'s result, with ``per_month``: each month's figures (no draws).
    """
    say = progress or (lambda _m: None)
    params = load_parameters(settings.params_dir)
    pseudo = pseudonymizer_for(settings)
    results = []
    for o in origins:
        day = o.test_date
        say(f"lists of {day}")
        frame = pq.read_table(snapshot_path(settings.snapshots_dir, day)).to_pandas()
        scored = compute(frame, o.model, params, spec, day)
        truth = truth_frame(truth_dir, pseudo, [day]).drop(columns=["as_of"])
        h = scored.households
        records = frame[["household_id", *RECORD_INPUTS]].astype({"household_id": str})
        judged = h[["household_id"]].merge(records, on="household_id", how="left")
        judged = judged.merge(truth, on="household_id", how="left")
        share = float(params.get(PROGRAM_GAP_SHARE, day))
        results.append(
            evaluate_lists(
                h,
                judged,
                rules_baseline(frame, params, day),
                spec,
                share,
                lists=scored.lists,
                n_boot=n_boot,
                seed=spec.seed + day.toordinal(),
                keep_draws=True,
                as_of=day,
            )  # fmt: skip
        )
    pooled = pool_months(results)
    pooled["per_month"] = [
        {
            "as_of": o.test_date.isoformat(),
            "composition": r["composition"],
            "ours": {p: r["point"]["ours"][p] for p in ("ranked", "all")},
            "rules": {p: r["point"]["rules"][p] for p in ("ranked", "all")},
        }
        for o, r in zip(origins, results, strict=True)
    ]
    pooled["list_spec"] = spec.as_dict()
    return pooled
