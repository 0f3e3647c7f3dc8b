"""The match model: its thresholds, and the Fellegi-Sunter parameters learned with Splink
(m from labelled pairs, floored; u by seeded random sampling).

The trained model is plain Splink settings JSON, saved beside the warehouse so later runs score
pairs the same way.
"""

from __future__ import annotations

import logging

import duckdb

from features.linkage.comparisons import splink_settings

MATCH_THRESHOLD = 0.9
"""A record joins a person when the Fellegi-Sunter match probability is at least this."""
LOW_CONFIDENCE = 0.99
"""Links below this probability are low-confidence: shown, and routed to a person to confirm."""
PREDICT_FLOOR = 0.01
"""Pairs scored below this are not kept (they never decide anything)."""
SEED = 20240101
"""The seed of every random draw of linkage (training samples, u sampling)."""


def quiet_splink() -> None:
    """Keep Splink's logging to errors."""
    logging.getLogger("splink").setLevel(logging.ERROR)


def make_linker(con: duckdb.DuckDBPyConnection, table: str, model: dict):
    """A Splink linker over ``table`` of ``con`` with the settings ``model``."""
    from splink import DuckDBAPI, Linker

    db = DuckDBAPI(con)
    return Linker(db.register(con.table(table)), model, log_level=logging.ERROR)


def train_model(
    con: duckdb.DuckDBPyConnection, training_table: str, fields: set[str], prior: float
) -> dict:
    """Learn m from the label column ``person_key`` and u by seeded random sampling.

    Returns the trained Splink settings (JSON-ready).
    """
    quiet_splink()
    linker = make_linker(con, training_table, splink_settings(fields, prior))
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=SEED)
    linker.training.estimate_m_from_label_column("person_key")
    return smooth_m(linker.misc.save_model_to_json())


M_FLOOR = 1e-3
"""No trained m-probability goes below this: a disagreement seen in none of the labelled pairs
(say, two birth dates of one person) is rare, not impossible."""


def smooth_m(model: dict) -> dict:
    """Floor every trained m-probability at :data:`M_FLOOR` and renormalize per comparison."""
    for comp in model["comparisons"]:
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        if any(lv.get("fix_m_probability") for lv in levels):
            continue
        ms = [max(float(lv.get("m_probability") or 0.0), M_FLOOR) for lv in levels]
        total = sum(ms)
        for lv, m in zip(levels, ms, strict=True):
            lv["m_probability"] = m / total
    return model
