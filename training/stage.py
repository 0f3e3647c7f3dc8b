"""The training stage: ``run(settings, options) -> report`` for each thing training does.

- :func:`run`: train on the workspace's snapshots, evaluate, log and register in MLflow
  (``outreach train``); :class:`TrainReport`.
- :func:`run_table`: train and evaluate on any household table; logged, not registered
  (``outreach train --table``); :class:`TableReport`.
- :func:`run_need_now`: train the need-now model on visit outcomes, selection-corrected
  (``outreach train --need-now``); the report of :func:`training.need_now_train.train_need_now`.
- :func:`run_drift`: a snapshot against the champion's reference distributions, with whether
  its outcomes are observable yet (``outreach drift``); :class:`DriftReport`.

Options are frozen dataclasses of what the flags carry; reports are dataclasses whose
:meth:`as_dict` is the JSON the CLI writes with :func:`core.reports.write_report` (under the
stage names :data:`TRAIN`, :data:`TRAIN_TABLE` and :data:`DRIFT`). Nothing here prints or
reads the environment: the settings carry the seed, the capacities and the MLflow URI, and
every training run records ``settings.config_hash("model")``.

Example:
    >>> report = run(settings, TrainOptions())  # doctest: +SKIP
    >>> write_report(settings.reports_dir, TRAIN, report.as_dict())  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from core.errors import OutreachError
from core.settings import Settings

TRAIN = "train"
TRAIN_TABLE = "train-table"
TRAIN_NEED_NOW = "train-need-now"
DRIFT = "drift"
"""Report folder names (``<workspace>/data/reports/<name>/latest.json``)."""


@dataclass(frozen=True)
class TrainOptions:
    """``outreach train``: the snapshot dates to use (None: every snapshot)."""

    as_of: tuple[date, ...] | None = None


@dataclass(frozen=True)
class TrainReport:
    """The evaluation of a snapshot training run and where its model went.

    Attributes:
        registered: ``version``, ``alias`` (champion or challenger), ``reason``, ``run_id``.
        deployment: what the registered (refit) model was trained and calibrated on
            (:func:`training.refit.refit_for_deployment`).
    """

    generated_at: str
    config_hash: str
    feature_set_version: str
    snapshot_ids: dict[str, str]
    label: dict[str, Any]
    metrics: dict[str, Any]
    validation: dict[str, Any]
    timings: dict[str, float]
    registered: dict[str, Any]
    deployment: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def run(
    settings: Settings, options: TrainOptions, progress: Callable[[str], None] | None = None
) -> TrainReport:
    """Train the hardship model on the snapshots, evaluate, log and register it.

    Args:
        progress: called with a short description of each step.

    Raises:
        OutreachError: no warehouse; ConfigError: no usable snapshot or too few dates.
    """
    from training.run import train_and_register

    if not settings.warehouse_path.exists():
        raise OutreachError(f"no warehouse at {settings.warehouse_path}; run `outreach ingest`")
    outcome = train_and_register(settings, options.as_of, progress=progress)
    return TrainReport(**outcome.report)


def run_need_now(settings: Settings, options: TrainOptions) -> dict[str, Any]:
    """Train the need-now model and save it under ``<models>/need-now/<cutoff>/``; the report.

    Raises:
        OutreachError: no warehouse; ConfigError: no usable snapshot or too few months.
    """
    from training.need_now_train import train_need_now

    if not settings.warehouse_path.exists():
        raise OutreachError(f"no warehouse at {settings.warehouse_path}; run `outreach ingest`")
    return train_need_now(settings, options.as_of).report


@dataclass(frozen=True)
class TableOptions:
    """``outreach train --table``: the table and what its columns mean.

    Attributes:
        table: a CSV or Parquet file, one row per household.
        label / id_col: the 0/1 (or true/false) label column and the unique id column.
        time: a date or number column for a temporal split (None: cross-validation).
        groups: columns to report lists and fairness by.
        positive: the label classes that count as hardship (None: 0/1 or true/false).
    """

    table: Path
    label: str
    id_col: str
    time: str | None = None
    groups: tuple[str, ...] = ()
    positive: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TableReport:
    """The evaluation of a table training run (see :func:`training.table.train_table`)."""

    spec: dict[str, Any]
    rows: dict[str, Any]
    label_classes: list[str]
    positive_classes: list[str]
    features: dict[str, Any]
    validation: dict[str, Any]
    params: dict[str, Any]
    metrics: dict[str, Any]
    fairness: dict[str, Any] | None
    notes: list[str]
    input: str
    config_hash: str
    mlflow_run_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def run_table(settings: Settings, options: TableOptions) -> TableReport:
    """Train and evaluate on a household table and log the run to MLflow (not registered).

    Raises:
        ConfigError, DataContractError: one line naming the file or column and the problem.
    """
    from training.model_registry import Store
    from training.table import log_run, train_table
    from training.table_columns import TableSpec, load_table

    spec = TableSpec(options.label, options.id_col, options.time, options.groups, options.positive)
    frame = load_table(options.table)
    body = train_table(frame, spec, capacities=settings.model.capacities, seed=settings.model.seed)
    body.update(input=str(options.table), config_hash=settings.config_hash("model"))
    run_id = log_run(Store.for_settings(settings), body, options.table.name)
    return TableReport(**body, mlflow_run_id=run_id)


@dataclass(frozen=True)
class DriftOptions:
    """``outreach drift``: the snapshot date to compare with the champion's reference."""

    as_of: date


@dataclass(frozen=True)
class DriftReport:
    """PSI per feature and for the score, and whether the snapshot's outcomes are known yet.

    Attributes:
        psi: :func:`training.drift.psi`'s result (``score``, ``features``, ``bands``...).
        label_lag: ``cutoff``, ``reporting_delay_p99_days``, ``labelled`` and a ``note``.
    """

    as_of: date
    model_version: str
    psi: dict[str, Any] = field(repr=False)
    label_lag: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """The PSI result's keys, then ``label_lag``, ``as_of`` and ``model_version``."""
        return {
            **self.psi,
            "label_lag": self.label_lag,
            "as_of": self.as_of.isoformat(),
            "model_version": self.model_version,
        }


def label_lag(warehouse_path: Path, day: date) -> dict[str, Any]:
    """Whether the outcomes of the snapshot of ``day`` are observable by the data cutoff."""
    from features import warehouse
    from training.labels import HORIZON_MONTHS, is_labelled, label_cutoff, reporting_delay_p99

    with warehouse.connect(warehouse_path, read_only=True) as con:
        cutoff = label_cutoff(con)
        delay = reporting_delay_p99(con, cutoff)
    labelled = is_labelled(day, cutoff, delay, HORIZON_MONTHS)
    return {
        "cutoff": cutoff.isoformat(),
        "reporting_delay_p99_days": delay,
        "labelled": labelled,
        "note": (
            "outcomes of this snapshot are complete"
            if labelled
            else f"outcomes of this snapshot are not yet observable: its {HORIZON_MONTHS}-month "
            f"window plus the {delay}-day reporting delay runs past the data cutoff {cutoff}; "
            "drift in the score cannot yet be checked against outcomes"
        ),
    }


def run_drift(settings: Settings, options: DriftOptions) -> DriftReport:
    """Compare a snapshot with the champion's reference distributions (PSI per feature).

    Raises:
        OutreachError: no snapshot of that date; ConfigError: no champion.
    """
    import pyarrow.parquet as pq

    from features.vectors.build import snapshot_path
    from training import model_registry
    from training.drift import psi

    day = options.as_of
    path = snapshot_path(settings.snapshots_dir, day)
    if not path.exists():
        raise OutreachError(f"no snapshot for {day}; run `outreach features --as-of {day}`")
    store = model_registry.Store.for_settings(settings)
    model, version = model_registry.load_version(store)
    reference = model_registry.run_artifact(store, version, "reference")
    frame = pq.read_table(path).to_pandas()
    result = psi(reference, model.matrix(frame), model.predict_proba(frame))
    return DriftReport(day, version, result, label_lag(settings.warehouse_path, day))
