"""Bring your own table: train and evaluate the hardship model on any household table.

One row per household (CSV, UTF-8 or GBK, or Parquet), a unique id column, a label column and
any other columns, read by :mod:`training.table_columns`. The label is 0/1 or true/false, or
the classes named by ``positive`` count as hardship. Features are every column except the id,
label, time and group columns:

- numbers (in a CSV: text that parses as numbers) are used as numbers;
- other text with at most ``MAX_LEVELS`` levels is used as a category;
- anything else (more levels, dates, empty or constant columns) is dropped with a note.

A column that is mostly numbers (at least ``NUMERIC_SHARE`` of its values) but holds a few
values that are not is refused, naming the column and how many values: silently treating them
as missing would hide a broken extract. Rows without a label are dropped and counted.

Validation is temporal when a time column is given (test = the latest 20 % of rows by time,
valid = the 20 % before, train = the rest; a time value never spans two parts: the rule of
:func:`training.splits.split_in_time` without a gap), else 5-fold
stratified cross-validation with out-of-fold predictions (early stopping and Platt calibration
on a stratified quarter of each training fold). LightGBM uses the household model's
deterministic, shallow parameters, with ``min_data_in_leaf`` scaled down for small tables; the
baseline is a standardized logistic regression on the same columns.

Example:
    >>> frame = load_table(Path("survey.csv"))  # doctest: +SKIP
    >>> report = train_table(frame, TableSpec(label="poor", id_col="hh_id"))  # doctest: +SKIP
    >>> report["metrics"]["scores"]["model"]["roc_auc"]  # doctest: +SKIP
    0.81
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from core.errors import ConfigError, DataContractError
from training.estimators import DEFAULT_PARAMS, Calibrator, train_booster
from training.evaluation import CAPACITIES, evaluate_scores
from training.fairness import capacity_by_group
from training.splits import split_in_time
from training.table_columns import (
    TableSpec,
    as_text,
    binary_label,
    feature_matrix,
    first_row,
    show_classes,
    show_time,
    time_keys,
)

EXPERIMENT = "outreach-tables"
TEST_SHARE = VALID_SHARE = 0.2
FOLDS = 5
CALIBRATION_SHARE = 0.25
MIN_CLASS_ROWS = 2 * FOLDS
ONE_THREAD_BELOW = 20_000


# ------------------------------------------------------------------------------- models
def table_params(n_train: int) -> dict[str, Any]:
    """:data:`training.estimators.DEFAULT_PARAMS` with leaves (and category groups) of at least
    ``n_train / 20`` rows (5 at least, 200 at most) so that a small table can still split, and
    one thread below :data:`ONE_THREAD_BELOW` rows (threads cost more than they save there)."""
    leaf = int(min(DEFAULT_PARAMS["min_data_in_leaf"], max(5, n_train // 20)))
    threads = 1 if n_train < ONE_THREAD_BELOW else DEFAULT_PARAMS["num_threads"]
    return {
        **DEFAULT_PARAMS,
        "min_data_in_leaf": leaf,
        "min_data_per_group": leaf,
        "num_threads": threads,
    }


class TableModel:
    """A LightGBM booster on arbitrary columns with a Platt calibrator fitted on validation.

    Columns are passed to LightGBM by position (``f0``, ``f1``...), so any column name works.
    """

    def __init__(
        self,
        booster: lgb.Booster,
        calibrator: Calibrator,
        best_iteration: int,
        params: dict[str, Any],
    ) -> None:
        self.booster = booster
        self.calibrator = calibrator
        self.best_iteration = best_iteration
        self.params = params

    @staticmethod
    def positional(X: pd.DataFrame) -> pd.DataFrame:
        return X.set_axis([f"f{i}" for i in range(X.shape[1])], axis=1)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        raw = np.asarray(self.booster.predict(self.positional(X), raw_score=True), dtype=float)
        return self.calibrator.predict(raw)


def fit_table_lightgbm(
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    X_valid: pd.DataFrame,
    y_valid: np.ndarray,
    params: dict[str, Any] | None = None,
) -> TableModel:
    """Train on ``X_train``, stop early on ``X_valid`` (log-loss), Platt-calibrate on it."""
    p = {**table_params(len(X_train)), **(params or {})}
    Xt, Xv = TableModel.positional(X_train), TableModel.positional(X_valid)
    cats = [c for c in Xt.columns if Xt[c].dtype == "category"]
    booster, best = train_booster(Xt, y_train, Xv, y_valid, p, cats)
    raw = np.asarray(booster.predict(Xv, raw_score=True), dtype=float)
    return TableModel(booster, Calibrator("platt").fit(raw, y_valid), best, p)


def _logistic_input(X: pd.DataFrame) -> pd.DataFrame:
    return X.apply(
        lambda c: c.astype(object).where(c.notna(), "(missing)") if c.dtype == "category" else c
    )


def fit_logistic(X: pd.DataFrame, y: np.ndarray) -> Pipeline:
    """Baseline: median imputation with missing indicators, standardization, one-hot
    categories, L2 logistic regression (deterministic)."""
    cats = [c for c in X.columns if X[c].dtype == "category"]
    nums = [c for c in X.columns if c not in cats]
    parts = [
        ("num", Pipeline([("impute", SimpleImputer(strategy="median", add_indicator=True)),
                          ("scale", StandardScaler())]), nums),
        ("cat", OneHotEncoder(handle_unknown="ignore"), cats),
    ]  # fmt: skip
    pipe = Pipeline(
        [("prep", ColumnTransformer([p for p in parts if p[2]])),
         ("lr", LogisticRegression(max_iter=2000))]
    )  # fmt: skip
    return pipe.fit(_logistic_input(X), y)


# ------------------------------------------------------------------------------ training
def _need_both_classes(y: np.ndarray, what: str) -> None:
    if len(np.unique(y)) < 2:
        raise DataContractError(
            f"the {what} ({len(y)} rows) has one label class only; "
            "a temporal split needs both classes in train, valid and test"
        )


def _temporal(
    X: pd.DataFrame, y: np.ndarray, keys: np.ndarray, spec: TableSpec, kind: str, seed: int
):
    ts = np.sort(keys)
    n = len(ts)
    t_valid = ts[int((1 - TEST_SHARE - VALID_SHARE) * n)]
    t_test = ts[int((1 - TEST_SHARE) * n)]
    distinct = np.unique(keys)
    n_test = int((distinct >= t_test).sum())
    n_valid = int(((distinct >= t_valid) & (distinct < t_test)).sum())
    # the split rule of training.splits, with no gap (a table row has no label window)
    parts = split_in_time(distinct.tolist(), test_n=n_test, valid_n=n_valid) if n_valid else None
    if parts is None or not all(parts):
        raise DataContractError(
            f"--time column '{spec.time}' has too few distinct values "
            f"({len(distinct)}) for a train / valid / test split"
        )
    train, valid, test = (np.isin(keys, part) for part in parts)
    for name, m in (("train part", train), ("valid part", valid), ("test part", test)):
        _need_both_classes(y[m], name)
    model = fit_table_lightgbm(X[train], y[train], X[valid], y[valid], {"seed": seed})
    logistic = fit_logistic(X[train], y[train])
    scores = {
        "model": model.predict_proba(X[test]),
        "logistic": logistic.predict_proba(_logistic_input(X[test]))[:, 1],
    }
    split = {
        "method": "temporal",
        "time_column": spec.time,
        "valid_from": show_time(t_valid, kind),
        "test_from": show_time(t_test, kind),
        "rows": {"train": int(train.sum()), "valid": int(valid.sum()), "test": int(test.sum())},
        "positives": {k: int(y[m].sum()) for k, m in
                      (("train", train), ("valid", valid), ("test", test))},
        "best_iteration": [model.best_iteration],
        "min_data_in_leaf": [model.params["min_data_in_leaf"]],
        "params": model.params,
        "evaluated_on": "test part",
    }  # fmt: skip
    return test, scores, split


def _cross_validated(X: pd.DataFrame, y: np.ndarray, seed: int):
    rare = int(min(y.sum(), len(y) - y.sum()))
    if rare < MIN_CLASS_ROWS:
        raise DataContractError(
            f"the rarer label class has {rare} rows; {FOLDS}-fold cross-validation needs at "
            f"least {MIN_CLASS_ROWS} (or give --time)"
        )
    p_model, p_logistic = np.full(len(y), np.nan), np.full(len(y), np.nan)
    best, leaves = [], []
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=seed)
    for train_idx, test_idx in folds.split(np.zeros(len(y)), y):
        fit_idx, cal_idx = train_test_split(
            train_idx, test_size=CALIBRATION_SHARE, stratify=y[train_idx], random_state=seed
        )
        model = fit_table_lightgbm(
            X.iloc[fit_idx], y[fit_idx], X.iloc[cal_idx], y[cal_idx], {"seed": seed}
        )
        best.append(model.best_iteration)
        leaves.append(model.params["min_data_in_leaf"])
        p_model[test_idx] = model.predict_proba(X.iloc[test_idx])
        logistic = fit_logistic(X.iloc[train_idx], y[train_idx])
        p_logistic[test_idx] = logistic.predict_proba(_logistic_input(X.iloc[test_idx]))[:, 1]
    split = {
        "method": f"{FOLDS}-fold stratified cross-validation",
        "calibration": f"Platt on a stratified {CALIBRATION_SHARE:.0%} of each training fold "
        "(also used for early stopping)",
        "rows": int(len(y)),
        "positives": int(y.sum()),
        "best_iteration": best,
        "min_data_in_leaf": leaves,
        "params": model.params,
        "evaluated_on": "out-of-fold predictions of every row",
    }
    return np.ones(len(y), bool), {"model": p_model, "logistic": p_logistic}, split


def _check_columns(frame: pd.DataFrame, spec: TableSpec) -> None:
    roles = [("--label", spec.label), ("--id", spec.id_col)]
    roles += [("--time", spec.time)] if spec.time else []
    roles += [("--group", g) for g in spec.groups]
    columns = [str(c) for c in frame.columns]
    seen: dict[str, str] = {}
    for flag, name in roles:
        if name not in frame.columns:
            raise ConfigError(f"{flag} '{name}' is not a column (columns: {show_classes(columns)})")
        if name in seen:
            raise ConfigError(f"column '{name}' is given to both {seen[name]} and {flag}")
        seen[name] = flag


def _check_ids(frame: pd.DataFrame, id_col: str) -> None:
    ids = as_text(frame[id_col])
    if ids.isna().any():
        raise DataContractError(
            f"id column '{id_col}' is empty in {int(ids.isna().sum())} rows "
            f"(first in data row {first_row(frame, ids.isna().to_numpy())})"
        )
    dup = ids.duplicated(keep="first").to_numpy()
    if dup.any():
        raise DataContractError(
            f"id column '{id_col}' has {int(dup.sum())} duplicate value(s) (first in data row "
            f"{first_row(frame, dup)}); ids must be unique"
        )


def train_table(
    frame: pd.DataFrame,
    spec: TableSpec,
    capacities: Sequence[float] = CAPACITIES,
    seed: int = DEFAULT_PARAMS["seed"],
) -> dict:
    """Train and evaluate on ``frame`` (see the module docstring); the JSON-ready report.

    Args:
        capacities: the list sizes (shares of rows) at which metrics are reported.
        seed: the seed of LightGBM, the folds and the calibration draws.

    Raises:
        ConfigError, DataContractError: one line naming the column and the problem.
    """
    _check_columns(frame, spec)
    _check_ids(frame, spec.id_col)
    label, classes = binary_label(frame, spec)
    keep = label.notna().to_numpy()
    rows = frame.loc[keep]
    y = label[keep].to_numpy(dtype=float)
    if len(rows) == 0:
        raise DataContractError(f"label '{spec.label}' is empty in every row")
    if len(np.unique(y)) < 2:
        which = "hardship" if y[0] == 1 else "not hardship"
        raise DataContractError(
            f"label '{spec.label}' has one class only (all {len(y)} labelled rows are {which}); "
            "nothing to learn"
        )
    exclude = [spec.id_col, spec.label, *([spec.time] if spec.time else []), *spec.groups]
    X, columns = feature_matrix(rows, exclude)
    if spec.time:
        keys, kind = time_keys(rows, spec.time)
        mask, scores, split = _temporal(X, y, keys, spec, kind, seed)
    else:
        mask, scores, split = _cross_validated(X, y, seed)
    judged = pd.DataFrame(
        {"household_id": as_text(rows[spec.id_col]).to_numpy()[mask], "label": y[mask]}
    )
    for g in spec.groups:
        judged[g] = rows[g].to_numpy()[mask]
    metrics = evaluate_scores(judged, scores, "label", group_col=None, capacities=capacities)
    for g in spec.groups:
        per = evaluate_scores(judged, scores, "label", group_col=g, capacities=capacities)
        for name, m in per["scores"].items():
            lists = {c: {k: v for k, v in cap.items() if k != "county"}
                     for c, cap in m["capacity"].items()}  # fmt: skip
            metrics["scores"][name].setdefault("capacity_lists_per_group", {})[g] = lists
    judged["score"] = scores["model"]
    fairness = (
        capacity_by_group(judged, "score", "label", groups=list(spec.groups),
                          capacities=capacities, list_group_col=None)
        if spec.groups else None
    )  # fmt: skip
    notes = [f"dropped column '{d['column']}': {d['reason']}" for d in columns["dropped"]]
    if not keep.all():
        notes.append(f"dropped {int((~keep).sum())} rows without a label")
    return {
        "spec": asdict(spec),
        "rows": {
            "read": len(frame),
            "dropped_missing_label": int((~keep).sum()),
            "used": len(rows),
            "positive": int(y.sum()),
            "prevalence": float(y.mean()),
        },
        "label_classes": classes,
        "positive_classes": list(spec.positive) if spec.positive else ["1 / true"],
        "features": columns,
        "validation": split,
        "params": split.pop("params"),
        "metrics": metrics,
        "fairness": fairness,
        "notes": notes,
    }


def log_run(store, report: dict, table_name: str) -> str:
    """Log params, flattened metrics and the report to MLflow (experiment :data:`EXPERIMENT`);
    no model is registered. Returns the run id."""
    import mlflow

    from training.model_registry import flat_metrics

    client = store.client()
    exp = client.get_experiment_by_name(EXPERIMENT)
    exp_id = exp.experiment_id if exp else client.create_experiment(
        EXPERIMENT, artifact_location=store.artifact_root
    )  # fmt: skip
    spec = report["spec"]
    params = {
        "table": table_name,
        **{k: json.dumps(v) if not isinstance(v, str) else v for k, v in spec.items()},
        "validation": report["validation"]["method"],
        "config_hash": report.get("config_hash", ""),
        "n_rows": report["rows"]["used"],
        "n_features": len(report["features"]["numeric"]) + len(report["features"]["categorical"]),
        **{f"lgb.{k}": json.dumps(v) for k, v in report["params"].items()},
    }
    with warnings.catch_warnings(), mlflow.start_run(experiment_id=exp_id) as run:
        warnings.simplefilter("ignore")
        mlflow.log_params(params)
        if report.get("config_hash"):
            mlflow.set_tag("config_hash", report["config_hash"])
        mlflow.log_metrics(flat_metrics(report["metrics"]))
        mlflow.log_dict(report, "report.json")
        return run.info.run_id
