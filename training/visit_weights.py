"""Selection correction of visit-outcome labels: who gets visited, with what probability.

A household's month is labelled only if someone visited it, and who is visited is chosen: the
world visits after recorded triggers and routinely (the elderly alone, monitored households),
and our lists visit the top of the ranking and a random exploration draw. Each labelled row
(:mod:`training.visit_labels`) gets its **inclusion probability** ``pi``, the chance that the
month's designs together put the household in front of a visitor:

- a **ranked** list entry: ``pi = 1`` (deterministic given the scores that month);
- otherwise ``pi = 1 - (1 - p_world) (1 - p_explore)``: the world's visit and the exploration
  draw are independent (common random numbers keep them apart in the twin), where
  ``p_explore`` is the exploration entry's logged probability (an exploration row) or the
  township's exploration rate that month (a row the world visited: it was in the pool too);
- ``p_world`` is **modelled** (:class:`WorldPropensity`): a logistic regression of "the world
  visited the household in the month after t" on the month-end vector at t, over the label
  population of the training dates (visited or not, a not-found visit counts as visited). The
  world's rule (triggers recorded the month before, elderly alone, monitoring) is a function of
  what the vector holds, so a simple additive model of it suffices; its output is clipped to
  ``[propensity_floor, 1]`` so that a group the world never visits keeps a finite weight.

Weights (:func:`ipw_weights`): ``1 / max(pi, floor)``, **clipped** so that no row weighs more
than ``weight_cap`` times the mean row, and **stabilised** (divided by their mean, so they
average 1 and the loss keeps its scale: the marginal labelling rate is the numerator). A row
weighted so stands for the households like it that nobody visited; the weighted visit sample
then resembles the label population, and a model fitted on it spends its capacity where the
lists will use it, not where the world happens to look.

Example:
    >>> world = WorldPropensity(features).fit(population)  # doctest: +SKIP
    >>> pi = inclusion_probability(rows, world.predict(rows))  # doctest: +SKIP
    >>> w = ipw_weights(pi, 0.001, 100.0)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from training.estimators import FEATURES_FOR_MODEL, LogisticBaseline

WORLD_TARGET = "world_visit"


class WorldPropensity:
    """P(the world visits the household next month | month-end vector), a logistic regression.

    Follows the scikit-learn conventions: ``__init__`` stores, ``fit`` returns ``self``, learned
    attributes end in ``_``.

    Args:
        features: the vector's columns used (default: the model's features).
        floor: predictions below it are raised to it.
    """

    def __init__(self, features: Sequence[str] = FEATURES_FOR_MODEL, floor: float = 0.001) -> None:
        self.features = tuple(features)
        self.floor = floor

    def fit(self, population: pd.DataFrame) -> WorldPropensity:
        """Fit on every population row (``world_visit`` bool: visited in the month after t)."""
        y = population[WORLD_TARGET].fillna(False).astype(bool).to_numpy(dtype=float)
        self.rate_ = float(y.mean()) if len(y) else 0.0
        self.constant_ = len(np.unique(y)) < 2
        if not self.constant_:
            self.model_ = LogisticBaseline(self.features).fit(population, y)
        return self

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """The clipped probability of a world visit, one per row."""
        constant = np.full(len(frame), self.rate_)
        p = constant if self.constant_ else self.model_.predict_proba(frame)
        return np.clip(p, self.floor, 1.0)


def inclusion_probability(rows: pd.DataFrame, p_world: np.ndarray) -> np.ndarray:
    """``pi`` of each labelled row (see the module docstring).

    Args:
        rows: labelled rows with ``channel``, ``list_probability`` and ``exploration_rate``.
        p_world: the modelled world-visit probability of each row.

    Example:
        >>> rows = pd.DataFrame({"channel": ["ranked", "exploration", "triggered"],
        ...     "list_probability": [1.0, 0.02, np.nan], "exploration_rate": [0.0, 0.02, 0.02]})
        >>> inclusion_probability(rows, np.array([0.1, 0.1, 0.3])).round(3).tolist()
        [1.0, 0.118, 0.314]
    """
    channel = rows["channel"].to_numpy()
    p_world = np.asarray(p_world, dtype=float)
    explore = np.where(
        channel == "exploration",
        rows["list_probability"].to_numpy(dtype=float),
        rows["exploration_rate"].to_numpy(dtype=float),
    )
    explore = np.nan_to_num(explore, nan=0.0)
    pi = 1.0 - (1.0 - p_world) * (1.0 - explore)
    return np.where(channel == "ranked", 1.0, pi)


def ipw_weights(pi: np.ndarray, floor: float, cap: float) -> np.ndarray:
    """Stabilised, clipped inverse-probability weights: ``1 / max(pi, floor)``, truncated so
    that no row weighs more than ``cap`` times the mean row, then divided by their mean.

    Example:
        >>> ipw_weights(np.array([1.0, 0.5, 0.0001]), 0.001, 2.0).round(3).tolist()
        [0.333, 0.667, 2.0]
    """
    w = 1.0 / np.clip(np.asarray(pi, dtype=float), floor, 1.0)
    if len(w) == 0:
        return w
    for _ in range(1000):  # the truncation lowers the mean: repeat until it holds
        limit = cap * w.mean()
        if w.max() <= limit * (1 + 1e-9):
            break
        w = np.minimum(w, limit)
    return w / w.mean()


def weight_summary(weights: np.ndarray, channel: pd.Series) -> dict:
    """Mean weight and row count per channel, the largest weight and the effective sample size
    (``(sum w)^2 / sum w^2``): how much the correction costs in information."""
    w = np.asarray(weights, dtype=float)
    per = {
        str(c): {"rows": int(m.sum()), "mean_weight": float(w[m].mean())}
        for c in sorted(channel.unique())
        if (m := (channel == c).to_numpy()).any()
    }
    ess = float(w.sum() ** 2 / (w**2).sum()) if len(w) else 0.0
    return {"by_channel": per, "max_weight": float(w.max()) if len(w) else None,
            "effective_rows": ess, "rows": int(len(w))}  # fmt: skip
