"""Train and evaluate in one call: snapshots + observable labels -> model, baselines, metrics.

Steps of :func:`train_and_evaluate`:

1. list the snapshots, build observable labels for their dates (warehouse opened read-only);
2. keep the labelled dates, split them in time (:func:`training.splits.temporal_split`);
3. read the snapshots of the split, keep the label population (:func:`label_population`);
4. fit LightGBM and the logistic baseline on train (:func:`fit_models`): early stopping and
   the logistic penalty on one half of the validation households, calibration of both (Platt)
   and the champion comparison on the other half (cross-fitting, :func:`split_validation`);
5. evaluate model, rules and logistic on test against the observable label;
6. when the pipeline may read the simulator's truth (``settings.truth_dir``, through
   :func:`core.truth.truth_dir_for`: by default ``raw_dir/truth``, ``raw_dir`` defaulting to the
   warehouse's ``meta.raw_dir``; ``off`` under a county twin), evaluate the same scores and the
   oracle ``p_onset_6m`` against true onset:
   ranking metrics on the test rows the truth can judge (not in true hardship at t, complete
   future), lists at capacity cut on the whole test population (the deployable lists), with the
   share of silent onsets found, and the gap AUC(observable) - AUC(true onset);
7. fairness of the model's lists on test (observable label; and true onset when available).

No MLflow here: the caller logs :class:`TrainResult`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping
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
from features.vectors.build import read_snapshot_metadata, snapshot_path
from features.vectors.catalogue import FEATURE_SET_VERSION, KEYS
from features.warehouse import connect
from policies.early_warning import rules_baseline
from policies.parameters import ParameterSet, load_parameters
from policies.population import INPUTS as POPULATION_INPUTS
from training.backtest import fairness_decomposition
from training.definitions import DEFINITIONS
from training.estimators import FEATURES_FOR_MODEL, LogisticBaseline, OutreachModel, fit_lightgbm
from training.evaluation import capacity_metrics, evaluate_scores
from training.fairness import capacity_by_group
from training.labels import (
    HORIZON_MONTHS,
    LABEL_DEFINITION,
    label_cutoff,
    label_population,
    observable_labels,
    reporting_delay_p99,
)
from training.splits import Split, temporal_split
from training.truth import evaluation_rows, has_truth, truth_frame

SCORES = ("model", "rules", "logistic")


@dataclass
class TrainResult:
    """What a training run produced (metrics JSON-ready; frames for plots and reports)."""

    model: OutreachModel
    logistic: LogisticBaseline
    metrics: dict[str, Any]
    test_frame: pd.DataFrame
    split: Split
    snapshot_ids: dict[str, str]
    label: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    valid_frame: pd.DataFrame | None = None  # the calibration half of valid (champion comparison)
    labels: pd.DataFrame | None = None  # every observable label (for the refit)
    params: dict[str, Any] = field(default_factory=dict)
    calibration: str = "platt"


def split_validation(valid: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cross-fitting halves of the validation rows, by household (a stable hash of the key):
    ``tune`` (early stopping, the logistic penalty) and ``calibrate`` (calibration of every
    score, and the champion comparison, which is a ranking metric calibration cannot change).
    A household is in the same half on every date."""
    ids = valid["household_id"].astype(str)
    half = ids.map(lambda k: hashlib.sha256(k.encode()).digest()[0] & 1).to_numpy()
    return valid.loc[half == 0], valid.loc[half == 1]


def fit_models(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    params: Mapping[str, Any],
    calibration: str = "platt",
) -> tuple[OutreachModel, LogisticBaseline]:
    """LightGBM and the logistic baseline on ``train``: early stopping and the logistic penalty
    on the ``tune`` half of ``valid``, both calibrated (the same way) on the other half
    (:func:`split_validation`)."""
    tune, calib = split_validation(valid)
    model = fit_lightgbm(train, tune, params, calibration=calibration, calibrate_on=calib)
    logistic = LogisticBaseline().fit(
        train, train["label"].to_numpy(), tune, tune["label"].to_numpy()
    )
    logistic.calibrate(calib, calib["label"].to_numpy(), calibration)
    return model, logistic


def available_snapshots(snapshots_dir: Path) -> list[date]:
    """As-of dates with a ``features.parquet`` under ``snapshots_dir`` (sorted)."""
    out = []
    for p in sorted(Path(snapshots_dir).glob("*/features.parquet")):
        try:
            out.append(date.fromisoformat(p.parent.name))
        except ValueError:
            continue
    return out


def load_snapshots(snapshots_dir: Path, dates: Iterable[date]) -> pd.DataFrame:
    """Keys and model features of the snapshots of ``dates``, ``as_of`` as ``datetime.date``."""
    cols = [k for k, _, _ in KEYS] + ["disabled_members", *FEATURES_FOR_MODEL]
    cols += [*POPULATION_INPUTS, "visit_in_need_6m", "visit_not_in_need_6m"]
    cols = list(dict.fromkeys(cols))
    frames = []
    for d in sorted(set(dates)):
        df = pd.read_parquet(snapshot_path(snapshots_dir, d), columns=cols)
        df["as_of"] = d
        df["household_id"] = df["household_id"].astype(str)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def raw_dir_from_meta(con) -> Path | None:
    rows = con.execute("SELECT value FROM meta WHERE key = 'raw_dir'").fetchall()
    return Path(rows[0][0]) if rows and rows[0][0] else None


def _scores(
    model: OutreachModel, logistic: LogisticBaseline, frame: pd.DataFrame, policy: ParameterSet
) -> dict:
    return {
        "model": model.predict_proba(frame),
        "rules": rules_baseline(frame, policy),
        "logistic": logistic.predict_proba(frame),
    }


def _truth_metrics(
    test: pd.DataFrame, scores: Mapping[str, np.ndarray], capacities: Iterable[float]
) -> dict:
    """Scores against true onset (:data:`training.definitions.DEFINITIONS` ``onset``).

    Ranking and probability metrics use the judged rows (not in hardship at t, complete future);
    the lists at capacity are cut on the **whole** test population — the deployable lists, in
    which households already in hardship take places too — and their recall counts the judged
    onsets they reach.
    """
    rows = evaluation_rows(test).to_numpy()
    sub = test.loc[rows].reset_index(drop=True)
    sub["true_onset"] = sub["true_onset_6m"].astype(float)
    judged = {k: np.asarray(v)[rows] for k, v in scores.items()}
    judged["oracle"] = sub["p_onset_6m"].to_numpy(dtype=float)
    out = evaluate_scores(sub, judged, "true_onset", capacities=capacities,
                          silent_col="silent_onset_6m")  # fmt: skip
    onset = (rows & test["true_onset_6m"].fillna(False).astype(bool).to_numpy()).astype(float)
    silent_onset = rows & test["silent_onset_6m"].fillna(False).astype(bool).to_numpy()
    full = dict(scores) | {"oracle": test["p_onset_6m"].to_numpy(dtype=float)}
    for name, score in full.items():
        out["scores"][name]["capacity"] = capacity_metrics(
            test, np.asarray(score, dtype=float), onset, capacities, silent=silent_onset
        )
    out["definition"] = DEFINITIONS["onset"]
    out["lists"] = "cut on the whole test population (deployable lists)"
    return out


def _goals(observed: dict, truth: dict | None, capacity: str = "0.05") -> dict:
    obs = observed["scores"]["model"]
    goals: dict[str, Any] = {
        "observed_ece": obs["ece"],
        "observed_ece_ok": obs["ece"] is not None and obs["ece"] <= 0.01,
        "observed_slope": obs["calibration_slope"],
        "observed_slope_ok": obs["calibration_slope"] is not None
        and 0.9 <= obs["calibration_slope"] <= 1.1,
    }
    if truth:
        t = truth["scores"]
        gap = t["oracle"]["roc_auc"] - t["model"]["roc_auc"]
        rec_model = t["model"]["capacity"][capacity]["recall"] or 0.0
        rec_rules = t["rules"]["capacity"][capacity]["recall"] or 0.0
        goals.update(
            true_auc_model=t["model"]["roc_auc"],
            true_auc_oracle=t["oracle"]["roc_auc"],
            oracle_minus_model_auc=gap,
            oracle_gap_ok=gap <= 0.03,
            recall_at_5pct_model=rec_model,
            recall_at_5pct_rules=rec_rules,
            recall_vs_rules=rec_model / rec_rules if rec_rules else None,
            recall_vs_rules_ok=rec_model >= 2 * rec_rules,
        )
    return goals


def train_and_evaluate(
    settings: Settings,
    as_of_dates: Iterable[date] | None = None,
    raw_dir: Path | None = None,
    *,
    horizon_months: int = HORIZON_MONTHS,
    params: Mapping[str, Any] | None = None,
    calibration: str = "platt",
    test_dates: int = 1,
    valid_dates: int = 3,
    capacities: Iterable[float] | None = None,
    n_boot: int = 200,
) -> TrainResult:
    """Train the model and baselines on the workspace's snapshots and evaluate them on test.

    Args:
        settings: the workspace.
        as_of_dates: snapshots to use (default: every snapshot under ``settings.snapshots_dir``).
        raw_dir: the raw folder whose ``truth/`` the ``auto`` setting reads (default: the
            warehouse's ``meta.raw_dir``); evaluation against the truth is skipped when
            :func:`core.truth.truth_dir_for` gives none.
        params: LightGBM overrides (the seed is ``settings.model.seed`` unless given here).
        capacities: list sizes of the metrics (default: ``settings.model.capacities``).

    Raises:
        ConfigError: no snapshot, or too few labelled dates for a split.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    capacities = tuple(settings.model.capacities if capacities is None else capacities)
    params = {"seed": settings.model.seed, **(params or {})}
    policy = load_parameters(settings.params_dir)
    dates = sorted(set(as_of_dates)) if as_of_dates else available_snapshots(settings.snapshots_dir)
    missing = [d for d in dates if not snapshot_path(settings.snapshots_dir, d).exists()]
    if not dates or missing:
        what = f"missing snapshots: {', '.join(map(str, missing[:3]))}" if missing else "none"
        raise ConfigError(f"no usable snapshots ({what}): run `outreach features` first")
    con = connect(settings.warehouse_path, read_only=True)
    try:
        cutoff = label_cutoff(con)
        delay = reporting_delay_p99(con, cutoff)
        labels = observable_labels(con, dates, horizon_months, cutoff)
        if raw_dir is None:
            raw_dir = raw_dir_from_meta(con)
    finally:
        con.close()
    timings["labels_s"] = time.perf_counter() - t0
    labelled = sorted(set(labels.loc[labels["labelled"], "as_of"]))
    split = temporal_split(labelled, horizon_months, test_dates=test_dates, valid_dates=valid_dates)
    used = [*split.train, *split.valid, *split.test]
    frame = load_snapshots(settings.snapshots_dir, used)
    frame = frame.loc[label_population(frame, policy)].merge(
        labels[["household_id", "as_of", "label"]], on=["household_id", "as_of"], how="left"
    )
    frame = frame.loc[frame["label"].notna()].reset_index(drop=True)
    part = frame["as_of"].map(split.part)
    train, valid = frame.loc[part == "train"], frame.loc[part == "valid"]
    test = frame.loc[part == "test"].reset_index(drop=True)

    t1 = time.perf_counter()
    model, logistic = fit_models(train, valid, params, calibration)
    timings["fit_s"] = time.perf_counter() - t1

    scores = _scores(model, logistic, test, policy)
    for name, s in scores.items():
        test[f"score_{name}"] = s
    test["raw_score"] = model.predict_raw(test)
    observed = evaluate_scores(test, scores, "label", capacities=capacities)
    metrics: dict[str, Any] = {
        "observed": observed,
        "fairness": capacity_by_group(test, "score_model", "label", capacities=capacities,
                                      n_boot=n_boot),
    }  # fmt: skip
    truth = None
    truth_dir = truth_dir_for(settings, raw_dir)
    if has_truth(truth_dir):
        assert truth_dir is not None
        pseudo = pseudonymizer_for(settings)
        tf = truth_frame(truth_dir, pseudo, split.test, horizon_months)
        test = test.merge(tf, on=["household_id", "as_of"], how="left")
        truth = _truth_metrics(test, scores, capacities)
        judged = test.loc[evaluation_rows(test)].assign(
            true_onset=lambda d: d["true_onset_6m"].astype(float)
        )
        metrics["truth"] = truth
        metrics["fairness_truth"] = capacity_by_group(
            judged, "score_model", "true_onset", capacities=capacities, n_boot=n_boot
        )
        onset = test["true_onset_6m"].fillna(False).astype(bool) & evaluation_rows(test)
        metrics["fairness_decomposition"] = fairness_decomposition(
            test.assign(true_onset=onset.astype(float)), "true_onset", n_boot=n_boot,
            seed=settings.model.seed,
        )  # fmt: skip
        metrics["gap"] = {
            "auc_observed": observed["scores"]["model"]["roc_auc"],
            "auc_true_onset": truth["scores"]["model"]["roc_auc"],
            "auc_observed_minus_true": observed["scores"]["model"]["roc_auc"]
            - truth["scores"]["model"]["roc_auc"],
            "observable_positive_rate": observed["prevalence"],
            "true_onset_rate": truth["prevalence"],
        }
    if "fairness_decomposition" not in metrics:
        metrics["fairness_decomposition"] = fairness_decomposition(
            test, "label", n_boot=n_boot, seed=settings.model.seed
        )
    metrics["goals"] = _goals(observed, truth)
    metrics["data"] = {
        "rows": {
            "train": len(train),
            "valid": len(valid),
            "test": len(test),
        },
        "positives": {
            "train": int(train["label"].sum()),
            "valid": int(valid["label"].sum()),
            "test": int(test["label"].sum()),
        },
        "split": split.to_dict(),
        "best_iteration": model.best_iteration,
        "feature_set_version": FEATURE_SET_VERSION,
        "n_features": len(model.feature_names),
    }
    timings["total_s"] = time.perf_counter() - t0
    label_info = {
        "definition": LABEL_DEFINITION,
        "horizon_months": horizon_months,
        "cutoff": cutoff.isoformat(),
        "reporting_delay_p99_days": delay,
        "labelled_dates": [d.isoformat() for d in labelled],
        "unlabelled_dates": [d.isoformat() for d in dates if d not in set(labelled)],
    }
    snapshot_ids = {
        d.isoformat(): read_snapshot_metadata(snapshot_path(settings.snapshots_dir, d))[
            "snapshot_id"
        ]
        for d in used
    }
    return TrainResult(
        model=model,
        logistic=logistic,
        metrics=metrics,
        test_frame=test,
        split=split,
        snapshot_ids=snapshot_ids,
        label=label_info,
        timings=timings,
        valid_frame=split_validation(valid)[1].reset_index(drop=True),
        labels=labels,
        params=dict(params),
        calibration=calibration,
    )
