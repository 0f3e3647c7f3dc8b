"""Rolling origin: one model per test month, each trained only on what was known before it.

For each of the latest ``n_origins`` labelled as-of dates ``t`` (the **origins**), the split of
:func:`training.splits.temporal_split` over the labelled dates up to ``t`` gives train, valid and
test = ``[t]``. Each origin fits LightGBM and the logistic baseline with
:func:`training.pipeline.fit_models` (early stopping and the logistic penalty on one half of
the validation households, calibration of both on the other half), and calibrates the
early-warning rules' score the same way (Platt on the same half), so that every baseline's
calibration is judged like the model's. Rows: the discovery population
(:func:`training.labels.label_population`), labelled.

:func:`rolling_origin` returns one :class:`Origin` per test month, with the test rows, their
scores and (on simulated data) the truth columns. :mod:`training.backtest` turns them into
figures with intervals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.errors import ConfigError
from core.settings import Settings
from core.truth import truth_dir_for
from features.pseudonym import pseudonymizer_for
from features.warehouse import connect
from policies.early_warning import rules_baseline
from policies.parameters import load_parameters
from training.estimators import Calibrator, LogisticBaseline, OutreachModel
from training.labels import HORIZON_MONTHS, label_cutoff, label_population, observable_labels
from training.pipeline import (
    available_snapshots,
    fit_models,
    load_snapshots,
    raw_dir_from_meta,
    split_validation,
)
from training.splits import Split, temporal_split
from training.truth import has_truth, truth_frame

N_ORIGINS = 6
"""Test months of the rolling origin (at least 6)."""


@dataclass
class Origin:
    """One test month: its split, its fitted models and its scored test rows.

    ``test`` holds the snapshot columns, ``label``, ``score_model``, ``score_logistic`` (both
    calibrated), ``score_rules`` (the rules' ranking score), ``p_rules`` (the rules' score
    calibrated the same way) and, with a truth, :data:`training.truth.TRUTH_COLUMNS`.
    """

    test_date: date
    split: Split
    model: OutreachModel
    logistic: LogisticBaseline
    test: pd.DataFrame
    rows: dict[str, int] = field(default_factory=dict)


def rolling_origin(
    settings: Settings,
    n_origins: int = N_ORIGINS,
    *,
    valid_dates: int = 3,
    horizon_months: int = HORIZON_MONTHS,
    params: Mapping[str, Any] | None = None,
    raw_dir: Path | None = None,
    progress=None,
) -> tuple[list[Origin], dict[str, Any]]:
    """Fit and score one model per origin (see the module docstring).

    Returns:
        The origins (oldest first) and ``{"cutoff", "labelled_dates", "origins", "truth"}``.

    Raises:
        ConfigError: fewer labelled dates than a split per origin needs.
    """
    say = progress or (lambda _m: None)
    params = {"seed": settings.model.seed, **(params or {})}
    policy = load_parameters(settings.params_dir)
    dates = available_snapshots(settings.snapshots_dir)
    if not dates:
        raise ConfigError("no snapshots: run `outreach features` first")
    con = connect(settings.warehouse_path, read_only=True)
    try:
        cutoff = label_cutoff(con)
        labels = observable_labels(con, dates, horizon_months, cutoff)
        raw_dir = raw_dir or raw_dir_from_meta(con)
    finally:
        con.close()
    labelled = sorted(set(labels.loc[labels["labelled"], "as_of"]))
    if len(labelled) < n_origins:
        raise ConfigError(f"{len(labelled)} labelled as-of dates: a rolling origin needs more")
    origins = labelled[-n_origins:]
    frame = load_snapshots(settings.snapshots_dir, labelled)
    frame = frame.loc[label_population(frame, policy)].merge(
        labels[["household_id", "as_of", "label"]], on=["household_id", "as_of"], how="left"
    )
    frame = frame.loc[frame["label"].notna()].reset_index(drop=True)
    truth = None
    truth_dir = truth_dir_for(settings, raw_dir)
    if has_truth(truth_dir):
        assert truth_dir is not None
        truth = truth_frame(truth_dir, pseudonymizer_for(settings), origins, horizon_months)
    out = []
    for t in origins:
        split = temporal_split(
            [d for d in labelled if d <= t], horizon_months, test_dates=1, valid_dates=valid_dates
        )
        say(f"origin {t}: train {split.train[0]}..{split.train[-1]}, valid {split.valid[0]}")
        part = frame["as_of"].map(split.part)
        train, valid = frame.loc[part == "train"], frame.loc[part == "valid"]
        test = frame.loc[part == "test"].reset_index(drop=True)
        model, logistic = fit_models(train, valid, params)
        _, calib = split_validation(valid)
        rules_cal = Calibrator("platt").fit(
            rules_baseline(calib, policy), calib["label"].to_numpy(dtype=float)
        )
        test["score_model"] = model.predict_proba(test)
        test["score_logistic"] = logistic.predict_proba(test)
        test["score_rules"] = rules_baseline(test, policy)
        test["p_rules"] = rules_cal.predict(test["score_rules"].to_numpy())
        if truth is not None:
            test = test.merge(truth, on=["household_id", "as_of"], how="left")
        rows = {"train": len(train), "valid": len(valid), "test": len(test)}
        out.append(Origin(t, split, model, logistic, test, rows))
    info = {
        "cutoff": cutoff.isoformat(),
        "labelled_dates": [d.isoformat() for d in labelled],
        "origins": [
            {
                "test": o.test_date.isoformat(),
                "train": [o.split.train[0].isoformat(), o.split.train[-1].isoformat()],
                "valid": [o.split.valid[0].isoformat(), o.split.valid[-1].isoformat()],
                "rows": o.rows,
                "positives": int(np.nansum(o.test["label"])),
                "trees": o.model.best_iteration,
            }
            for o in out
        ],
        "truth": truth is not None,
        "fitting": "early stopping and the logistic penalty on one half of the validation "
        "households; Platt calibration of the model, the logistic regression and the rules' "
        "score on the other half (cross-fitting by household)",
    }
    return out, info
