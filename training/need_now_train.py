"""The need-now model's training entry point: workspace snapshots + visits -> model + report.

:func:`train_need_now` is what ``outreach train --need-now`` runs and what a later ``learning``
policy of the twin calls on its own schedule:

1. the snapshots (default: every one), the label cutoff of the warehouse (opened read-only), the
   visit-outcome labels of the complete months (:func:`training.visit_labels.visit_labels`);
2. the label population of those months (:func:`training.labels.label_population`), each row
   marked with whether the world visited it the month after (the world's propensity learns from
   the last ``propensity_months`` training months complete for the world's late deliveries too);
3. a temporal split: the last ``valid_months`` complete months validate (early stopping and
   calibration on exploration outcomes), the months before train;
4. the weighted model and, for comparison, the naive one (same rows, no weights)
   (:func:`training.need_now.fit_need_now`), each checked against the held-out half of the
   validation months' exploration outcomes.

No MLflow run: the model is saved under ``<models>/need-now/<cutoff>/`` and the report is data
(``train-need-now``). The pipeline never reads the truth here.

Example:
    >>> result = train_need_now(settings)  # doctest: +SKIP
    >>> result.report["checks"]["weighted"]["ece"]  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from core.errors import ConfigError
from core.settings import Settings
from features.vectors.build import snapshot_path
from features.warehouse import connect
from policies.parameters import load_parameters
from training.labels import label_cutoff, label_population
from training.need_now import MODEL_VERSION, NeedNowModel, exploration_check, fit_need_now
from training.pipeline import available_snapshots, load_snapshots, split_validation
from training.visit_labels import VISIT_LABEL_DEFINITION, visit_labels
from training.visit_weights import WorldPropensity

NEED_NOW_DIR = "need-now"
DEFINITION = (
    "P(in need now and not assisted | month-end vector): the probability that a household of "
    "the discovery population is in need, from what visits in the month after found, with the "
    "selection of who was visited corrected by inverse-propensity weights and the visit's "
    "sensitivity and false-need rate corrected; calibrated on exploration outcomes."
)


@dataclass
class NeedNowResult:
    """The weighted model, the naive model beside it, and the JSON-ready report."""

    model: NeedNowModel
    naive: NeedNowModel
    report: dict[str, Any]
    path: Path | None = None


def _frames(settings: Settings, dates: list[date]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The label population of the complete months, joined to their visit labels."""
    with connect(settings.warehouse_path, read_only=True) as con:
        cutoff = label_cutoff(con)
        labels = visit_labels(con, dates, cutoff)
    used = labels.attrs["dates"]
    info = {"cutoff": cutoff, "months": used, "world_months": labels.attrs["world_dates"],
            "lateness_p99_days": {"world": labels.attrs["delay_days"],
                                  "lists": labels.attrs["list_delay_days"]}}  # fmt: skip
    if not used:
        return pd.DataFrame(), info
    frame = load_snapshots(settings.snapshots_dir, used)
    frame = frame.loc[label_population(frame, load_parameters(settings.params_dir))]
    frame = frame.merge(labels.drop(columns="township_code"), on=["household_id", "as_of"],
                        how="left")  # fmt: skip
    frame["world_visit"] = frame["world_visit"].fillna(False).astype(bool)
    frame["labelled"] = frame["labelled"].fillna(False).astype(bool)
    return frame.reset_index(drop=True), info


def train_need_now(
    settings: Settings,
    as_of_dates: Iterable[date] | None = None,
    *,
    valid_months: int = 2,
    params: Mapping[str, Any] | None = None,
    save: bool = True,
) -> NeedNowResult:
    """Train the need-now model on the workspace (see the module docstring).

    Raises:
        ConfigError: no usable snapshot, too few complete months, or no visit outcome.
    """
    dates = sorted(set(as_of_dates)) if as_of_dates else available_snapshots(settings.snapshots_dir)
    missing = [d for d in dates if not snapshot_path(settings.snapshots_dir, d).exists()]
    if not dates or missing:
        what = f"missing snapshots: {', '.join(map(str, missing[:3]))}" if missing else "none"
        raise ConfigError(f"no usable snapshots ({what}): run `outreach features` first")
    frame, info = _frames(settings, dates)
    months = info["months"]
    if len(months) < valid_months + 1:
        raise ConfigError(
            f"the need-now model needs {valid_months + 1} complete months of visits; the "
            f"warehouse (cutoff {info['cutoff']}) has {len(months)}"
        )
    train_months, valid_set = months[:-valid_months], set(months[-valid_months:])
    in_valid = frame["as_of"].isin(valid_set)
    labelled = frame["labelled"]
    if not labelled[~in_valid].any() or frame.loc[labelled, "label"].nunique() < 2:
        raise ConfigError("no visit outcome with both findings to learn from in these months")
    world_months = [d for d in info["world_months"] if d not in valid_set]
    world_months = world_months[-settings.need_now.propensity_months :]
    population = frame.loc[frame["as_of"].isin(set(world_months))]
    if population.empty:
        raise ConfigError("no training month is complete for the world's visits yet")
    train, valid = frame.loc[labelled & ~in_valid], frame.loc[labelled & in_valid]
    by_channel = (
        frame.loc[labelled].groupby("channel")["label"].agg(["size", "mean"])
        .rename(columns={"size": "rows", "mean": "in_need_rate"}).to_dict(orient="index")
    )  # fmt: skip
    del frame, labelled, in_valid  # the unlabelled rows of other months are needed no more
    p = {"seed": settings.model.seed, **(params or {})}
    world = WorldPropensity(floor=settings.need_now.propensity_floor).fit(population)
    fits = {
        name: fit_need_now(
            population, train, valid, settings.need_now, weighted=w, params=p, world=world
        )  # fmt: skip
        for name, w in (("weighted", True), ("naive", False))
    }
    held_out = split_validation(valid.loc[valid["channel"] == "exploration"])[0]
    report = {
        "version": MODEL_VERSION,
        "definition": DEFINITION,
        "label": VISIT_LABEL_DEFINITION,
        "cutoff": info["cutoff"].isoformat(),
        "lateness_p99_days": info["lateness_p99_days"],
        "world_months": [d.isoformat() for d in info["world_months"]],
        "propensity_months": [d.isoformat() for d in world_months],
        "train_months": [d.isoformat() for d in train_months],
        "valid_months": sorted(d.isoformat() for d in valid_set),
        "labels_by_channel": by_channel,
        "fits": {name: f.report for name, f in fits.items()},
        "checks": {name: exploration_check(f.model, held_out) for name, f in fits.items()},
        "config": settings.need_now.model_dump(),
        "config_hash": settings.config_hash("model", "need_now"),
    }  # fmt: skip
    result = NeedNowResult(fits["weighted"].model, fits["naive"].model, report)
    if save:
        result.path = result.model.save(settings.models_dir / NEED_NOW_DIR / report["cutoff"])
        report["model_path"] = str(result.path)
    return result
