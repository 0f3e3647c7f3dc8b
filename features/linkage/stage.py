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

from dataclasses import dataclass, field
from pathlib import Path

from core.errors import ConfigError
from core.settings import Settings
from features import warehouse
from features.ingest.read import read_table
from features.linkage.resolve import LinkReport, Progress, link
from features.linkage.table import link_table, parse_map
from features.pseudonym import pseudonymizer_for

__all__ = ["LinkOptions", "LinkReport", "TableOptions", "TableReport", "run", "run_table"]


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
    """What ``outreach link --table``'s flags carry (the three paths go together).

    Attributes:
        table: the person table to link (CSV or Parquet); never changed.
        map: which column holds which field: ``name=COL,birth_date=COL,...``
            (see :func:`features.linkage.table.parse_map`).
        out: the output file (``.csv`` or ``.parquet``).
        encoding: the encoding of a CSV table: ``auto``, ``utf-8`` or ``gbk``.
    """

    table: Path | None = None
    map: str | None = None
    out: Path | None = None
    encoding: str = "auto"


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
            truth = Path(row[0]) / "truth" if row else None
        return link(
            con,
            keys,
            model_path(settings),
            retrain=options.retrain,
            truth_dir=truth if truth is not None and truth.is_dir() else None,
            progress=progress,
        )


def run_table(
    settings: Settings, options: TableOptions, progress: Progress | None = None
) -> TableReport:
    """Deduplicate a person table into ``options.out``: its columns plus ``cluster_id`` and
    ``match_probability`` (see :func:`features.linkage.table.link_table`).

    Raises:
        ConfigError: the paths not given together, a bad output path or ``--map``.
        DataContractError: the table cannot be read or has no rows.
    """
    keys = pseudonymizer_for(settings)
    table, out = options.table, options.out
    if table is None or options.map is None or out is None:
        raise ConfigError("--table, --map and --out go together")
    if out.suffix not in (".csv", ".parquet"):
        raise ConfigError("--out must end in .csv or .parquet")
    if out.resolve() == table.resolve():
        raise ConfigError("--out must differ from --table (the input is never changed)")
    frame = read_table(table, options.encoding)
    mapping = parse_map(options.map, list(frame.columns))
    if progress is not None:
        progress(f"{len(frame):,} rows")
    result, notes = link_table(frame, mapping, keys)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        result.to_csv(out, index=False, encoding="utf-8")
    else:
        result.to_parquet(out, index=False)
    return TableReport(input=table.name, output=str(out), notes=notes)
