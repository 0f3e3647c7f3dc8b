"""Visit-list exports for spreadsheets: CSV (UTF-8 with BOM) and XLSX, built in memory.

Pure functions: a visit list's entries and the page's labels in, bytes out (lists hold at most
500 entries, so nothing needs streaming). Columns, in order (:data:`COLUMNS`): rank,
household_ref, masked_name, village_code, band, probability, top_reasons, gaps, verify,
exploration, model_version, purpose, withheld_reasons, exported_by, exported_at; the header row
is in the page's language and every row repeats the purpose and who exported the file when (the
token id and UTC time, :class:`Stamp`), so a file cut from its context still says what it is for
and where it came from.

- **Health and income reasons stay out** (:data:`SENSITIVE_GROUPS`: illness, disability and
  medical burden; income, arrears and assistance received): a file leaves them out of
  ``top_reasons`` and counts them in ``withheld_reasons``, unless the exporter asked for them
  with a purpose (``?sensitive=1&purpose=…``), which every row and the audit row then carry.

- **Codes and references stay text**: household references, village codes and model versions
  are CSV strings and XLSX cells of type string with the ``@`` (text) number format, so a
  spreadsheet never turns them into numbers (dropping digits or leading zeros). Only ``rank``
  and ``probability`` are numbers.
- **Formula injection**: every text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or
  a carriage return gets a leading ``'`` (:func:`neutralize`), so no cell is ever evaluated.

Example:
    >>> neutralize("=HYPERLINK(1)")
    "'=HYPERLINK(1)"
    >>> filename("330226001", "2024-12-31", "csv")
    'visit-list-330226001-2024-12-31.csv'
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
from collections.abc import Callable, Sequence

from serving.api.schemas import ListEntry

COLUMNS = (
    "rank", "household_ref", "masked_name", "village_code", "band", "probability",
    "top_reasons", "gaps", "verify", "exploration", "model_version", "purpose",
    "withheld_reasons", "exported_by", "exported_at",
)  # fmt: skip
NUMERIC = frozenset({"rank", "probability", "withheld_reasons"})
SENSITIVE_GROUPS = {
    "health": frozenset({"early_warning_illness", "early_warning_disability", "medical_burden"}),
    "income": frozenset({"income", "arrears", "assistance"}),
}
"""Feature groups (``features.vectors.catalogue``) whose reasons a file carries only on request."""
_SENSITIVE = frozenset().union(*SENSITIVE_GROUPS.values())
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TOP_REASONS = 3
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

Cell = str | int | float


@dataclasses.dataclass(frozen=True)
class ExportTable:
    """What goes into a file: the header row, the rows, and the facts of an "about" sheet."""

    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    sheet: str = "visit list"
    about_sheet: str = "about"
    about: Sequence[tuple[str, str]] = ()


@dataclasses.dataclass(frozen=True)
class Labels:
    """How values read in the page's language."""

    lang: str
    band: Callable[[str], str]
    program: Callable[[str], str]
    yes: str
    no: str
    context: str = ""

    @property
    def sep(self) -> str:
        """Between items of one cell."""
        return "；" if self.lang == "zh" else "; "


@dataclasses.dataclass(frozen=True)
class Stamp:
    """Who exported a file, when (UTC, ISO 8601), and the purpose given for health and income
    reasons (None: they are left out)."""

    token_id: str
    at: str
    sensitive_purpose: str | None = None


def is_sensitive(feature_name: str, group: str | None = None) -> bool:
    """Whether a reason is a health or income fact: by its feature's catalogue group, else by the
    group stored with it; a reason of no known group counts as sensitive."""
    from features.vectors.catalogue import feature

    with contextlib.suppress(KeyError):
        group = feature(feature_name).group
    return group is None or group in _SENSITIVE


def neutralize(text: str) -> str:
    """``text`` made inert for spreadsheets: a leading ``'`` when it could start a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def entry_row(
    entry: ListEntry, labels: Labels, model_version: str, purpose: str, stamp: Stamp
) -> list[Cell]:
    """One entry's cells, in :data:`COLUMNS` order."""
    from serving.pages import present

    causes, context = present.split_reasons(entry.reasons.model, labels.lang)
    withheld = 0
    if stamp.sensitive_purpose is None:
        kept = [r for r in causes if not is_sensitive(r.feature, r.group)]
        withheld = len(causes) - len(kept)
        causes = kept
    reasons = [r.text for r in causes[:TOP_REASONS]]
    reasons += [labels.context + r.text for r in context]
    gaps = present.gaps_of(entry.reasons.programs, entry.reasons.gaps).codes
    verify = dict.fromkeys(v.en if labels.lang == "en" else v.zh for v in entry.verify)
    return [
        entry.rank,
        entry.household_ref,
        entry.masked_name or "",
        entry.village_code,
        labels.band(entry.band),
        round(float(entry.score), 4),
        labels.sep.join(reasons),
        labels.sep.join(labels.program(code) for code in gaps),
        labels.sep.join(verify),
        labels.yes if entry.exploration else labels.no,
        model_version,
        purpose,
        withheld,
        stamp.token_id,
        stamp.at,
    ]


def _text_cells(row: Sequence[Cell]) -> list[Cell]:
    return [
        cell if name in NUMERIC else neutralize(str(cell))
        for name, cell in zip(COLUMNS, row, strict=True)
    ]


def to_csv(table: ExportTable) -> bytes:
    """The table as CSV: UTF-8 with a byte-order mark (Excel reads the Chinese right), CRLF."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralize(h) for h in table.headers])
    for row in table.rows:
        writer.writerow(_text_cells(row))
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(table: ExportTable) -> bytes:
    """The table as an XLSX workbook: the list sheet (text cells typed as text, header frozen
    and filtered) and an "about" sheet with the list's facts."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.utils import get_column_letter

    def put(ws, r: int, c: int, value: Cell, numeric: bool = False) -> None:
        if numeric and isinstance(value, int | float):
            cell = ws.cell(row=r, column=c, value=value)
            cell.number_format = "0" if isinstance(value, int) else "0.0000"
            return
        cell = ws.cell(row=r, column=c, value=ILLEGAL_CHARACTERS_RE.sub("", neutralize(str(value))))
        cell.data_type = "s"
        cell.number_format = "@"

    wb = Workbook()
    ws = wb.active
    ws.title = table.sheet[:31]
    for c, header in enumerate(table.headers, start=1):
        put(ws, 1, c, header)
    for r, row in enumerate(table.rows, start=2):
        for c, (name, value) in enumerate(zip(COLUMNS, row, strict=True), start=1):
            put(ws, r, c, value, numeric=name in NUMERIC)
    widths = {"rank": 6, "probability": 10, "exploration": 8, "model_version": 10}
    for c, name in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(c)].width = widths.get(name, 28)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(len(table.rows) + 1, 1)}"
    about = wb.create_sheet(table.about_sheet[:31])
    for r, (key, value) in enumerate(table.about, start=1):
        put(about, r, 1, key)
        put(about, r, 2, value)
    about.column_dimensions["A"].width = 24
    about.column_dimensions["B"].width = 100
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def filename(code: str, as_of: str, ext: str) -> str:
    """``visit-list-{code}-{as_of}.{ext}``."""
    return f"visit-list-{code}-{as_of}.{ext}"


def content_disposition(name: str) -> str:
    """An attachment header for an ASCII file name."""
    return f'attachment; filename="{name}"'
