"""One month of operations (``outreach month --as-of DATE``): what a county runs at a month end.

In order, each the stage function the CLI's own command calls (no shortcut):

1. **ingest** the new deliveries, including exported visit outcomes
   (``<raw>/agencies/visits/<YYYY-MM>-outreach.parquet``); deliveries already held are skipped;
2. **link** records into persons and households (the saved match model is reused and the
   mistyped-ID corrections of earlier months are kept, so only new raw IDs are expanded; the
   clustering is redone, so a person first seen this month can claim earlier records);
3. **features**: the month-end household vector of ``as_of``;
4. **train**, when the schedule says so (``retrain``): every snapshot, the refit and the
   champion/challenger rule of ``outreach train``;
5. **score** ``as_of`` into the service database: scores, eligibility, priority, visit lists.

A failed ingest (a rejected or unreconciled delivery) stops the month before anything is
linked, with the ingest report's one-line failure. The twin (:mod:`outreach.twin`) calls
:func:`run` every month with the same options a county would use.

Example:
    >>> report = run(settings, MonthOptions(date(2026, 1, 31)))  # doctest: +SKIP
    >>> [s["stage"] for s in report.as_dict()["stages"]]  # doctest: +SKIP
    ['ingest', 'link', 'features', 'score']
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.errors import ConfigError
from core.months import is_month_end
from core.reports import write_report
from core.settings import Settings


@dataclass(frozen=True)
class MonthOptions:
    """What one month of operations does.

    Attributes:
        as_of: the month end to build and score (a month's last day).
        retrain: train (and register) before scoring this month.
    """

    as_of: date
    retrain: bool = False

    def __post_init__(self) -> None:
        if not is_month_end(self.as_of):
            raise ConfigError(f"--as-of must be a month's last day, not {self.as_of.isoformat()}")


@dataclass
class MonthReport:
    """Each stage's time and headline, and where each stage's own report went."""

    as_of: date
    stages: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "stages": self.stages}


def due_for_retraining(month_index: int, every: int) -> bool:
    """The retraining schedule: every ``every`` months of the loop (0: never).

    >>> [due_for_retraining(m, 3) for m in range(1, 7)]
    [False, False, True, False, False, True]
    """
    return every > 0 and month_index > 0 and month_index % every == 0


def run(
    settings: Settings,
    options: MonthOptions,
    progress: Callable[[str], None] | None = None,
) -> MonthReport:
    """Run one month of operations (see the module docstring).

    Raises:
        ConfigError: a stage's own error, or a failed ingest (one line).
    """
    from features.ingest.stage import IngestOptions
    from features.ingest.stage import run as ingest
    from features.linkage.stage import LinkOptions
    from features.linkage.stage import run as link
    from features.vectors.stage import FeaturesOptions
    from features.vectors.stage import run as build_features
    from serving.batch.stage import ScoreOptions
    from serving.batch.stage import run as score
    from training.stage import TrainOptions
    from training.stage import run as train

    say = progress or (lambda _msg: None)
    stages: list[tuple[str, Callable[[], Any]]] = [
        ("ingest", lambda: ingest(settings, IngestOptions())),
        ("link", lambda: link(settings, LinkOptions())),
        ("features", lambda: build_features(settings, FeaturesOptions([options.as_of]))),
    ]
    if options.retrain:
        stages.append(("train", lambda: train(settings, TrainOptions())))
    stages.append(("score", lambda: score(settings, ScoreOptions(options.as_of))))
    report = MonthReport(options.as_of)
    for name, call in stages:
        say(f"{options.as_of.isoformat()} {name} ...")
        started = time.perf_counter()
        result = call()
        seconds = time.perf_counter() - started
        write_report(settings.reports_dir, name, result.as_dict())
        failure = getattr(result, "failure", None)
        if failure is not None:
            raise ConfigError(f"the month stopped at {name}: {failure}")
        report.stages.append({"stage": name, "seconds": round(seconds, 2)})
    write_report(settings.reports_dir, "month", report.as_dict())
    return report
