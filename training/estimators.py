"""The risk model (LightGBM + calibration) and the two baselines it must beat.

- :class:`OutreachModel`: a LightGBM booster (log-odds raw score, exact TreeSHAP available) and a
  monotone calibrator fitted on the validation split, saved as ``booster.txt`` + ``model.json``.
- :func:`fit_lightgbm`: early stopping on the validation split, shallow trees (explanations cost
  grows with depth, see FIELD-NOTES), deterministic on any machine with the same data.
- :func:`policies.early_warning.rules_baseline`: today's early-warning rules alone, ranked by
  how many fire (in policies, with their dated thresholds).
- :class:`LogisticBaseline`: a standardized logistic regression on the same features.

Example:
    >>> model = fit_lightgbm(train_rows, valid_rows)  # doctest: +SKIP
    >>> model.predict_proba(model_matrix(test_rows))  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from core.settings import ModelConfig
from features.vectors.catalogue import FEATURE_SET_VERSION, FEATURES, KEYS
from training.labels import EXCLUDE_FLAGS

_DTYPES = {f.name: f.dtype for f in FEATURES}
_KEY_NAMES = {k for k, _, _ in KEYS}

FEATURES_FOR_MODEL: tuple[str, ...] = tuple(
    f.name for f in FEATURES if f.name not in _KEY_NAMES and f.name not in EXCLUDE_FLAGS
)
"""Registry features in registry order, without the key columns and without the flags that
define the population (:data:`training.labels.EXCLUDE_FLAGS`: constant there)."""

DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "metric": ["binary_logloss", "auc"],
    "learning_rate": 0.05,
    "num_leaves": 15,
    "max_depth": 4,
    "min_data_in_leaf": 200,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "cat_smooth": 10.0,
    "num_threads": 2,
    "deterministic": True,
    "force_row_wise": True,
    "seed": ModelConfig.model_fields["seed"].default,  # a run passes settings.model.seed
    "verbosity": -1,
}
"""Shallow trees (15 leaves, depth 4): TreeSHAP costs ~0.3 ms/row instead of ~2.6 ms for deep
63-leaf trees, at the same AUC (measured: see the training report)."""
NUM_BOOST_ROUND = 2000
EARLY_STOPPING_ROUNDS = 100
CALIBRATION_METHODS = ("platt", "isotonic")


def model_matrix(
    frame: pd.DataFrame,
    features: Sequence[str] = FEATURES_FOR_MODEL,
    categories: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """The model's input: ``features`` in order, typed by the registry.

    Bools and numbers become float64 (a missing value is NaN); category features become a pandas
    ``category`` with the levels in ``categories`` (else the sorted observed levels), so the same
    dtype reaches the booster at training and at prediction time.
    """
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks model features: {', '.join(missing)}")
    out = {}
    for name in features:
        col = frame[name]
        if _DTYPES.get(name) == "category":
            levels = (categories or {}).get(name)
            if levels is None:
                levels = sorted(col.dropna().astype(str).unique())
            known = set(levels)
            values = [
                str(v) if v is not None and v == v and str(v) in known else None
                for v in col.astype("object")
            ]
            out[name] = pd.Categorical(values, categories=list(levels))
        else:
            out[name] = _as_float(col)
    return pd.DataFrame(out, index=frame.index)


def _as_float(col: pd.Series) -> pd.Series:
    """A column as float64, missing values (None, pd.NA) as NaN."""
    try:
        return col.astype("float64")
    except (TypeError, ValueError):
        values = col.astype("object").where(col.notna(), np.nan)
        return pd.to_numeric(values, errors="coerce").astype("float64")


def _category_levels(X: pd.DataFrame) -> dict[str, list[str]]:
    return {c: [str(v) for v in X[c].cat.categories] for c in X.columns if X[c].dtype == "category"}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))


MIN_PLATT_SLOPE = 1e-3
"""Platt's slope never falls below this: calibration keeps every ranking."""


class Calibrator:
    """A monotone map from the raw score (log-odds) to a probability, kept as plain numbers.

    ``platt``: ``p = sigmoid(a * raw + b)`` (keeps every ranking); ``isotonic``: piecewise-linear
    interpolation through the fitted thresholds, clipped at both ends.
    """

    def __init__(self, method: str = "platt") -> None:
        if method not in CALIBRATION_METHODS:
            raise ValueError(f"unknown calibration {method!r} ({', '.join(CALIBRATION_METHODS)})")
        self.method = method

    def fit(
        self, raw: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> Calibrator:
        """Fit on raw scores and 0/1 labels, each row weighted by ``sample_weight`` if given."""
        raw, y = np.asarray(raw, float), np.asarray(y, float)
        if self.method == "platt":
            lr = LogisticRegression(C=1e6, max_iter=1000).fit(raw[:, None], y, sample_weight)
            self.a_, self.b_ = float(lr.coef_[0, 0]), float(lr.intercept_[0])
            if self.a_ < MIN_PLATT_SLOPE:
                # a held-out set too small to show the signal must not reverse the ranking:
                # keep it (a tiny positive slope) around the observed rate
                rate = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
                self.a_ = MIN_PLATT_SLOPE
                self.b_ = float(np.log(rate / (1 - rate)) - MIN_PLATT_SLOPE * np.median(raw))
        else:
            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
            iso.fit(raw, y, sample_weight=sample_weight)
            self.x_ = [float(v) for v in iso.X_thresholds_]
            self.y_ = [float(v) for v in iso.y_thresholds_]
        return self

    def predict(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw, float)
        if self.method == "platt":
            return _sigmoid(self.a_ * raw + self.b_)
        return np.interp(raw, self.x_, self.y_)

    def to_dict(self) -> dict:
        if self.method == "platt":
            return {"method": "platt", "a": self.a_, "b": self.b_}
        return {"method": "isotonic", "x": self.x_, "y": self.y_}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibrator:
        cal = cls(data["method"])
        if cal.method == "platt":
            cal.a_, cal.b_ = float(data["a"]), float(data["b"])
        else:
            cal.x_, cal.y_ = list(map(float, data["x"])), list(map(float, data["y"]))
        return cal


class OutreachModel:
    """A trained booster with its calibrator and what is needed to use it again.

    Attributes:
        booster: ``lightgbm.Booster`` holding exactly ``best_iteration`` trees.
        calibrator: :class:`Calibrator` fitted on the validation split.
        feature_names, feature_set_version, params, best_iteration, categories.
    """

    BOOSTER_FILE = "booster.txt"
    META_FILE = "model.json"

    def __init__(
        self,
        booster: lgb.Booster,
        calibrator: Calibrator,
        feature_names: Sequence[str],
        params: Mapping[str, Any],
        best_iteration: int,
        feature_set_version: str = FEATURE_SET_VERSION,
        categories: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.booster = booster
        self.calibrator = calibrator
        self.feature_names = list(feature_names)
        self.params = dict(params)
        self.best_iteration = int(best_iteration)
        self.feature_set_version = feature_set_version
        self.categories = {k: list(v) for k, v in (categories or {}).items()}

    def matrix(self, X: pd.DataFrame) -> pd.DataFrame:
        """``X`` (a snapshot frame or a model matrix) as this model's input."""
        return model_matrix(X, self.feature_names, self.categories)

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        """The raw score (log-odds; SHAP values sum to it)."""
        return np.asarray(self.booster.predict(self.matrix(X), raw_score=True), dtype=float)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """The calibrated probability of the observable label."""
        return self.calibrator.predict(self.predict_raw(X))

    def to_dict(self) -> dict:
        return {
            "feature_names": self.feature_names,
            "feature_set_version": self.feature_set_version,
            "params": self.params,
            "best_iteration": self.best_iteration,
            "categories": self.categories,
            "calibrator": self.calibrator.to_dict(),
            "lightgbm_version": lgb.__version__,
        }

    def save(self, directory: Path) -> Path:
        """Write ``booster.txt`` (LightGBM model text) and ``model.json``; return the folder."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / self.BOOSTER_FILE).write_text(self.booster.model_to_string(), encoding="utf-8")
        (directory / self.META_FILE).write_text(
            json.dumps(self.to_dict(), indent=2, sort_keys=True), encoding="utf-8"
        )
        return directory

    @classmethod
    def load(cls, directory: Path) -> OutreachModel:
        directory = Path(directory)
        meta = json.loads((directory / cls.META_FILE).read_text(encoding="utf-8"))
        text = (directory / cls.BOOSTER_FILE).read_text(encoding="utf-8")
        return cls(
            booster=lgb.Booster(model_str=text),
            calibrator=Calibrator.from_dict(meta["calibrator"]),
            feature_names=meta["feature_names"],
            params=meta["params"],
            best_iteration=meta["best_iteration"],
            feature_set_version=meta["feature_set_version"],
            categories=meta.get("categories"),
        )


def train_booster(
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    X_valid: pd.DataFrame,
    y_valid: np.ndarray,
    params: Mapping[str, Any],
    categorical: Sequence[str] = (),
    num_boost_round: int = NUM_BOOST_ROUND,
    early_stopping_rounds: int = EARLY_STOPPING_ROUNDS,
    weights: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[lgb.Booster, int]:
    """LightGBM with early stopping on the validation set; returns the booster cut to exactly
    its best trees (so predictions and SHAP need no ``num_iteration``) and that tree count.
    ``weights``: (train, valid) row weights (the loss and the early-stopping metric use them)."""
    cat_cols = list(categorical) or "auto"
    w_train, w_valid = weights if weights is not None else (None, None)
    dtrain = lgb.Dataset(
        X_train, y_train, weight=w_train, categorical_feature=cat_cols, free_raw_data=False
    )
    dvalid = lgb.Dataset(
        X_valid, y_valid, weight=w_valid, reference=dtrain, categorical_feature=cat_cols
    )
    booster = lgb.train(
        dict(params),
        dtrain,
        num_boost_round=num_boost_round,
        valid_sets=[dvalid],
        valid_names=["valid"],
        callbacks=[
            lgb.early_stopping(early_stopping_rounds, first_metric_only=True, verbose=False)
        ],
    )
    best = booster.best_iteration or booster.current_iteration()
    return lgb.Booster(model_str=booster.model_to_string(num_iteration=best)), best


def fit_lightgbm(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    params: Mapping[str, Any] | None = None,
    *,
    label_col: str = "label",
    features: Sequence[str] = FEATURES_FOR_MODEL,
    calibration: str = "platt",
    num_boost_round: int = NUM_BOOST_ROUND,
    early_stopping_rounds: int = EARLY_STOPPING_ROUNDS,
    calibrate_on: pd.DataFrame | None = None,
    weight_col: str | None = None,
) -> OutreachModel:
    """Train on ``train``, stop early on ``valid`` (log-loss), calibrate on ``calibrate_on``
    (default ``valid``; the pipeline passes rows early stopping did not see).
    With ``weight_col``, that column of each frame weights its rows in the loss, the
    early-stopping metric and the calibration (the need-now model's inverse-propensity weights).

    Args:
        train, valid: rows with the feature columns and a 0/1 ``label_col``.
        params: overrides of :data:`DEFAULT_PARAMS` (threads, determinism and seed stay
            unless overridden explicitly).
        calibration: ``platt`` (default: it met ECE <= 0.01 and slope 0.9-1.1 on the default
            world and keeps the ranking of the raw score) or ``isotonic``.
    """
    p = {**DEFAULT_PARAMS, **(params or {})}
    X_train = model_matrix(train, features)
    cats = _category_levels(X_train)
    X_valid = model_matrix(valid, features, cats)
    y_train = train[label_col].to_numpy(dtype=float)
    y_valid = valid[label_col].to_numpy(dtype=float)

    def w(frame: pd.DataFrame) -> np.ndarray | None:
        return None if weight_col is None else frame[weight_col].to_numpy(dtype=float)

    weights = None if weight_col is None else (w(train), w(valid))
    booster, best = train_booster(
        X_train, y_train, X_valid, y_valid, p, list(cats), num_boost_round,
        early_stopping_rounds, weights,
    )  # fmt: skip
    w_cal = w(valid)
    if calibrate_on is not None:
        X_valid = model_matrix(calibrate_on, features, cats)
        y_valid = calibrate_on[label_col].to_numpy(dtype=float)
        w_cal = w(calibrate_on)
    raw_valid = booster.predict(X_valid, raw_score=True)
    calibrator = Calibrator(calibration).fit(raw_valid, y_valid, w_cal)
    return OutreachModel(booster, calibrator, features, p, best, FEATURE_SET_VERSION, cats)


def refit_lightgbm(
    train: pd.DataFrame,
    calibrate_on: pd.DataFrame,
    params: Mapping[str, Any],
    trees: int,
    *,
    label_col: str = "label",
    features: Sequence[str] = FEATURES_FOR_MODEL,
    calibration: str = "platt",
) -> OutreachModel:
    """Refit with chosen settings: exactly ``trees`` trees on ``train`` (no early stopping),
    calibrated on ``calibrate_on``."""
    p = {**DEFAULT_PARAMS, **params}
    X_train = model_matrix(train, features)
    cats = _category_levels(X_train)
    y_train = train[label_col].to_numpy(dtype=float)
    dtrain = lgb.Dataset(X_train, y_train, categorical_feature=list(cats) or "auto")
    booster = lgb.train(dict(p), dtrain, num_boost_round=max(1, int(trees)))
    X_cal = model_matrix(calibrate_on, features, cats)
    raw = booster.predict(X_cal, raw_score=True)
    calibrator = Calibrator(calibration).fit(raw, calibrate_on[label_col].to_numpy(dtype=float))
    return OutreachModel(booster, calibrator, features, p, int(trees), FEATURE_SET_VERSION, cats)


# ---- baselines (the early-warning rules live in policies.early_warning)


LOGISTIC_C_GRID = (0.003, 0.03, 0.3, 3.0)
"""L2 strengths tried by :meth:`LogisticBaseline.fit` when validation rows are given."""


class LogisticBaseline:
    """Logistic regression on the model's features: median imputation with missing indicators,
    standardization, one-hot categories; L2 (``C``), lbfgs — deterministic.

    Given validation rows, ``fit`` picks ``C`` from :data:`LOGISTIC_C_GRID` by validation
    log-loss (the baseline gets the same tuning chance as the booster's early stopping); the
    chosen value is ``C_``.
    """

    def __init__(self, features: Sequence[str] = FEATURES_FOR_MODEL, C: float = 1.0) -> None:
        self.features = features
        self.C = C

    def _pipeline(self, X: pd.DataFrame, C: float) -> Pipeline:
        cats = [c for c in X.columns if X[c].dtype == "category"]
        nums = [c for c in X.columns if c not in cats]
        numeric = Pipeline(
            [("impute", SimpleImputer(strategy="median", add_indicator=True)),
             ("scale", StandardScaler())]
        )  # fmt: skip
        parts = [("num", numeric, nums)]
        if cats:
            parts.append(("cat", OneHotEncoder(handle_unknown="ignore"), cats))
        return Pipeline(
            [
                ("prep", ColumnTransformer(parts)),
                ("lr", LogisticRegression(C=C, max_iter=2000)),
            ]
        )

    def fit(
        self,
        frame: pd.DataFrame,
        y: np.ndarray,
        valid: pd.DataFrame | None = None,
        y_valid: np.ndarray | None = None,
    ) -> LogisticBaseline:
        X = model_matrix(frame, self.features)
        self.categories_ = _category_levels(X)
        y = np.asarray(y, dtype=float)
        grid = (self.C,)
        if valid is not None and y_valid is not None and len(np.unique(y_valid)) == 2:
            grid = LOGISTIC_C_GRID
        best: tuple[float, float, Pipeline] | None = None
        for C in grid:
            pipe = self._pipeline(X, C).fit(X, y)
            loss = 0.0
            if len(grid) > 1:
                Xv = model_matrix(valid, self.features, self.categories_)
                loss = log_loss(np.asarray(y_valid, float), pipe.predict_proba(Xv)[:, 1])
            if best is None or loss < best[0]:
                best = (loss, C, pipe)
        _, self.C_, self.pipeline_ = best
        return self

    def calibrate(self, frame: pd.DataFrame, y: np.ndarray, method: str = "platt"):
        """Recalibrate on held-out rows the way the model is (a :class:`Calibrator` on the
        logit of the fitted probability); ``predict_proba`` applies it from then on."""
        self.calibrator_ = None
        raw = _logit(self.predict_proba(frame))
        self.calibrator_ = Calibrator(method).fit(raw, np.asarray(y, dtype=float))
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Probability of the label (one value per row), recalibrated when
        :meth:`calibrate` was called."""
        X = model_matrix(frame, self.features, self.categories_)
        p = self.pipeline_.predict_proba(X)[:, 1]
        calibrator = getattr(self, "calibrator_", None)
        return p if calibrator is None else calibrator.predict(_logit(p))


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=float), 1e-9, 1 - 1e-9)
    return np.log(q / (1 - q))
