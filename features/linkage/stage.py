"""The link stage: records to persons and households in the warehouse, or any person table
deduplicated, as functions.

``outreach link`` parses its flags into :class:`LinkOptions` (or :class:`TableOptions` with
``--table``), calls :func:`run` (or :func:`run_table`) and prints and writes the report it returns.
The stage reads no flag and no environment variable: everything comes from the settings and the
options.

Example:
    >>> report = run(load_settings(ws), LinkOptions(retrain=True))  # doctest: +SKIP
    >>> report.as_dict()["households"]  # doctest: +SKIP
    412
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from core.errors import ConfigError
from core.settings import Settings
from core.truth import truth_dir_for
from features import warehouse
from features.ingest.read import read_table
from features.linkage.resolve import LinkReport, Progress, link
from features.linkage.table import link_tables
from features.linkage.table_labels import read_labels
from features.linkage.table_prep import parse_map
from features.linkage.table_review import write_review
from features.pseudonym import pseudonymizer_for

__all__ = [
    "FileAudit",
    "LinkOptions",
    "LinkReport",
    "TableOptions",
    "TableReport",
    "review_dir",
    "run",
    "run_table",
]

FileAudit = Callable[[str, Mapping[str, Any]], None]
"""Appends one audit row, ``(resource, detail)``, for a file of personal data written or read
(the CLI passes :func:`serving.privacy.file_audit.recorder`); raises when it cannot."""


@dataclass(frozen=True)
class LinkOptions:
    """What ``outreach link``'s flags carry (warehouse mode).

    Attributes:
        retrain: learn the match model again instead of reusing the saved one.
        truth: the simulator's truth to measure against (a folder holding ``records/``);
            ``None``: ``<raw>/truth`` of the last ingest, when present.
    """

    retrain: bool = False
    truth: Path | None = None


@dataclass(frozen=True)
class TableOptions:
    """What ``outreach link --table``'s flags carry.

    Attributes:
        tables: one table to deduplicate, or two to link (CSV or Parquet); never changed.
        maps: which column holds which field (``name=COL,birth_date=COL,...``, see
            :func:`features.linkage.table_prep.parse_map`): one for every table, or one each.
        out: the output file (``.csv`` or ``.parquet``).
        encoding: the encoding of a CSV table: ``auto``, ``utf-8`` or ``gbk``.
        labels: a labels file (pairs or clusters, see :mod:`features.linkage.table_labels`),
            from anywhere (a marked review file, most often); reading it is audited.
        review: write this many of the most uncertain pairs for clerical review (0: none),
            into :func:`review_dir` (``.csv`` for a CSV output, ``.xlsx`` for a Parquet one);
            audited.
    """

    tables: tuple[Path, ...] = ()
    maps: tuple[str, ...] = ()
    out: Path | None = None
    encoding: str = "auto"
    labels: Path | None = None
    review: int = 0


@dataclass
class TableReport:
    """What ``link --table`` made (``reports/link-table/``).

    Attributes:
        input: the input table's file name.
        output: the output file written.
        notes: the figures of the run (rows, clusters, how the model was trained ...).
    """

    input: str
    output: str
    notes: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The report as written to JSON."""
        return {"input": self.input, "output": self.output, **self.notes}


def model_path(settings: Settings) -> Path:
    """The saved match model of a workspace (Splink settings JSON beside the warehouse)."""
    return settings.data_dir / "linkage" / "model.json"


def run(settings: Settings, options: LinkOptions, progress: Progress | None = None) -> LinkReport:
    """Rebuild ``links``, ``persons`` and ``memberships`` of the workspace's warehouse.

    Raises:
        ConfigError: no warehouse yet, or a truth folder without ``records/``.
    """
    keys = pseudonymizer_for(settings)
    if not settings.warehouse_path.exists():
        raise ConfigError(f"no warehouse at {settings.warehouse_path}; run `outreach ingest`")
    truth = options.truth
    if truth is not None and not (truth / "records").is_dir():
        raise ConfigError(f"--truth {truth} has no records/ folder")
    with warehouse.connect(settings.warehouse_path) as con:
        if truth is None:
            row = warehouse.fetch_one(con, "SELECT value FROM meta WHERE key = 'raw_dir'")
            truth = truth_dir_for(settings, Path(row[0]) if row else None)  # the one gate
        return link(
            con,
            keys,
            model_path(settings),
            retrain=options.retrain,
            truth_dir=truth if truth is not None and truth.is_dir() else None,
            progress=progress,
        )


def run_table(
    settings: Settings,
    options: TableOptions,
    progress: Progress | None = None,
    audit: FileAudit | None = None,
) -> TableReport:
    """Deduplicate one person table, or link two, into ``options.out``: every input row with
    ``cluster_id`` and ``match_probability`` (see :func:`features.linkage.table.link_tables`).

    ``audit`` records the labels file read (resource ``link_labels``) and the review file
    written (``link_review``); both need it. A review file whose audit row cannot be written is
    removed again.

    Raises:
        ConfigError: the paths not given together, a bad output path, ``--map`` or labels file,
            or labels or a review without ``audit``.
        DataContractError: a table cannot be read or has no rows.
    """
    tables, out = options.tables, options.out
    if not tables or not options.maps or out is None:
        raise ConfigError("--table, --map and --out go together")
    if len(tables) > 2:
        raise ConfigError("--table is given once (deduplicate) or twice (link two tables)")
    if len(options.maps) not in (1, len(tables)):
        raise ConfigError("--map is given once (for every table) or once per --table")
    if out.suffix not in (".csv", ".parquet"):
        raise ConfigError("--out must end in .csv or .parquet")
    if options.review < 0:
        raise ConfigError("--review must be 0 or more")
    if any(out.resolve() == t.resolve() for t in tables):
        raise ConfigError("--out must differ from --table (the input is never changed)")
    if (options.review or options.labels is not None) and audit is None:
        raise ConfigError("--review and --labels read personal data: they need the audit log")
    frames = [read_table(t, options.encoding) for t in tables]
    texts = options.maps * len(tables) if len(options.maps) == 1 else options.maps
    maps = [parse_map(m, list(f.columns)) for m, f in zip(texts, frames, strict=True)]
    total = sum(len(f) for f in frames)
    labels = read_labels(options.labels, total) if options.labels is not None else None
    if labels is not None and audit is not None and options.labels is not None:
        audit("link_labels", {"file": options.labels.name, **labels.counts()})
    if progress is not None:
        progress(f"{total:,} rows")
    results, notes, pairs = link_tables(frames, maps, labels)
    if len(results) == 2:
        for i, (res, t) in enumerate(zip(results, tables, strict=True), start=1):
            res.insert(0, "source_row", range(len(res)))
            res.insert(0, "source_table", t.name if tables[0].name != tables[1].name else str(i))
        result = pd.concat(results, ignore_index=True)
    else:
        result = results[0]
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        result.to_csv(out, index=False, encoding="utf-8")
    else:
        result.to_parquet(out, index=False)
    report = TableReport(input=", ".join(t.name for t in tables), output=str(out), notes=notes)
    if options.review and audit is not None:
        suffix = ".csv" if out.suffix == ".csv" else ".xlsx"
        model = notes.get("model")
        path, n = write_review(review_dir(settings), frames, maps, pairs, model, options.review,
                               suffix)  # fmt: skip
        try:
            audit("link_review", {"file": path.name, "pairs": n, "channel": f"export{suffix}"})
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        report.notes["review_file"] = str(path)
        report.notes["review_pairs"] = n
    report.notes.pop("model", None)
    return report


def review_dir(settings: Settings) -> Path:
    """Where ``--review`` writes: ``<workspace>/data/reports/review/`` (0700), one
    ``link-review-<UTC time>-<hex>.csv`` / ``.xlsx`` per run, purged after
    ``retention.personal_files_days``."""
    return settings.reports_dir / "review"
