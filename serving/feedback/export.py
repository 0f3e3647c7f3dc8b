"""Visit outcomes recorded by caseworkers, written as a delivery of the visits agency.

``outreach outcomes export`` closes the loop: the outcomes in the service database's
``visit_outcomes`` become ``<raw>/agencies/visits/<YYYY-MM>-outreach.parquet``, a delivery that
``outreach ingest`` reads like any other (delivery id ``visits-<YYYY-MM>-outreach``; the
``-outreach`` suffix keeps it apart from the visits agency's own ``<YYYY-MM>.parquet``). Ingest,
link and features then turn it into labels for the next training, so ``training`` never imports
``serving``.

One file per month **of recording**: a month holds the outcomes recorded (``recorded_at``, as a
local date in :data:`core.months.LOCAL_TZ`) in that month, and is exported only once it is over,
since its extract date is the month end (as for every delivery) and a delivery is never
rewritten. Each row:

- ``record_id`` = ``visit_id`` = ``OUT`` + the outcome's row id on 10 digits (stable);
- ``event_date`` = the visit date, ``recorded_date`` = the local recording date,
  ``extract_date`` = the month end, ``delivery_id`` = ``visits-<YYYY-MM>-outreach``;
- the subject is the household head on the visit date (:mod:`serving.feedback.subjects`):
  ``name``, ``birth_date``, ``sex`` and ``village_code`` as the warehouse held them;
- ``id_number`` is **always null**. The warehouse keeps no clear ID number (only keyed hashes),
  and an export must not become a way to put ID numbers back into circulation; linkage matches
  the row to the head by name, birth date, sex and village, as it does for any record without a
  usable ID;
- ``trigger`` = ``outreach_list`` (the outcome names the scoring run whose list held the
  household); ``outcome`` as recorded (``in_need``, ``not_in_need``, ``not_found``);
- the contract's optional columns, from the list entry behind the visit: ``list_run_id`` (the
  outcome's run), ``list_rank``, ``list_exploration`` and ``list_selection_probability`` (null
  when the household was not on that run's list, and for entries stored before probabilities
  were logged), so that visit outcomes can be weighted as labels.

Outcomes that cannot be exported are never dropped silently: they are returned (and reported by
the command) with a reason from :data:`UNEXPORTED_REASONS`. Caseworkers' notes, the programs
started and who recorded the outcome are not exported. Exporting a month again writes nothing
new: the same rows give the same file (an existing file holding the same rows is left as it is),
and ingest skips a delivery it already holds. A file that exists with *different* rows is an
error (:class:`~core.errors.OutputExistsError`): a delivery may have been ingested already,
and a correction must be a new delivery.

Example:
    >>> result = export_outcomes(settings, "2024-05")  # doctest: +SKIP
    >>> [d.path.name for d in result.deliveries], len(result.unexported)  # doctest: +SKIP
    (['2024-05-outreach.parquet'], 2)
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from core.contracts import CONTRACTS
from core.errors import ConfigError, OutputExistsError
from core.months import LOCAL_TZ, local_date, month_end
from core.settings import Settings
from features import warehouse
from features.ingest import REASONS, check_rows
from serving.feedback.subjects import check_linked, heads_on
from serving.store import db
from serving.store.tables import list_entries, visit_outcomes

AGENCY = "visits"
SOURCE = "outreach"
"""Suffix of the delivery's file name and id (``<YYYY-MM>-outreach``; see ``features.ingest``)."""
RECORD_PREFIX = "OUT"
TRIGGER = "outreach_list"
EXPORTED_OUTCOMES = ("in_need", "not_in_need", "not_found")
UNEXPORTED_REASONS: dict[str, str] = {
    "no_finding": "outcome 'visited' records no finding (in need, not in need or not found), "
    "so it is no label",
    "not_listed": "no scoring run: the household was not visited from an Outreach list, and the "
    "visits contract has no trigger for such a visit",
    "no_household": "the household has no member in the warehouse on the visit date",
    "no_head": "the household has no head in the warehouse on the visit date",
    "no_identity": "the household head has no named record on or before the visit date",
    "contract": "the row would break the visits contract (the detail names ingest's reason)",
}
"""Why an outcome is not in the delivery, in the order outcomes are checked."""
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Unexported:
    """An outcome left out of the delivery, and why (no personal data)."""

    outcome_id: int
    month: str
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class MonthDelivery:
    """One month's delivery file: ``written``, ``unchanged`` (already there, same rows) or
    ``empty`` (no exportable outcome: no file)."""

    month: str
    delivery_id: str
    path: Path
    rows: int
    status: str


@dataclass
class ExportResult:
    """What an export did (the command's report; JSON-ready through :meth:`as_dict`)."""

    outcomes_read: int = 0
    deliveries: list[MonthDelivery] = field(default_factory=list)
    unexported: list[Unexported] = field(default_factory=list)

    @property
    def rows_exported(self) -> int:
        return sum(d.rows for d in self.deliveries)

    def unexported_by_reason(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for u in self.unexported:
            counts[u.reason] = counts.get(u.reason, 0) + 1
        return dict(sorted(counts.items()))

    def as_dict(self) -> dict:
        return {
            "outcomes_read": self.outcomes_read,
            "rows_exported": self.rows_exported,
            "deliveries": [{**asdict(d), "path": str(d.path)} for d in self.deliveries],
            "unexported_by_reason": self.unexported_by_reason(),
            "unexported": [asdict(u) for u in self.unexported],
            "reason_codes": UNEXPORTED_REASONS,
        }


# ------------------------------------------------------------------------------ small helpers
def parse_month(text: str) -> tuple[int, int]:
    """``'YYYY-MM'`` as (year, month).

    Raises:
        ConfigError: not a month.
    """
    m = MONTH.match(text.strip()) if isinstance(text, str) else None
    if m is None or not 1 <= int(m.group(2)) <= 12:
        raise ConfigError(f"--month must be a month as YYYY-MM, not {text!r}")
    return int(m.group(1)), int(m.group(2))


def record_id(outcome_id: int) -> str:
    """The stable record (and visit) id of an outcome row: ``OUT0000000042``."""
    return f"{RECORD_PREFIX}{outcome_id:010d}"


def delivery_path(raw: Path, month: str) -> Path:
    """Where a month's delivery goes under a raw folder (what ``outreach ingest --raw`` reads)."""
    return raw / "agencies" / AGENCY / f"{month}-{SOURCE}.parquet"


def _utc_start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=LOCAL_TZ).astimezone(UTC)


# ------------------------------------------------------------------------------------ reading
def _service_engine(settings: Settings) -> sa.Engine:
    url = settings.service_db_url
    path = db.sqlite_path(url)
    if path is not None and not path.exists():
        raise ConfigError(f"no service database at {path}; outcomes are recorded by the service")
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            present = sa.inspect(conn).has_table(visit_outcomes.name)
    except sa.exc.OperationalError:
        engine.dispose()
        raise ConfigError(f"cannot open the service database {db.safe_url(url)}") from None
    if not present:
        engine.dispose()
        raise ConfigError(f"the service database {db.safe_url(url)} has no visit_outcomes table")
    return engine


OUTCOME_COLUMNS = ["id", "household_id", "visit_date", "outcome", "recorded_at", "run_id",
                   "list_rank", "list_exploration", "list_selection_probability"]  # fmt: skip


def read_outcomes(engine: sa.Engine, start: datetime, end: datetime) -> pd.DataFrame:
    """Outcomes recorded in ``[start, end)`` (UTC), by row id, with their local recording date
    and the list entry of their run that held the household (rank, exploration flag, selection
    probability; null when the household was not on that run's list)."""
    v, le = visit_outcomes, list_entries
    entry = sa.and_(le.c.run_id == v.c.run_id, le.c.household_id == v.c.household_id)
    query = (
        sa.select(
            v.c.id,
            v.c.household_id,
            v.c.visit_date,
            v.c.outcome,
            v.c.recorded_at,
            v.c.run_id,
            le.c.rank,
            le.c.exploration,
            le.c.selection_probability,
        )  # fmt: skip
        .outerjoin(le, entry)
        .where(v.c.recorded_at >= start, v.c.recorded_at < end)
        .order_by(v.c.id, le.c.rank)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=OUTCOME_COLUMNS).drop_duplicates("id", keep="first")
    frame = frame.reset_index(drop=True)
    frame["visit_date"] = pd.Series(
        [pd.Timestamp(d).date() for d in frame["visit_date"]], dtype=object
    )
    frame["recorded_date"] = [local_date(t) for t in frame["recorded_at"]]
    frame["month"] = [f"{d:%Y-%m}" for d in frame["recorded_date"]]
    return frame


# ----------------------------------------------------------------------------------- building
def build_delivery(
    month: str, outcomes: pd.DataFrame, subjects: pd.DataFrame
) -> tuple[pa.Table, list[Unexported]]:
    """The delivery table of one month's outcomes, and the outcomes left out.

    Args:
        month: ``YYYY-MM`` (the month of recording).
        outcomes: rows of :func:`read_outcomes` of that month.
        subjects: per outcome id (index), the head's fields and a reason
            (:func:`serving.feedback.subjects.heads_on`); outcomes not in it were not looked up.

    Rows the contract would refuse are checked with ingest's own rules
    (:func:`features.ingest.check_rows`), so ingest quarantines nothing that is exported.
    """
    contract = CONTRACTS[AGENCY]
    year, mon = parse_month(month)
    extract = month_end(year, mon)
    delivery_id = f"{AGENCY}-{month}-{SOURCE}"
    left: list[Unexported] = []
    rows = []
    for o in outcomes.sort_values("id").itertuples(index=False):
        reason = _early_reason(o.outcome, o.run_id)
        subject = subjects.loc[o.id] if not reason else None
        if subject is not None and subject["reason"]:
            reason = subject["reason"]
        if reason:
            left.append(Unexported(int(o.id), month, reason))
            continue
        rows.append(
            {
                "delivery_id": delivery_id,
                "extract_date": extract,
                "record_id": record_id(int(o.id)),
                "event_date": o.visit_date,
                "recorded_date": o.recorded_date,
                "id_number": None,
                "name": _value(subject["name"]),
                "birth_date": _value(subject["birth_date"]),
                "sex": _value(subject["sex"]),
                "visit_id": record_id(int(o.id)),
                "trigger": TRIGGER,
                "outcome": o.outcome,
                "village_code": _value(subject["village_code"]),
                "list_run_id": o.run_id,
                **_entry_fields(o),
            }
        )
    schema = contract.arrow_schema(optional=True)
    table = pa.Table.from_pylist(rows, schema=_nullable(schema))
    checked = check_rows(contract, table, delivery_id, extract)
    if (checked.reason != 0).any():
        names = list(REASONS)
        for i in (checked.reason != 0).nonzero()[0]:
            code = int(checked.reason[i])
            detail = f"{names[code - 1]} ({checked.detail[i]})"
            left.append(Unexported(int(rows[i]["record_id"][3:]), month, "contract", detail))
        table = table.filter(pa.array(checked.reason == 0))
    left.sort(key=lambda u: u.outcome_id)
    return table.cast(schema), left


def _entry_fields(o: Any) -> dict[str, object]:
    """The list entry's optional columns of an outcome row (null where it has none)."""
    rank, explore, prob = (_value(getattr(o, c, None)) for c in OUTCOME_COLUMNS[-3:])
    return {
        "list_rank": None if rank is None else int(rank),  # type: ignore[call-overload]
        "list_exploration": None if explore is None else bool(explore),
        "list_selection_probability": None if prob is None else float(prob),  # type: ignore[arg-type]
    }


def _value(v: object) -> object:
    """A cell as a plain value: None for every kind of empty (None, NaN, NaT)."""
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v


def _early_reason(outcome: str, run_id: object) -> str:
    if outcome not in EXPORTED_OUTCOMES:
        return "no_finding"
    if not isinstance(run_id, str) or not run_id:  # None, or NaN from a pandas string column
        return "not_listed"
    return ""


def _nullable(schema: pa.Schema) -> pa.Schema:
    """The schema with every field nullable (the contract check reports the empty values)."""
    return pa.schema([f.with_nullable(True) for f in schema], metadata=schema.metadata)


def look_up_subjects(con: duckdb.DuckDBPyConnection, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Per outcome id, the household head's fields on the visit date (one query per date)."""
    parts = []
    pairs = zip(outcomes["outcome"], outcomes["run_id"], strict=True)
    wanted = outcomes[[_early_reason(o, r) == "" for o, r in pairs]]
    for day, group in wanted.groupby("visit_date", sort=True):
        heads = heads_on(con, day, group["household_id"])
        parts.append(group[["id", "household_id"]].merge(heads, on="household_id", how="left"))
    if not parts:
        return pd.DataFrame(columns=["name", "birth_date", "sex", "village_code", "reason"])
    return pd.concat(parts, ignore_index=True).set_index("id")


# ------------------------------------------------------------------------------------ writing
def _parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def _same_rows(path: Path, table: pa.Table) -> bool:
    try:
        return pq.read_table(path).equals(table)
    except (pa.ArrowException, OSError):
        return False


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------- run
def export_outcomes(
    settings: Settings,
    month: str | None = None,
    out: Path | None = None,
    today: date | None = None,
) -> ExportResult:
    """Export recorded visit outcomes as visits deliveries (see the module docstring).

    Args:
        settings: paths of the workspace, the warehouse and the service database.
        month: the month of recording to export (``YYYY-MM``); None: every month that is over
            and holds outcomes.
        out: the raw folder to write to (default ``<workspace>/data/raw``, where ingest reads).
        today: the local date (default: now in :data:`core.months.LOCAL_TZ`); only months that
            ended before it are exported.

    Raises:
        ConfigError: a bad or unfinished month, no service database, no linked warehouse, or
            no outcome recorded in the period.
        OutputExistsError: a delivery file exists with different rows.
    """
    today = today or datetime.now(LOCAL_TZ).date()
    first_open = (today.year, today.month)
    if month is not None:
        year, mon = parse_month(month)
        if (year, mon) >= first_open:
            raise ConfigError(
                f"{month} is not over yet (local date {today}); export it from the next month on"
            )
        next_year, next_month0 = divmod(year * 12 + mon, 12)  # the month after, 0-based
        start, end = _utc_start(year, mon), _utc_start(next_year, next_month0 + 1)
    else:
        start, end = datetime(1970, 1, 1, tzinfo=UTC), _utc_start(*first_open)
    engine = _service_engine(settings)
    try:
        outcomes = read_outcomes(engine, start, end)
    finally:
        engine.dispose()
    period = month or f"the months before {today:%Y-%m}"
    if outcomes.empty:
        raise ConfigError(f"no visit outcome was recorded in {period}")
    if not settings.warehouse_path.exists():
        raise ConfigError(f"no warehouse at {settings.warehouse_path}; run `outreach ingest`")
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        if not check_linked(con):
            raise ConfigError("the warehouse has no household memberships; run `outreach link`")
        subjects = look_up_subjects(con, outcomes)
    raw = out if out is not None else settings.raw_dir
    result = ExportResult(outcomes_read=len(outcomes))
    pending: list[tuple[Path, bytes]] = []
    for mon_text, group in outcomes.groupby("month", sort=True):
        table, left = build_delivery(str(mon_text), group, subjects)
        result.unexported.extend(left)
        path = delivery_path(raw, str(mon_text))
        delivery_id = f"{AGENCY}-{mon_text}-{SOURCE}"
        if table.num_rows == 0:
            status = "empty"
        elif path.exists() and _same_rows(path, table):
            status = "unchanged"
        elif path.exists():
            raise OutputExistsError(
                f"{path} already holds different outcomes for {mon_text}; a delivery is never "
                "rewritten (remove the file only if it was never ingested)"
            )
        else:
            status = "written"
            pending.append((path, _parquet_bytes(table)))
        result.deliveries.append(
            MonthDelivery(str(mon_text), delivery_id, path, table.num_rows, status)
        )
    for path, data in pending:  # nothing is written unless every month can be
        _write(path, data)
    return result
