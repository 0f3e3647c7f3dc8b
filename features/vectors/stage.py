"""The features stage: build, write and report one snapshot per as-of date.

Example:
    >>> report = run(settings, FeaturesOptions([date(2024, 6, 30)]))  # doctest: +SKIP
    >>> report.as_dict()["snapshots"][0]["households"]  # doctest: +SKIP
    412
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from core.errors import OutreachError
from core.settings import Settings
from features import warehouse
from features.vectors.build import build_snapshot
from features.vectors.catalogue import FEATURE_SET_VERSION
from features.vectors.snapshots import (
    delivery_ids,
    read_snapshot_metadata,
    snapshot_report,
    write_snapshot,
)
from policies.parameters import load_parameters

Progress = Callable[[date, int, int], None]
"""Called before each snapshot with its date, its position (0-based) and the count."""


@dataclass(frozen=True)
class FeaturesOptions:
    """What to build: the as-of dates, in order."""

    as_of_dates: Sequence[date]


@dataclass
class FeaturesReport:
    """Per snapshot: date, id, path, deliveries used, rows, households and feature stats."""

    feature_set_version: str = FEATURE_SET_VERSION
    snapshots: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        """The report as written to ``reports/features/latest.json``."""
        return {"feature_set_version": self.feature_set_version, "snapshots": self.snapshots}


def run(
    settings: Settings, options: FeaturesOptions, progress: Progress | None = None
) -> FeaturesReport:
    """Build and write the snapshot of every as-of date of ``options``.

    Raises:
        OutreachError: no warehouse yet, or a warehouse without links.
    """
    if not settings.warehouse_path.exists():
        raise OutreachError(f"no warehouse at {settings.warehouse_path}; run `outreach ingest`")
    params = load_parameters(settings.params_dir)
    report = FeaturesReport()
    days = list(options.as_of_dates)
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        if warehouse.fetch_one(con, "SELECT count(*) FROM links")[0] == 0:
            raise OutreachError("the warehouse has no links yet; run `outreach link`")
        for i, day in enumerate(days):
            if progress:
                progress(day, i, len(days))
            table = build_snapshot(con, day, params)
            path = write_snapshot(table, settings.snapshots_dir, day, delivery_ids(con, day))
            meta = read_snapshot_metadata(path)
            report.snapshots.append(
                {
                    "as_of": day.isoformat(),
                    "snapshot_id": meta["snapshot_id"],
                    "path": str(path),
                    "deliveries": len(meta["delivery_ids"]),
                    **snapshot_report(table),
                }
            )
    return report
