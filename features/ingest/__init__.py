"""Ingestion: agency deliveries into the warehouse, validated, quarantined and reconciled.

One delivery is one file, ``<raw>/agencies/<agency>/<YYYY-MM>.parquet`` (or ``.csv``, UTF-8 or
GBK), whose delivery id is ``<agency>-<YYYY-MM>``. A second source delivering the same agency's
records for the same month names its file ``<YYYY-MM>-<source>.parquet`` (``source``: lower-case
letters, digits and ``_``, starting with a letter; e.g. ``visits/2024-05-outreach.parquet``, the
outcomes Outreach's own caseworkers recorded), with delivery id ``<agency>-<YYYY-MM>-<source>``;
it is otherwise a delivery like any other (same contract, same month-end extract date).
Each is checked against its agency's data contract (:mod:`core.contracts`):

- the whole file is **rejected** (one line naming the file and the problem; the other files still
  load) when it cannot be read, is empty of columns, lacks a required column, is named wrongly, or
  was already ingested with different content;
- single rows that break the contract go to the ``quarantine`` table with a reason code
  (:data:`REASONS`) and the raw row as evidence; the rest are accepted;
- every accepted delivery reconciles: rows received = rows accepted + rows quarantined.

Ingesting the same file twice changes nothing (its checksum is recorded). ID numbers are
normalized (legacy 15-digit numbers converted); valid ones become pseudonymous person keys and
are not stored; invalid ones are kept for probabilistic linkage and never used as keys.

Modules: :mod:`~features.ingest.read` (delivery files and user tables),
:mod:`~features.ingest.checks` (contract checks), :mod:`~features.ingest.quarantine`,
:mod:`~features.ingest.persons` (person records and keys), :mod:`~features.ingest.load` (into the
warehouse), :mod:`~features.ingest.reconcile` (results and the report) and
:mod:`~features.ingest.stage` (``run(settings, options) -> IngestReport``).

Public surface::

    run(settings, IngestOptions(raw, encoding), progress) -> IngestReport   # features.ingest.stage
    ingest(con, raw, pseudonymizer, encoding, progress) -> list[DeliveryResult]
    summarize(results) -> dict
    check_rows(contract, raw, delivery_id, extract) -> CheckedRows
    read_table(path, encoding) -> DataFrame
    REASONS, FILE_NAME, ENCODINGS, RejectedDelivery
"""

from features.ingest.checks import REASONS, CheckedRows, check_rows
from features.ingest.load import ingest
from features.ingest.read import ENCODINGS, FILE_NAME, RejectedDelivery, read_table
from features.ingest.reconcile import DeliveryResult, IngestReport, summarize
from features.ingest.stage import IngestOptions

__all__ = [
    "ENCODINGS",
    "FILE_NAME",
    "REASONS",
    "CheckedRows",
    "DeliveryResult",
    "IngestOptions",
    "IngestReport",
    "RejectedDelivery",
    "check_rows",
    "ingest",
    "read_table",
    "summarize",
]
