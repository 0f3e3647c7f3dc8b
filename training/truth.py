"""The simulator's ground truth, mapped onto snapshot rows — for evaluation only.

Nothing in training reads this module: it measures how far the observable label (and the model
trained on it) is from true need. Every function here takes the truth folder that
:func:`core.truth.truth_dir_for` allowed (``settings.truth_dir``; never a path of its own), and
reads the manifest of the simulation beside it (``<truth>/../manifest.json``). As-of month end
``t`` maps to the truth month index
``(t.year·12 + t.month) - (start.year·12 + start.month)`` where ``start`` is the manifest's
``config.start_month``; truth household ``h`` maps to the pseudonymous key of registry number
``"HH%09d" % h``.

Columns of :func:`truth_frame`:

- ``true_onset_6m``: an onset (hardship after three months without) in months t+1..t+6;
- ``p_onset_6m``: the oracle's probability of that, from the full true state at t;
- ``in_hardship``: hardship at t; ``complete_future``: months t+1..t+6 were simulated;
- ``silent``: at t in hardship, not enrolled in dibao/tekun and no application in 12 months;
- ``enrolled``: enrolled in dibao or tekun at t; ``applied_12m``: an application in 12 months;
- ``silent_onset_6m``: a true onset in t+1..t+6 and silent in some month of that window — the
  households the observable label misses, whose share found by a list is reported.

Evaluate on :func:`evaluation_rows` (not in hardship at t, complete future), as the oracle's
published figures are.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from features.pseudonym import Pseudonymizer
from simulator.validate import future_onset

TRUTH_COLUMNS = (
    "household_id",
    "as_of",
    "true_onset_6m",
    "p_onset_6m",
    "in_hardship",
    "complete_future",
    "silent",
    "silent_onset_6m",
    "enrolled",
    "applied_12m",
)
HORIZON = 6


def has_truth(truth_dir: Path | None) -> bool:
    """Whether ``truth_dir`` (a folder :func:`core.truth.truth_dir_for` returned) holds the
    household months, with the simulation's manifest beside it."""
    return (
        truth_dir is not None
        and (Path(truth_dir) / "household_months.parquet").exists()
        and (Path(truth_dir).parent / "manifest.json").exists()
    )


def start_month(truth_dir: Path) -> tuple[int, int]:
    """(year, month) of truth month 0, from the manifest beside the truth folder."""
    manifest = json.loads((Path(truth_dir).parent / "manifest.json").read_text(encoding="utf-8"))
    year, month = manifest["config"]["start_month"].split("-")
    return int(year), int(month)


def month_index(day: date, start: tuple[int, int]) -> int:
    """Truth month index of the month holding ``day``."""
    return day.year * 12 + day.month - (start[0] * 12 + start[1])


def _future_any(hm: pd.DataFrame, col: str, horizon: int) -> np.ndarray:
    return future_onset(hm[["household_id", "month"]].assign(onset=hm[col]), horizon)


def truth_frame(
    truth_dir: Path,
    pseudonymizer: Pseudonymizer,
    as_of_dates: Iterable[date],
    horizon_months: int = HORIZON,
) -> pd.DataFrame:
    """Truth of every simulated household on each as-of date (columns :data:`TRUTH_COLUMNS`).

    ``household_id`` is the pseudonymous key used by snapshots; ``as_of`` a ``datetime.date``.
    """
    truth_dir = Path(truth_dir)
    start = start_month(truth_dir)
    cols = ["household_id", "month", "onset", "hardship", "p_onset_6m", "complete_future",
            "silent", "enrolled_dibao", "enrolled_tekun", "applied_12m"]  # fmt: skip
    hm = pq.read_table(truth_dir / "household_months.parquet", columns=cols).to_pandas()
    hm["true_onset_6m"] = future_onset(hm, horizon_months)
    hm["silent_onset_6m"] = hm["true_onset_6m"].to_numpy() & _future_any(
        hm, "silent", horizon_months
    )
    wanted = {month_index(d, start): d for d in sorted(set(as_of_dates))}
    rows = hm[hm["month"].astype(int).isin(list(wanted))].copy()
    ids = rows["household_id"].astype(np.int64).unique()
    keys = {h: pseudonymizer.household_key(f"HH{h:09d}") for h in ids}
    out = pd.DataFrame(
        {
            "household_id": rows["household_id"].map(keys).astype(str).to_numpy(),
            "as_of": rows["month"].astype(int).map(wanted).to_numpy(),
            "true_onset_6m": rows["true_onset_6m"].to_numpy(dtype=bool),
            "p_onset_6m": rows["p_onset_6m"].to_numpy(dtype=float),
            "in_hardship": rows["hardship"].to_numpy(dtype=bool),
            "complete_future": rows["complete_future"].to_numpy(dtype=bool),
            "silent": rows["silent"].to_numpy(dtype=bool),
            "silent_onset_6m": rows["silent_onset_6m"].to_numpy(dtype=bool),
            "enrolled": (rows["enrolled_dibao"] | rows["enrolled_tekun"]).to_numpy(dtype=bool),
            "applied_12m": rows["applied_12m"].to_numpy(dtype=bool),
        }
    )
    return out.sort_values(["as_of", "household_id"], kind="stable").reset_index(drop=True)


def evaluation_rows(frame: pd.DataFrame) -> pd.Series:
    """Mask of rows the truth can judge: not in hardship at t, with a complete future."""
    return frame["complete_future"].fillna(False).astype(bool) & ~frame["in_hardship"].fillna(
        True
    ).astype(bool)
