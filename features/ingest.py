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
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core import idnumber
from core.contracts import CONTRACTS, Column, Contract
from core.errors import ConfigError, DataContractError
from features import warehouse
from features.pseudonym import Pseudonymizer

REASONS: dict[str, str] = {
    "bad_type": "a value cannot be read as its column's type",
    "missing_value": "a required value is empty",
    "not_allowed": "a value is not one of its column's allowed values",
    "out_of_range": "a number is outside its column's range",
    "bad_code": "a division code is not 12 digits",
    "impossible_date": "birth date after the event or before 1880, or event after its recording",
    "after_extract": "event or recorded date after the delivery's extract date",
    "wrong_delivery": "delivery_id or extract_date differs from the file's delivery",
    "duplicate_record": "exact copy of an accepted record (same record key and content)",
    "conflicting_record": "record key already used by a different record",
}
"""Quarantine reason codes, in the order rows are checked (a row gets its first failing reason)."""

ENCODINGS = ("auto", "utf-8", "gbk")
FILE_NAME = re.compile(r"^(\d{4})-(\d{2})(?:-([a-z][a-z0-9_]{0,31}))?\.(parquet|csv)$")
"""A delivery file name: ``YYYY-MM`` with an optional ``-<source>`` suffix (see the module doc)."""
VILLAGE = re.compile(r"^\d{12}$")
MIN_DATE = date(idnumber.MIN_BIRTH_YEAR, 1, 1)
_HASH_SKIP = ("delivery_id", "extract_date")


@dataclass
class DeliveryResult:
    """What happened to one delivery file (the reconciliation report's row)."""

    agency: str
    file_name: str
    delivery_id: str
    status: str  # accepted | rejected | unchanged
    reason: str = ""
    rows_received: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    id_status: dict[str, int] = field(default_factory=dict)
    examples: list[dict] = field(default_factory=list)  # masked evidence of quarantined rows

    @property
    def reconciles(self) -> bool:
        if self.status != "accepted":
            return True
        return (
            self.rows_received == self.rows_accepted + self.rows_quarantined
            and sum(self.by_reason.values()) == self.rows_quarantined
        )

    def as_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["reconciles"] = self.reconciles
        return d


class RejectedDelivery(DataContractError):
    """A whole delivery file is refused."""


# ----------------------------------------------------------------------------------- reading
def find_deliveries(raw: Path) -> list[tuple[str, Path]]:
    """Every delivery file under ``raw/agencies/<agency>/``, in agency and file order.

    Folders of unknown agencies are reported as rejected deliveries by :func:`ingest`.
    """
    root = raw / "agencies"
    if not root.is_dir():
        raise ConfigError(f"{raw} has no agencies/ folder of deliveries")
    out: list[tuple[str, Path]] = []
    for agency_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for f in sorted(agency_dir.iterdir()):
            if f.is_file() and not f.name.startswith("."):
                out.append((agency_dir.name, f))
    return out


def _decode(data: bytes, encoding: str, name: str) -> str:
    if encoding == "auto":
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                return data.decode("gb18030")
            except UnicodeDecodeError as exc:
                raise RejectedDelivery(
                    f"{name}: neither UTF-8 nor GBK (bad byte at offset {exc.start})"
                ) from None
    codec = {"utf-8": "utf-8-sig", "gbk": "gb18030"}[encoding]
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        other = "gbk" if encoding == "utf-8" else "utf-8"
        raise RejectedDelivery(
            f"{name}: not valid {encoding.upper()} (bad byte at offset {exc.start}); "
            f"declare --encoding {other} or auto"
        ) from None


def read_delivery(path: Path, encoding: str = "auto") -> pa.Table | pd.DataFrame:
    """Read one delivery: Parquet as an Arrow table (its own column types, checked later against
    the contract), CSV as a frame of text values.

    Raises:
        RejectedDelivery: the file cannot be read.
    """
    name = f"{path.parent.name}/{path.name}"
    if path.stat().st_size == 0:
        raise RejectedDelivery(f"{name}: empty file")
    if path.suffix == ".parquet":
        try:
            return pq.read_table(path)
        except (pa.ArrowException, OSError) as exc:
            first = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            raise RejectedDelivery(f"{name}: not a readable Parquet file ({first})") from None
    text = _decode(path.read_bytes(), encoding, name)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise RejectedDelivery(f"{name}: not a readable CSV file ({exc})") from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise RejectedDelivery(f"{name}: no header row")
    header = [h.strip() for h in rows[0]]
    body = [r for r in rows[1:] if r]
    if any(len(r) != len(header) for r in body):
        bad = next(i for i, r in enumerate(body, start=2) if len(r) != len(header))
        raise RejectedDelivery(
            f"{name}: line {bad} has a different number of fields than the header"
        )
    frame = pd.DataFrame(body, columns=header, dtype=object)
    return frame.mask(frame == "", None)


def read_table(path: Path, encoding: str = "auto") -> pd.DataFrame:
    """Any user table (CSV as text in UTF-8 or GBK, or Parquet) as a frame, for the commands
    that take ``--table``.

    Raises:
        ConfigError: the path is not a .csv or .parquet file.
        DataContractError: the file cannot be read or has no rows (one line).
    """
    if not path.is_file():
        raise ConfigError(f"--table {path} is not a file")
    if path.suffix not in (".csv", ".parquet"):
        raise ConfigError("--table must be a .csv or .parquet file")
    try:
        raw = read_delivery(path, encoding)
    except RejectedDelivery as exc:
        raise DataContractError(str(exc).replace(f"{path.parent.name}/", "", 1)) from None
    frame = raw.to_pandas() if isinstance(raw, pa.Table) else raw
    if len(frame) == 0:
        raise DataContractError(f"{path.name}: no rows")
    return frame.reset_index(drop=True)


# -------------------------------------------------------------------------------- validation
_FAST = {
    "string": (pa.types.is_string, pa.types.is_large_string),
    "date": (pa.types.is_date32, pa.types.is_date64),
    "int": (pa.types.is_integer,),
    "float": (pa.types.is_floating, pa.types.is_integer),
    "bool": (pa.types.is_boolean,),
}


def _coerce(col: Column, values: pa.ChunkedArray | pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Values converted to the column's type, and a mask of values that could not be.

    Strings come back as objects, dates as ``datetime64`` (NaT for empty), numbers as floats
    (NaN for empty). Arrow columns already of the right type take a fast path.
    """
    if isinstance(values, pa.ChunkedArray):
        if any(test(values.type) for test in _FAST[col.dtype]):
            if col.dtype == "date":
                out = pd.Series(values.cast(pa.timestamp("s")).to_pandas())
            elif col.dtype in ("int", "float"):
                out = pd.Series(values.cast(pa.float64()).to_numpy(zero_copy_only=False))
            else:
                out = pd.Series(values.cast(pa.string()).to_pandas())  # pandas' Arrow strings
            return out, np.zeros(len(out), bool)
        values = pd.Series(values.to_pylist(), dtype=object)
    present = values.notna().to_numpy()
    if col.dtype == "string":
        out = values.map(lambda v: v if isinstance(v, str) or v is None else str(v))
        return out.astype(object), np.zeros(len(values), bool)
    if col.dtype == "date":
        text = values.map(lambda v: v.isoformat()[:10] if isinstance(v, date) else v)
        parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        return parsed, present & parsed.isna().to_numpy()
    if col.dtype in ("int", "float"):
        text = values.map(lambda v: v.strip() if isinstance(v, str) else v)
        nums = pd.to_numeric(text, errors="coerce").astype(float)
        bad = present & nums.isna().to_numpy()
        if col.dtype == "int":
            frac = (nums.notna() & (nums != np.floor(nums.fillna(0)))).to_numpy()
            bad |= frac
            nums = nums.where(~frac)
        return nums, bad
    if col.dtype == "bool":
        mapping = {True: True, False: False, "true": True, "false": False, "1": True, "0": False}
        out = values.map(lambda v: mapping.get(v.lower() if isinstance(v, str) else v))
        return out, present & out.isna().to_numpy()
    raise AssertionError(col.dtype)


@dataclass
class _Checked:
    frame: pd.DataFrame  # converted values
    reason: np.ndarray  # 0 for accepted rows, else the first reason's code (see _CODE)
    detail: np.ndarray  # the column concerned


_CODE = {name: i + 1 for i, name in enumerate(REASONS)}
_NAMES = np.array([""] + list(REASONS), dtype=object)


def _flag(reason: np.ndarray, detail: np.ndarray, mask: np.ndarray, code: str, what: str) -> None:
    new = mask & (reason == 0)
    reason[new] = _CODE[code]
    detail[new] = what


def check_rows(
    contract: Contract, raw: pa.Table | pd.DataFrame, delivery_id: str, extract: date
) -> _Checked:
    """Convert every contract column and find each row's first problem (pure; no I/O)."""
    n = len(raw)
    present = set(raw.column_names if isinstance(raw, pa.Table) else raw.columns)
    reason = np.zeros(n, dtype=np.int8)  # 0: accepted, else 1 + index in REASONS
    detail = np.full(n, "", dtype=object)
    out = pd.DataFrame(index=pd.RangeIndex(n))
    for col in contract.columns:
        if col.name in present:
            values = raw.column(col.name) if isinstance(raw, pa.Table) else raw[col.name]
        else:
            values = pd.Series([None] * n, dtype=object)
        conv, bad = _coerce(col, values)
        _flag(reason, detail, bad, "bad_type", col.name)
        out[col.name] = conv
    for col in contract.columns:
        v = out[col.name]
        if not col.nullable:
            _flag(reason, detail, v.isna().to_numpy(), "missing_value", col.name)
        if col.allowed:
            _flag(
                reason,
                detail,
                (v.notna() & ~v.isin(col.allowed)).to_numpy(),
                "not_allowed",
                col.name,
            )
        if col.minimum is not None or col.maximum is not None:
            num = pd.to_numeric(v, errors="coerce")
            low = num < col.minimum if col.minimum is not None else False
            high = num > col.maximum if col.maximum is not None else False
            _flag(reason, detail, np.asarray(low | high, bool), "out_of_range", col.name)
    for name in ("village_code", "origin_village_code"):
        if name in out:
            v = out[name].astype("str")
            ok = v.str.fullmatch(VILLAGE.pattern).fillna(False).to_numpy(dtype=bool)
            _flag(reason, detail, out[name].notna().to_numpy() & ~ok, "bad_code", name)
    ev, rec = out["event_date"], out["recorded_date"]
    if "birth_date" in out:
        born = out["birth_date"]
        bad = (born > ev) | (born < pd.Timestamp(MIN_DATE))
        _flag(reason, detail, bad.to_numpy(dtype=bool), "impossible_date", "birth_date")
    _flag(reason, detail, (ev > rec).to_numpy(dtype=bool), "impossible_date", "event_date")
    limit = pd.Timestamp(extract)
    _flag(reason, detail, (rec > limit).to_numpy(dtype=bool), "after_extract", "recorded_date")
    _flag(reason, detail, (ev > limit).to_numpy(dtype=bool), "after_extract", "event_date")
    _flag(
        reason,
        detail,
        (out["delivery_id"] != delivery_id).to_numpy(),
        "wrong_delivery",
        "delivery_id",
    )
    wrong_extract = out["extract_date"].notna() & (out["extract_date"] != limit)
    _flag(reason, detail, wrong_extract.to_numpy(dtype=bool), "wrong_delivery", "extract_date")
    return _Checked(out, reason, detail)


def row_hashes(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """A 64-bit content hash of each row over ``columns`` (tells duplicates from conflicts).

    The delivery columns are left out, so a record repeated in a later delivery is a duplicate.
    """
    cols = [c for c in columns if c not in _HASH_SKIP]
    part = frame[cols].copy()
    for c in cols:  # text read from CSV: objects that are str or None
        if part[c].dtype == object:
            part[c] = part[c].astype("str")
    hashes = pd.util.hash_pandas_object(part, index=False).to_numpy(np.uint64)
    return np.char.mod("%016x", hashes).astype(object)


def _month_end(year: int, month: int) -> date:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def _json_rows(raw: pa.Table | pd.DataFrame, idx: np.ndarray) -> list[str]:
    if len(idx) == 0:
        return []
    if isinstance(raw, pa.Table):
        raw = raw.take(pa.array(idx)).to_pandas(date_as_object=True).astype(object)
        idx = np.arange(len(idx))

    def cell(v):
        if v is None or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
            return None
        return v.isoformat() if isinstance(v, date) else (v if isinstance(v, str) else str(v))

    sub = raw.iloc[idx]
    return [
        json.dumps({k: cell(v) for k, v in zip(sub.columns, row, strict=True)}, ensure_ascii=False)
        for row in sub.itertuples(index=False, name=None)
    ]


# ---------------------------------------------------------------------------------- loading
class Ingestor:
    """Loads deliveries into one warehouse connection."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, pseudonymizer: Pseudonymizer, encoding: str = "auto"
    ):
        if encoding not in ENCODINGS:
            raise ConfigError(f"--encoding must be one of {', '.join(ENCODINGS)}")
        self.con = con
        self.keys = pseudonymizer
        self.encoding = encoding
        self._id_cache: dict[str, tuple[str, str | None]] = {}  # raw ID -> (status, person key)
        self._check_secret()

    def _check_secret(self) -> None:
        row = warehouse.fetch_one(self.con, "SELECT value FROM meta WHERE key = 'hmac_fingerprint'")
        if row is None:
            self.con.execute(
                "INSERT INTO meta VALUES ('hmac_fingerprint', ?), ('schema_version', ?)",
                [self.keys.fingerprint, warehouse.SCHEMA_VERSION],
            )
        elif row[0] != self.keys.fingerprint:
            raise ConfigError(
                "the HMAC secret differs from the one this warehouse was built with; "
                "set OUTREACH_HMAC_KEY to the original secret or start a new workspace"
            )

    def ingest_file(self, agency: str, path: Path) -> DeliveryResult:
        name = f"{agency}/{path.name}"
        m = FILE_NAME.match(path.name)
        delivery_id = f"{agency}-{path.stem}" if m else path.stem  # <agency>-<YYYY-MM>[-<source>]
        result = DeliveryResult(agency, path.name, delivery_id, "rejected")
        try:
            if agency not in CONTRACTS:
                raise RejectedDelivery(f"{name}: unknown agency '{agency}'")
            if m is None:
                raise RejectedDelivery(f"{name}: file name must be YYYY-MM.parquet or YYYY-MM.csv")
            year, month = int(m.group(1)), int(m.group(2))
            if not 1 <= month <= 12:
                raise RejectedDelivery(f"{name}: no month {month}")
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
            seen = warehouse.fetch_one(
                self.con,
                "SELECT sha256, status FROM deliveries WHERE agency = ? AND file_name = ?",
                [agency, path.name],
            )
            if seen is not None and seen[1] == "accepted":
                if seen[0] == sha:
                    result.status = "unchanged"
                    return result
                raise RejectedDelivery(
                    f"{name}: already ingested with different content; send corrections as "
                    "a new delivery"
                )
            raw = read_delivery(path, self.encoding)
            result.rows_received = len(raw)
            contract = CONTRACTS[agency]
            have = set(raw.column_names if isinstance(raw, pa.Table) else raw.columns)
            missing = [c.name for c in contract.columns if not c.nullable and c.name not in have]
            if missing:
                raise RejectedDelivery(
                    f"{name}: missing required column{'s' if len(missing) > 1 else ''} "
                    + ", ".join(missing)
                )
            extract = _month_end(year, month)
            self._load(contract, raw, result, sha, extract)
            return result
        except RejectedDelivery as exc:
            result.status = "rejected"
            result.reason = str(exc)
            self.con.execute(
                "INSERT OR REPLACE INTO deliveries VALUES (?, ?, ?, NULL, NULL, ?, 0, 0, "
                "'rejected', ?, ?)",
                [delivery_id, agency, path.name, result.rows_received, result.reason, _now()],
            )
            return result

    def _load(
        self, contract: Contract, raw: pd.DataFrame, result: DeliveryResult, sha: str, extract
    ) -> None:
        agency = contract.agency
        checked = check_rows(contract, raw, result.delivery_id, extract)
        frame, reason, detail = checked.frame, checked.reason, checked.detail
        names = contract.column_names
        hashes = row_hashes(frame, names)
        # duplicates within the file, then against earlier deliveries
        ok = reason == 0
        keys = frame["record_id"].to_numpy(dtype=object)
        first = ~pd.Series(keys).where(ok).duplicated(keep="first").to_numpy() | ~ok
        later = ok & ~first
        if later.any():
            first_hash = pd.Series(hashes[ok & first], index=keys[ok & first])
            same = (pd.Series(keys).map(first_hash).to_numpy(object) == hashes) & later
            _flag(reason, detail, same, "duplicate_record", "record_id")
            _flag(reason, detail, later & ~same, "conflicting_record", "record_id")
        ok = reason == 0
        known = self._known_hashes(agency, keys[ok])
        if known:
            earlier = pd.Series(keys).map(known).to_numpy(object)
            hit = ok & pd.notna(earlier)
            same = hit & (earlier == hashes)
            _flag(reason, detail, same, "duplicate_record", "record_id")
            _flag(reason, detail, hit & ~same, "conflicting_record", "record_id")
        ok = reason == 0
        acc = frame[ok].copy()
        acc["row_no"] = np.flatnonzero(ok).astype(np.int32) + 1
        ids = self._ids(acc, contract)
        q_idx = np.flatnonzero(~ok)
        now = _now()
        quarantine = pd.DataFrame(
            {
                "agency": agency,
                "delivery_id": result.delivery_id,
                "file_name": result.file_name,
                "row_no": (q_idx + 1).astype(np.int32),
                "record_id": pd.Series(keys[q_idx], dtype=object).map(
                    lambda v: v if isinstance(v, str) else None
                ),
                "reason": _NAMES[reason[q_idx]].astype(str),
                "detail": detail[q_idx].astype(str),
                "raw_json": _json_rows(raw, q_idx),
                "quarantined_at": pd.Series([now] * len(q_idx), dtype="datetime64[us, UTC]"),
            }
        )
        result.examples = _examples(quarantine)
        rec_fields = [pa.field(c.name, c.arrow_type) for c in warehouse.record_columns(agency)]
        rec = _typed(acc, rec_fields + [pa.field("row_no", pa.int32())])
        persons = _typed(ids.assign(row_hash=hashes[ok]), PERSON_FIELDS)
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            con.register("incoming_rec", rec)
            con.execute(f"INSERT INTO {warehouse.record_table(agency)} SELECT * FROM incoming_rec")
            con.register("incoming_person", persons)
            con.execute("INSERT INTO person_records SELECT * FROM incoming_person")
            if len(quarantine):
                con.register("incoming_q", quarantine)
                con.execute("INSERT INTO quarantine SELECT * FROM incoming_q")
            codes, n_codes = np.unique(reason[q_idx], return_counts=True)
            counts = dict(zip(_NAMES[codes], n_codes, strict=True))
            result.rows_accepted = int(ok.sum())
            result.rows_quarantined = len(q_idx)
            result.by_reason = {str(k): int(v) for k, v in sorted(counts.items())}
            result.id_status = {
                str(k): int(v) for k, v in ids["id_status"].value_counts().sort_index().items()
            }
            result.status = "accepted"
            if not result.reconciles:
                raise DataContractError(
                    f"{result.agency}/{result.file_name}: counts do not reconcile"
                )
            con.execute(
                "INSERT OR REPLACE INTO deliveries "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'accepted', '', ?)",
                [
                    result.delivery_id,
                    agency,
                    result.file_name,
                    sha,
                    extract,
                    result.rows_received,
                    result.rows_accepted,
                    result.rows_quarantined,
                    now,
                ],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            for view in ("incoming_rec", "incoming_person", "incoming_q"):
                with contextlib.suppress(duckdb.Error):
                    con.unregister(view)

    def _known_hashes(self, agency: str, keys: np.ndarray) -> dict[str, str]:
        if len(keys) == 0:
            return {}
        probe = pa.table({"record_id": pa.array(list(keys), pa.string())})
        self.con.register("probe_keys", probe)
        try:
            rows = self.con.execute(
                "SELECT p.record_id, p.row_hash FROM person_records p JOIN probe_keys k "
                "USING (record_id) WHERE p.agency = ?",
                [agency],
            ).fetchall()
        finally:
            self.con.unregister("probe_keys")
        return dict(rows)

    def _ids(self, acc: pd.DataFrame, contract: Contract) -> pd.DataFrame:
        """The person_records rows of accepted rows: normalized IDs turned into keys."""
        agency = contract.agency
        raw_ids = acc["id_number"].reset_index(drop=True)
        raw_ids = raw_ids.astype(object).where(raw_ids.notna(), None)
        cache = self._id_cache
        for v in pd.unique(raw_ids.dropna()):
            if v not in cache:
                nid = idnumber.normalize(v)
                key = self.keys.person_key(nid.value) if nid.value is not None else None
                cache[v] = (nid.raw_status.value, key)
        present = pd.unique(raw_ids.dropna())
        status = raw_ids.map({v: cache[v][0] for v in present}).astype(object)
        status = status.where(status.notna(), "missing")
        person_key = raw_ids.map({v: cache[v][1] for v in present if cache[v][1] is not None})
        usable = person_key.notna()
        entity = warehouse.ENTITY_KEYS.get(agency, "")
        n = len(acc)
        none = pd.Series([None] * n, dtype=object)

        def col(name: str) -> pd.Series:
            return acc[name].reset_index(drop=True) if name in acc else none

        return pd.DataFrame(
            {
                "agency": pd.Series([agency] * n, dtype=object),
                "record_id": col("record_id"),
                "delivery_id": col("delivery_id"),
                "event_date": col("event_date"),
                "recorded_date": col("recorded_date"),
                "name": col("name"),
                "birth_date": col("birth_date"),
                "sex": col("sex"),
                "village_code": col("village_code"),
                "entity_key": (agency + ":" + col(entity).astype(str)) if entity else none,
                "id_status": status.astype(object),
                "person_key": person_key.astype(object),
                "id_invalid": raw_ids.where(~usable & raw_ids.notna(), None).astype(object),
            }
        )


EXAMPLES_PER_REASON = 3


def _examples(quarantine: pd.DataFrame) -> list[dict]:
    """A few quarantined rows per reason, with the ID number and name masked."""
    out = []
    for _, group in quarantine.groupby("reason", sort=True):
        for row in group.head(EXAMPLES_PER_REASON).itertuples(index=False):
            raw = json.loads(row.raw_json)
            out.append(
                {
                    "row_no": int(row.row_no),
                    "record_id": row.record_id,
                    "reason": row.reason,
                    "column": row.detail,
                    "value": _masked_value(row.detail, raw.get(row.detail)),
                    "id_number": idnumber.mask_id(raw.get("id_number")),
                    "name": idnumber.mask_name(raw.get("name")),
                }
            )
    return out


def _masked_value(column: str, value):
    if column in ("id_number", "name", "birth_date"):
        return "masked"
    return value


def _arrow_column(values: pd.Series, type_: pa.DataType) -> pa.Array:
    if pa.types.is_date32(type_):
        return pa.array(pd.to_datetime(values), type=pa.timestamp("s"), from_pandas=True).cast(
            type_
        )
    if pa.types.is_integer(type_):
        return pa.array(pd.to_numeric(values).astype("Int64"), type=type_, from_pandas=True)
    if pa.types.is_floating(type_):
        return pa.array(pd.to_numeric(values), type=type_, from_pandas=True)
    if pa.types.is_boolean(type_):
        return pa.array(values.astype(object).where(values.notna(), None).tolist(), type=type_)
    return pa.array(values, type=type_, from_pandas=True)


def _typed(frame: pd.DataFrame, fields: list[pa.Field]) -> pa.Table:
    arrays = [_arrow_column(frame[f.name], f.type) for f in fields]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


PERSON_FIELDS = [
    pa.field(n, t)
    for n, t in [
        ("agency", pa.string()), ("record_id", pa.string()), ("delivery_id", pa.string()),
        ("event_date", pa.date32()), ("recorded_date", pa.date32()), ("name", pa.string()),
        ("birth_date", pa.date32()), ("sex", pa.string()), ("village_code", pa.string()),
        ("entity_key", pa.string()), ("id_status", pa.string()), ("person_key", pa.string()),
        ("id_invalid", pa.string()), ("row_hash", pa.string()),
    ]
]  # fmt: skip
"""Columns of ``person_records``, in table order."""


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------------------------- the run
def ingest(
    con: duckdb.DuckDBPyConnection,
    raw: Path,
    pseudonymizer: Pseudonymizer,
    encoding: str = "auto",
    progress: Callable[[int, int, str], None] | None = None,
) -> list[DeliveryResult]:
    """Ingest every delivery under ``raw/agencies``; returns one result per file."""
    files = find_deliveries(raw)
    ingestor = Ingestor(con, pseudonymizer, encoding)
    con.execute("INSERT OR REPLACE INTO meta VALUES ('raw_dir', ?)", [str(raw.absolute())])
    results = []
    for i, (agency, path) in enumerate(files):
        results.append(ingestor.ingest_file(agency, path))
        if progress:
            progress(i + 1, len(files), agency)
    return results


def summarize(results: list[DeliveryResult]) -> dict:
    """The reconciliation report (JSON-ready; holds no ID number or name)."""
    by_agency: dict[str, dict] = {}
    reasons: dict[str, int] = {}
    for r in results:
        a = by_agency.setdefault(
            r.agency,
            {"deliveries": 0, "accepted": 0, "unchanged": 0, "rejected": 0, "rows_received": 0,
             "rows_accepted": 0, "rows_quarantined": 0},
        )  # fmt: skip
        a["deliveries"] += 1
        a[r.status] += 1
        a["rows_received"] += r.rows_received if r.status == "accepted" else 0
        a["rows_accepted"] += r.rows_accepted
        a["rows_quarantined"] += r.rows_quarantined
        for k, v in r.by_reason.items():
            reasons[k] = reasons.get(k, 0) + v
    return {
        "generated_at": _now().isoformat(),
        "reconciles": all(r.reconciles for r in results),
        "by_agency": by_agency,
        "quarantine_by_reason": dict(sorted(reasons.items())),
        "reason_codes": REASONS,
        "rejected": [r.reason for r in results if r.status == "rejected"],
        "deliveries": [r.as_dict() for r in results],
    }


def iter_rejections(results: list[DeliveryResult]) -> Iterator[str]:
    for r in results:
        if r.status == "rejected":
            yield r.reason
