"""Refit before deployment: the selected settings on every labelled month (issue 14, item 8).

Selection and evaluation use a model trained on the train split only (so the test months are
out of sample). The model that is deployed is then refit with the chosen settings — the same
LightGBM parameters and the number of trees early stopping chose — on **every labelled month**,
and calibrated on the **latest labelled window** (:data:`CALIBRATION_DATES` as-of dates). To
keep the calibration out of sample, the window is cross-fitted: the calibration rows are the
window's rows of one half of the households (:func:`training.pipeline.split_validation`), and
the booster is trained on every other labelled row.

:func:`refit_for_deployment` returns the model and a JSON-ready description of its windows,
which the model card prints (training window, calibration window, how old they are).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from core.settings import Settings
from training.estimators import OutreachModel, refit_lightgbm
from training.labels import label_population
from training.pipeline import TrainResult, load_snapshots, split_validation

CALIBRATION_DATES = 3
"""As-of dates of the latest labelled window the deployed model is calibrated on."""


def _months_between(a: date, b: date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def refit_for_deployment(
    settings: Settings, result: TrainResult, policy
) -> tuple[OutreachModel, dict[str, Any]]:
    """The deployed model: ``result``'s settings refit on every labelled month.

    Args:
        settings: the workspace (snapshots).
        result: the selection run (its labels, parameters, tree count, calibration method).
        policy: the dated parameters (the population rule).
    """
    labels = result.labels
    assert labels is not None, "the selection run keeps its labels"
    labelled = sorted(set(labels.loc[labels["labelled"], "as_of"]))
    frame = load_snapshots(settings.snapshots_dir, labelled)
    frame = frame.loc[label_population(frame, policy)].merge(
        labels[["household_id", "as_of", "label"]], on=["household_id", "as_of"], how="left"
    )
    frame = frame.loc[frame["label"].notna()].reset_index(drop=True)
    window = labelled[-CALIBRATION_DATES:]
    in_window = frame["as_of"].isin(window)
    _, calib = split_validation(frame.loc[in_window])
    train = frame.drop(index=calib.index)
    model = refit_lightgbm(
        train,
        calib,
        result.model.params,
        result.model.best_iteration,
        calibration=result.calibration,
    )
    cutoff = date.fromisoformat(result.label["cutoff"])
    info = {
        "refit": True,
        "trees": int(result.model.best_iteration),
        "selected_by": "the evaluation run (train split; early stopping on half the validation "
        "households)",
        "training_window": _window(train),
        "calibration_window": {
            **_window(calib),
            "households": "one half of the households (stable hash of the key); the other half "
            "of the window's rows is in the training window",
        },
        "data_cutoff": cutoff.isoformat(),
        "age_months_at_cutoff": _months_between(max(labelled), cutoff),
        "note": "the latest labelled as-of date is the last whose 6-month outcome window plus "
        "the reporting delay ends by the data cutoff",
    }
    return model, info


def _window(rows: pd.DataFrame) -> dict[str, Any]:
    days = sorted(set(rows["as_of"]))
    return {
        "first": days[0].isoformat(),
        "last": days[-1].isoformat(),
        "n_dates": len(days),
        "rows": int(len(rows)),
        "positives": int(rows["label"].sum()),
    }
