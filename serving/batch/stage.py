"""Scoring as a stage: ``run(settings, options) -> ScoreReport`` behind ``outreach score``.

The lists are cut as ``settings.scoring`` says (:class:`core.settings.ScoringConfig`: the
``[scoring]`` section of ``outreach.toml``, overridden by the flags of ``outreach score``). The
run's report records ``settings.config_hash("scoring")`` as ``run.config_hash``; the hash never
enters the run id, which stays a function of the scoring inputs
(:func:`serving.batch.scoring.run_id_for`).

Example:
    >>> from core.settings import load_settings
    >>> settings = load_settings(ws, scoring={"capacity_share": 0.1})  # doctest: +SKIP
    >>> run(settings, ScoreOptions(date(2024, 12, 31))).as_dict()["run"]["status"]
    ... # doctest: +SKIP
    'written'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyarrow.parquet as pq

from core.errors import ConfigError
from core.settings import ScoringConfig, Settings
from core.truth import truth_dir_for
from features import warehouse
from features.pseudonym import pseudonymizer_for
from features.vectors.build import snapshot_path
from policies.parameters import load_parameters
from serving.batch.priority import ListSpec
from serving.batch.report import report
from serving.batch.scoring import score
from training.pipeline import raw_dir_from_meta


@dataclass(frozen=True)
class ScoreOptions:
    """What to score (the list options come from ``settings.scoring``).

    Attributes:
        as_of: the snapshot date to score.
    """

    as_of: date


@dataclass(frozen=True)
class ScoreReport:
    """A scoring run's report.

    Attributes:
        run: the run: id, date, model, status, counts, chunks, timings, list options and
            ``config_hash``.
        sections: eligibility counts, list summary, scores and (on simulated data) truth and
            goals; empty when the run was already complete.
    """

    run: dict[str, Any]
    sections: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The report as written to ``data/reports/score/``."""
        return {"run": self.run, **self.sections}


def list_spec(scoring: ScoringConfig) -> ListSpec:
    """How lists are cut, from the scoring configuration.

    Raises:
        ConfigError: a value the lists refuse.
    """
    try:
        return ListSpec(
            scoring.level,
            scoring.capacity_share,
            scoring.capacity,
            scoring.exploration_share,
            scoring.seed,
            scoring.ranking,
        )
    except ValueError as exc:
        raise ConfigError(f"bad list option: {exc}") from None


def run(
    settings: Settings, options: ScoreOptions, progress: Callable[[str], None] | None = None
) -> ScoreReport:
    """Score the snapshot of ``options.as_of`` into the service database and report on it.

    Args:
        settings: the workspace settings; ``settings.scoring`` cuts the lists and sizes the
            committed chunks.
        options: the date to score.
        progress: called with a short message at each step.

    Raises:
        ConfigError: no snapshot for the date, no champion, a feature-set mismatch or a bad
            list option.
    """
    spec = list_spec(settings.scoring)
    outcome = score(settings, options.as_of, spec, settings.scoring.chunk_rows, progress)
    run_row = {
        "run_id": outcome.run_id, "as_of": options.as_of, "model_version": outcome.model_version,
        "snapshot_id": outcome.snapshot_id, "status": outcome.status,
        "households": outcome.n_households, "listed": outcome.n_listed,
        "exploration": outcome.n_exploration, "chunks": outcome.chunks,
        "corrections_applied": outcome.corrections_applied,
        "timings": outcome.timings, "lists": spec.as_dict(),
        "config_hash": settings.config_hash("scoring"),
    }  # fmt: skip
    frame = truth_dir = pseudonymizer = None
    if outcome.scored is not None:
        frame = pq.read_table(snapshot_path(settings.snapshots_dir, options.as_of)).to_pandas()
        with warehouse.connect(settings.warehouse_path, read_only=True) as con:
            truth_dir = truth_dir_for(settings, raw_dir_from_meta(con))
        pseudonymizer = pseudonymizer_for(settings)
    params = load_parameters(settings.params_dir)
    data = report(outcome.scored, run_row, frame, truth_dir, pseudonymizer, spec, params)
    return ScoreReport(data["run"], {k: v for k, v in data.items() if k != "run"})


EVALUATE = "evaluate"
"""Report folder of :func:`run_evaluation` (``data/reports/evaluate/latest.json``)."""


@dataclass(frozen=True)
class EvaluationOptions:
    """The rolling-origin evaluation: how many test months and bootstrap resamples.

    Attributes:
        months: test months of the rolling origin (at least 6).
        n_boot: bootstrap resamples of every interval.
    """

    months: int = 6
    n_boot: int = 200


@dataclass(frozen=True)
class EvaluationReport:
    """Figures over the rolling origin's test months, each with a 95 % interval.

    Attributes:
        origins: per test month, its training, validation and test windows.
        models: :func:`training.backtest.backtest` (scores, calibration, fairness).
        lists: :func:`serving.batch.backtest.backtest_lists` (simulated data only).
    """

    origins: dict[str, Any]
    models: dict[str, Any]
    lists: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        return {"origins": self.origins, "models": self.models, "lists": self.lists}


def run_evaluation(
    settings: Settings,
    options: EvaluationOptions,
    progress: Callable[[str], None] | None = None,
) -> EvaluationReport:
    """Rolling-origin evaluation of the model and of the lists it would produce.

    Raises:
        ConfigError: fewer than 6 test months asked, or too few labelled dates.
    """
    from serving.batch.backtest import backtest_lists
    from training.backtest import backtest
    from training.rolling import rolling_origin
    from training.truth import has_truth

    if options.months < 6:
        raise ConfigError("a rolling-origin evaluation needs at least 6 test months")
    if not settings.warehouse_path.exists():
        raise ConfigError(f"no warehouse at {settings.warehouse_path}; run `outreach ingest`")
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        truth_dir = truth_dir_for(settings, raw_dir_from_meta(con))
    origins, info = rolling_origin(settings, options.months, progress=progress)
    models = backtest(origins, n_boot=options.n_boot, seed=settings.model.seed)
    lists = None
    if has_truth(truth_dir):
        assert truth_dir is not None
        spec = list_spec(settings.scoring)
        lists = backtest_lists(settings, origins, truth_dir, spec, options.n_boot, progress)
    return EvaluationReport(info, models, lists)
