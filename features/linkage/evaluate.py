"""Linkage measured against a truth: pairwise precision and recall of a clustering, and of the
warehouse's links against the simulator's truth records (evaluation only; the pipeline never
reads the truth).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd


def pairwise_counts(pred: np.ndarray, truth: np.ndarray, flag: np.ndarray | None = None) -> dict:
    """Pairwise true/predicted/correct pair counts of a clustering against the truth.

    With ``flag`` (one bool per record), only pairs with at least one flagged record count.
    """
    frame = pd.DataFrame({"p": pred, "t": truth, "f": True if flag is None else flag})

    def pairs(groups: list[str]) -> int:
        g = frame.groupby(groups, sort=False)["f"].agg(["size", "sum"])
        n = g["size"].to_numpy(np.int64)
        if flag is None:
            return int((n * (n - 1) // 2).sum())
        a = n - g["sum"].to_numpy(np.int64)  # unflagged
        return int((n * (n - 1) // 2 - a * (a - 1) // 2).sum())

    correct, predicted, true = pairs(["p", "t"]), pairs(["p"]), pairs(["t"])
    return {
        "true_pairs": true,
        "predicted_pairs": predicted,
        "correct_pairs": correct,
        "precision": correct / predicted if predicted else 1.0,
        "recall": correct / true if true else 1.0,
    }


def evaluate_against_truth(con: duckdb.DuckDBPyConnection, truth_dir: Path) -> dict:
    """Pairwise precision and recall of the links against the simulator's truth."""
    pattern = str(truth_dir / "records" / "*" / "*.parquet")
    frame = con.execute(
        f"""
        SELECT l.person_id AS pred, t.person_id AS truth,
               p.person_key IS NULL AS no_id, l.agency
        FROM links l
        JOIN person_records p USING (agency, record_id)
        JOIN (SELECT DISTINCT regexp_extract(filename, 'records/([^/]+)/', 1) AS agency,
                     record_id, person_id
              FROM read_parquet('{pattern}', filename = true)) t USING (agency, record_id)
        """
    ).df()
    pred = frame["pred"].to_numpy(object)
    truth = frame["truth"].to_numpy()
    return {
        "records": len(frame),
        "records_without_usable_id": int(frame["no_id"].sum()),
        "overall": pairwise_counts(pred, truth),
        "without_usable_id": pairwise_counts(pred, truth, frame["no_id"].to_numpy(bool)),
    }
