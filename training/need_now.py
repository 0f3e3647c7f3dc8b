"""The need-now model: P(in need now and not assisted | month-end vector), learned from visits.

**Rows.** The label population at each month-end t (:func:`training.labels.label_population`:
the discovery population, nobody enrolled or with a case pending, so "not assisted" holds by
construction) joined to the visit-outcome labels of the month after t
(:mod:`training.visit_labels`): the world's triggered and routine visits and our ranked and
exploration entries, each with its observed outcome.

**Selection.** Each labelled row is weighted by its inverse inclusion probability
(:mod:`training.visit_weights`: the logged list probability, the modelled world propensity,
stabilised and clipped), so the visit sample stands for the population the lists draw from.
``weighted=False`` fits the same model on the same rows unweighted: the naive model, kept for
the comparison (it learns who *the visits that happened* found in need).

**Noise.** The label is the visit's observed outcome, and visits are imperfect: a household in
need is reported in need with probability ``visit_sensitivity`` (0.85 in the county) and one
not in need with ``visit_false_need`` (4 %). The booster is trained and calibrated on the
noisy label, so its calibrated output ``q(x)`` is **P(a visit would report need | x)**, the
quantity exploration outcomes can check. Since ``q = fp + (sens - fp) * P(need | x)``, the model
also reports the corrected ``P(need | x) = clip((q - fp) / (sens - fp), 0, 1)``
(:func:`need_from_report`); the correction is monotone, so both give the same ranking, and it is
only as right as the two rates (a county measures them by re-visits).

**Calibration** (Platt) on half of the exploration outcomes of the validation dates (by
household), the unbiased sample, each weighted by its inverse logged probability, when that
half holds at least ``min_exploration`` of them with both findings; otherwise on every weighted
validation visit. Early stopping uses the other validation visits, weighted like training.

Example:
    >>> result = train_need_now(settings)  # doctest: +SKIP
    >>> result.model.predict_need(snapshot)  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.settings import NeedNowConfig
from training.estimators import FEATURES_FOR_MODEL, OutreachModel, fit_lightgbm
from training.evaluation import calibration_slope, ece, roc_auc
from training.pipeline import split_validation
from training.visit_weights import (
    WorldPropensity,
    inclusion_probability,
    ipw_weights,
    weight_summary,
)

WEIGHT = "ipw_weight"
MODEL_VERSION = "need-now-1"
NEED_NOW_PARAMS: dict[str, Any] = {"min_data_in_leaf": 20, "min_sum_hessian_in_leaf": 40.0}
"""Over :data:`training.estimators.DEFAULT_PARAMS`: a leaf must hold the *weight* of about 200
households (the hessian of the log-loss is ``w p (1 - p)``, about 0.2 a row of weight 1), not
200 visited rows. A group only exploration reaches has few rows of large weight; counted in
rows it could never have a leaf of its own, and the weights could not change its ranking."""


def need_from_report(q: np.ndarray, sensitivity: float, false_need: float) -> np.ndarray:
    """P(need) from P(a visit reports need), given the visit's sensitivity and false-need rate.

    Example:
        >>> need_from_report(np.array([0.04, 0.445, 0.85, 0.9]), 0.85, 0.04).round(3).tolist()
        [0.0, 0.5, 1.0, 1.0]
    """
    return np.clip((np.asarray(q, float) - false_need) / (sensitivity - false_need), 0.0, 1.0)


class NeedNowModel:
    """A booster calibrated to P(a visit reports need | x), with the noise correction.

    Attributes:
        model: the :class:`~training.estimators.OutreachModel` (booster and calibrator).
        sensitivity, false_need: the visit protocol's rates used by :meth:`predict_need`.
        info: what it was trained on (rows, weights, calibration source).
    """

    META_FILE = "need_now.json"

    def __init__(
        self,
        model: OutreachModel,
        sensitivity: float,
        false_need: float,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.sensitivity = sensitivity
        self.false_need = false_need
        self.info = dict(info or {})

    def predict_report(self, frame: pd.DataFrame) -> np.ndarray:
        """P(a visit would report need | vector): calibrated on observed outcomes."""
        return self.model.predict_proba(frame)

    def predict_need(self, frame: pd.DataFrame) -> np.ndarray:
        """P(in need now and not assisted | vector): the report probability, noise-corrected."""
        return need_from_report(self.predict_report(frame), self.sensitivity, self.false_need)

    def save(self, directory: Path) -> Path:
        """The booster and calibrator (``booster.txt``, ``model.json``) and ``need_now.json``."""
        directory = self.model.save(directory)
        meta = {"version": MODEL_VERSION, "sensitivity": self.sensitivity,
                "false_need": self.false_need, "info": self.info}  # fmt: skip
        text = json.dumps(meta, indent=2, sort_keys=True, default=str)
        (directory / self.META_FILE).write_text(text, encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: Path) -> NeedNowModel:
        meta = json.loads((Path(directory) / cls.META_FILE).read_text(encoding="utf-8"))
        return cls(OutreachModel.load(directory), meta["sensitivity"], meta["false_need"],
                   meta.get("info", {}))  # fmt: skip


@dataclass
class NeedNowFit:
    """A fitted need-now model and how the fit went (JSON-ready ``report``)."""

    model: NeedNowModel
    world: WorldPropensity
    report: dict[str, Any] = field(default_factory=dict)


def add_weights(
    rows: pd.DataFrame, world: WorldPropensity, config: NeedNowConfig, weighted: bool = True
) -> pd.DataFrame:
    """``rows`` with ``p_world``, ``pi`` and the weight column (all ones when not weighted)."""
    out = rows.copy()
    out["p_world"] = world.predict(out) if len(out) else np.zeros(0)
    out["pi"] = inclusion_probability(out, out["p_world"].to_numpy())
    out[WEIGHT] = (
        ipw_weights(out["pi"].to_numpy(), config.propensity_floor, config.weight_cap)
        if weighted
        else np.ones(len(out))
    )
    return out


def _exploration_weights(rows: pd.DataFrame, config: NeedNowConfig) -> np.ndarray:
    p = rows["list_probability"].to_numpy(dtype=float)
    return ipw_weights(np.nan_to_num(p, nan=1.0), config.propensity_floor, config.weight_cap)


def _calibration_rows(valid: pd.DataFrame, config: NeedNowConfig):
    """(early-stopping rows, calibration rows, source).

    The exploration outcomes of ``valid`` are halved by household (a stable hash,
    :func:`training.pipeline.split_validation`): one half calibrates, when it holds at least
    ``min_exploration`` rows with both findings; the other stays with the rest of ``valid`` for
    early stopping (weighted, so a group only exploration reaches counts there too).
    """
    explore = (valid["channel"] == "exploration").to_numpy()
    keep, calib = split_validation(valid.loc[explore])
    if len(calib) >= config.min_exploration and calib["label"].nunique() == 2:
        calib = calib.assign(**{WEIGHT: _exploration_weights(calib, config)})
        stop = pd.concat([valid.loc[~explore], keep])
        return stop, calib, "exploration outcomes (weighted 1 / logged probability)"
    return valid, valid, "weighted validation visits (too few exploration outcomes)"


def fit_need_now(
    population: pd.DataFrame,
    train: pd.DataFrame,
    valid: pd.DataFrame,
    config: NeedNowConfig,
    *,
    weighted: bool = True,
    features: Sequence[str] = FEATURES_FOR_MODEL,
    params: Mapping[str, Any] | None = None,
    world: WorldPropensity | None = None,
) -> NeedNowFit:
    """Fit the world propensity on ``population`` and the need-now booster on the visits.

    Args:
        population: every label-population row of the training dates, with ``world_visit``.
        train, valid: labelled visit rows (vector columns, ``label``, ``channel``,
            ``list_probability``, ``exploration_rate``) of the training and validation dates.
        weighted: inverse-propensity weighting of training and early stopping (False: the
            naive model; it is calibrated the same way, so only the weighting differs).
        params: LightGBM overrides (over :data:`NEED_NOW_PARAMS`).
        world: a propensity already fitted on ``population`` (default: fit it here).
    """
    world = world or WorldPropensity(features, config.propensity_floor).fit(population)
    train = add_weights(train, world, config, weighted)
    valid = add_weights(valid, world, config, weighted)
    stop, calib, source = _calibration_rows(valid, config)
    booster = fit_lightgbm(train, stop, {**NEED_NOW_PARAMS, **(params or {})},
                           features=features, calibrate_on=calib, weight_col=WEIGHT)  # fmt: skip
    report = {
        "weighted": weighted,
        "calibrated_on": source,
        "rows": {"train": len(train), "early_stopping": len(stop), "calibration": len(calib)},
        "weights": weight_summary(train[WEIGHT].to_numpy(), train["channel"]),
        "world_propensity": _propensity_summary(world, population, train),
        "best_iteration": booster.best_iteration,
    }
    model = NeedNowModel(booster, config.visit_sensitivity, config.visit_false_need, report)
    return NeedNowFit(model, world, report)


def _propensity_summary(
    world: WorldPropensity, population: pd.DataFrame, train: pd.DataFrame
) -> dict[str, Any]:
    """How well the world's propensity separates visited from not (AUC on the rows it was
    fitted on) and the median modelled world-visit probability of the training visits by
    channel (a triggered visit the model thought unlikely weighs like an exploration one)."""
    y = population["world_visit"].to_numpy(dtype=float)
    auc = roc_auc(y, world.predict(population)) if 0 < y.sum() < len(y) else None
    median = train.groupby("channel")["p_world"].median()
    return {"visit_rate": world.rate_, "auc_fitted_rows": None if auc is None else float(auc),
            "median_p_world_by_channel": {str(k): float(v) for k, v in median.items()},
            "rows": int(len(population))}  # fmt: skip


def exploration_check(model: NeedNowModel, rows: pd.DataFrame) -> dict[str, Any]:
    """The report probability against the observed outcomes of exploration visits: rows,
    positives, AUC, ECE and calibration slope (None where undefined)."""
    ex = rows.loc[rows["channel"] == "exploration"]
    y = ex["label"].to_numpy(dtype=float)
    out: dict[str, Any] = {"rows": int(len(ex)), "positives": int(y.sum())}
    if len(ex) == 0 or len(np.unique(y)) < 2:
        return out | {"roc_auc": None, "ece": None, "calibration_slope": None}
    q = model.predict_report(ex)
    slope, _ = calibration_slope(y, q)
    return out | {"roc_auc": float(roc_auc(y, q)), "ece": float(ece(y, q)),
                  "calibration_slope": None if slope != slope else float(slope)}  # fmt: skip
