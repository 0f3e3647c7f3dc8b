"""The ingest stage: every delivery under the raw folder into the warehouse, as one function.

``outreach ingest`` parses its flags into :class:`IngestOptions`, calls :func:`run` and prints and
writes the :class:`IngestReport` it returns. The stage reads no flag and no environment variable:
everything comes from the settings and the options.

Example:
    >>> report = run(load_settings(ws), IngestOptions(encoding="gbk"))  # doctest: +SKIP
    >>> report.failure is None  # doctest: +SKIP
    True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.settings import Settings
from features import warehouse
from features.ingest.load import ingest
from features.ingest.reconcile import IngestReport
from features.pseudonym import pseudonymizer_for

__all__ = ["IngestOptions", "IngestProgress", "IngestReport", "run"]

IngestProgress = Callable[[int, int, str], None]
"""Called after each delivery file with (files done, files in all, the file's agency)."""


@dataclass(frozen=True)
class IngestOptions:
    """What ``outreach ingest``'s flags carry.

    Attributes:
        raw: the folder holding ``agencies/<agency>/<YYYY-MM>.parquet|csv`` (``None``: the
            workspace's ``data/raw``).
        encoding: the encoding of CSV deliveries: ``auto`` (UTF-8, else GBK), ``utf-8`` or ``gbk``.
    """

    raw: Path | None = None
    encoding: str = "auto"


def run(
    settings: Settings, options: IngestOptions, progress: IngestProgress | None = None
) -> IngestReport:
    """Validate every delivery into the warehouse: quarantine bad rows, reconcile every file.

    A rejected delivery does not stop the run: it is in the report (:attr:`IngestReport.rejected`,
    and :attr:`IngestReport.failure` says the run failed).

    Raises:
        ConfigError: no ``agencies/`` folder, an unknown encoding, or an HMAC key that differs
            from the one the warehouse was built with.
    """
    source = options.raw if options.raw is not None else settings.raw_dir
    keys = pseudonymizer_for(settings)
    with warehouse.connect(settings.warehouse_path) as con:
        results = ingest(con, source, keys, options.encoding, progress=progress)
    return IngestReport.from_results(results)
