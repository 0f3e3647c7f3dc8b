"""Data contracts of the agency deliveries: defined once, used by the simulator and by ingestion.

Each agency delivers one Parquet file a month, ``agencies/<agency>/<YYYY-MM>.parquet``, holding
the records the agency recorded in that month. Every file carries the delivery columns
(``delivery_id``, ``extract_date``), the record key (``record_id``), the event date and the date
the agency recorded the event. The first delivery of an agency that keeps a register is a
baseline extract of the records in force at the start (recorded earlier). Person fields are as
the agency holds them: ID numbers may be mistyped, legacy (15 digits) or missing, names may be
recorded in a variant form.

The package holds the schema types (:mod:`core.contracts.schema`), the agency tables
(:mod:`core.contracts.agencies`) and the Markdown rendering (:mod:`core.contracts.markdown`);
import every name from here. Render the human-readable version with :func:`render_markdown`
(``docs/data-contracts.md``).
"""

from core.contracts.agencies import AGENCIES, CONTRACTS, ID_DEFECTS, SEX
from core.contracts.markdown import render_markdown
from core.contracts.schema import SCHEMA_VERSION, Column, Contract

__all__ = [
    "AGENCIES",
    "CONTRACTS",
    "ID_DEFECTS",
    "SCHEMA_VERSION",
    "SEX",
    "Column",
    "Contract",
    "render_markdown",
]
