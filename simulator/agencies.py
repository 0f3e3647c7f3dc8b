"""How agencies observe the world: person fields with defects, delays, and monthly deliveries.

The world emits *events* (one row per thing an agency would record, with the true person and
household). :class:`Recorder` turns them into agency records: it assigns record keys, event and
recorded dates, writes the person fields as the agency holds them (mistyped, legacy or missing
ID numbers, name variants), duplicates a share of rows exactly, and routes each record to the
delivery of the month it was recorded in, or to the next delivery when that month's file is
missing. Truth about each record (true person, injected defects) goes to ``truth/records/``.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
import pyarrow.parquet as pq

from core import idnumber
from core.contracts import CONTRACTS
from simulator.config import DefectRates
from simulator.defects_hard import FLAGS as HARD_FLAGS
from simulator.defects_hard import HardDefects
from simulator.names import name_variants
from simulator.streams import Streams, combine, mix64, word

PREFIX = {
    "civil_registry": "CR",
    "civil_assistance": "CA",
    "medical_claims": "MC",
    "disability_registry": "DR",
    "education": "ED",
    "hr_unemployment": "HU",
    "hr_contributions": "HC",
    "vehicle_registry": "VR",
    "property_registry": "PR",
    "business_registry": "BR",
    "utility_arrears": "UA",
    "rural_monitoring": "RM",
    "visits": "VI",
}
TRUTH_SCHEMA = pa.schema(
    [
        ("record_id", pa.string()),
        ("person_id", pa.int64()),
        ("household_id", pa.int64()),
        ("delivery_id", pa.string()),
        ("id_mistyped", pa.bool_()),
        ("id_legacy", pa.bool_()),
        ("id_missing", pa.bool_()),
        ("name_variant", pa.bool_()),
        ("duplicated", pa.bool_()),
        ("delay_days", pa.int32()),
    ]
)
PARQUET_OPTS = {
    "compression": "zstd",
    "compression_level": 1,
    "use_dictionary": True,
    "write_statistics": True,
}


def codes(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Fixed-width codes ``prefix + zero-padded number`` as a bytes array, built without loops."""
    numbers = np.asarray(numbers, dtype=np.int64)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = ((numbers[:, None] // powers) % 10 + 48).astype(np.uint8)
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    mat = np.concatenate([np.broadcast_to(head, (len(numbers), len(head))), digits], axis=1)
    return np.ascontiguousarray(mat).view(f"S{len(head) + width}").ravel()


def _ascii_to_arrow(chars: np.ndarray) -> pa.Array:
    """Arrow strings straight from fixed-width ASCII (an ``S`` array or an n x width uint8
    matrix), NUL padding removed, without a per-string loop."""
    if chars.dtype.kind == "S":
        chars = np.ascontiguousarray(chars).view(np.uint8).reshape(len(chars), -1)
    n = len(chars)
    keep = chars != 0
    offsets = np.zeros(n + 1, np.int32)
    if keep.all():
        offsets[1:] = np.arange(1, n + 1, dtype=np.int32) * chars.shape[1]
        data = np.ascontiguousarray(chars).ravel()
    else:
        np.cumsum(keep.sum(axis=1), out=offsets[1:])
        data = chars[keep]
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _strings(values: np.ndarray, mask: np.ndarray | None) -> pa.Array:
    """A string column from a numpy unicode array; ASCII takes a loop-free path."""
    if values.dtype.kind == "U" and len(values) and values.dtype.itemsize:
        points = np.ascontiguousarray(values).view(np.uint32).reshape(len(values), -1)
        if points.max() < 128:
            arr = _ascii_to_arrow(points.astype(np.uint8))
            if mask is not None and mask.any():
                arr = pa.compute.if_else(pa.array(mask), pa.nulls(len(arr), pa.string()), arr)
            return arr
    return pa.array(values, pa.string(), mask=mask)


def _column_words(values) -> np.ndarray:
    """One 64-bit word per row of a field column, from its content (any dtype)."""
    if isinstance(values, pa.Array):
        values = np.asarray(values.to_numpy(zero_copy_only=False), dtype=str)
    v = np.asarray(values)
    if v.dtype.kind == "O":
        v = v.astype(str)
    if v.dtype.kind in "SU":
        width = v.dtype.itemsize // (4 if v.dtype.kind == "U" else 1)
        lanes = (
            np.ascontiguousarray(v)
            .view(np.uint32 if v.dtype.kind == "U" else np.uint8)
            .reshape(len(v), max(width, 1))
            if width
            else np.zeros((len(v), 1), np.uint8)
        )
        acc = np.full(len(v), np.uint64(width))
        for j in range(lanes.shape[1]):
            acc = mix64(acc ^ lanes[:, j].astype(np.uint64))
        return acc
    if v.dtype.kind == "M":
        return v.astype("datetime64[D]").astype(np.int64).astype(np.uint64)
    if v.dtype.kind == "f":
        return np.where(np.isnan(v), 0.0, v).astype(np.float64).view(np.uint64)
    return v.astype(np.int64).astype(np.uint64)


def record_keys(
    agency: str,
    m: int,
    pid: np.ndarray,
    hid: np.ndarray,
    fields: dict[str, np.ndarray],
    event_date: np.ndarray | None,
    recorded_date: np.ndarray | None,
) -> np.ndarray:
    """A key per record from what it is (agency, month, person, household, its fields).

    Recording draws (dates, delays, ID and name defects, duplicates) are keyed by it, so a
    record is recorded the same way whatever else the month holds: one more record elsewhere
    changes no other record (common random numbers). Records equal in every field are told
    apart by their order among themselves.
    """
    n = len(pid)
    acc = combine(word(agency), np.int64(m) + (1 << 20), pid.astype(np.int64), hid.astype(np.int64))
    acc = np.broadcast_to(acc, (n,)).copy()
    for name in sorted(fields):
        acc = mix64(acc ^ np.uint64(word(name)) ^ _column_words(fields[name]))
    for dates in (event_date, recorded_date):
        if dates is not None:
            acc = mix64(acc ^ _column_words(dates))
    order = np.argsort(acc, kind="stable")
    sorted_acc = acc[order]
    first = np.ones(n, bool)
    first[1:] = sorted_acc[1:] != sorted_acc[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    occurrence = np.empty(n, np.uint64)
    occurrence[order] = (np.arange(n) - start).astype(np.uint64)
    return mix64(acc ^ mix64(occurrence))


class PersonBook:
    """The registered person fields of everyone (ID number, name, birth date, sex)."""

    def __init__(self, ids: np.ndarray, names: np.ndarray, reg_birth: np.ndarray, male: np.ndarray):
        self.ids = ids
        self.names = names
        self.reg_birth = reg_birth
        self.male = male
        self.birth_year = reg_birth.astype("datetime64[Y]").astype(int) + 1970
        self.names_arrow = pa.array(list(names), pa.string())


class Recorder:
    """Buffers agency records by recorded month and writes monthly deliveries and their truth."""

    def __init__(
        self,
        out: Path,
        book: PersonBook,
        defects: dict[str, DefectRates],
        month0: np.datetime64,
        months: int,
        streams: Streams,
        hard: HardDefects | None = None,
    ):
        self.out = out
        self.hard = hard
        """The hard defect profile's changes (``None``: the default profile)."""
        self.truth_out = out / "truth"
        """Where record truth goes; the twin keeps it outside the pipeline's raw folder."""
        self.book = book
        self.defects = defects
        self.month0 = month0.astype("datetime64[M]")
        self.months = months
        self.streams = streams
        self.pending: dict[str, dict[int, list[dict[str, np.ndarray]]]] = {
            a: defaultdict(list) for a in CONTRACTS
        }
        self.counter = dict.fromkeys(CONTRACTS, 0)
        # the delivery calendar: month m of an agency is missing by a draw of its own
        self.missing = {
            a: set(
                np.flatnonzero(
                    streams.each(None, f"missing_month_{a}", months).random()
                    < defects[a].missing_month
                )[1:].tolist()
            )
            if months > 1
            else set()
            for a in CONTRACTS
        }
        self.files: dict[str, int] = {}
        # Parquet encoding and compression release the GIL: write on a background thread
        self._writer = ThreadPoolExecutor(max_workers=1)
        self._pending_writes: list[Future] = []
        self.truth_rows = dict.fromkeys(CONTRACTS, 0)
        self.after_cutoff = dict.fromkeys(CONTRACTS, 0)

    def month_start(self, m: int) -> np.datetime64:
        return (self.month0 + m).astype("datetime64[D]")

    def emit(
        self,
        agency: str,
        m: int,
        pid: np.ndarray,
        hid: np.ndarray,
        fields: dict[str, np.ndarray],
        event_date: np.ndarray | None = None,
        recorded_date: np.ndarray | None = None,
    ) -> None:
        """Record events of month m (or baseline records with explicit dates)."""
        n = len(pid)
        if n == 0:
            return
        rates = self.defects[agency]
        key = record_keys(agency, m, pid, hid, fields, event_date, recorded_date)
        if event_date is None:
            days = self.streams.draws(m, f"event_day_{agency}", key).integers(0, 28)
            event_date = self.month_start(m) + days.astype("timedelta64[D]")
        if recorded_date is None:
            mean = rates.mean_delay_months * 30.4
            draws = self.streams.draws(m, f"record_delay_{agency}", key)
            delay = np.round(draws.exponential(mean)).astype(np.int64) if mean > 0 else 0
            recorded_date = event_date + np.asarray(delay).astype("timedelta64[D]")
        rec_month = (recorded_date.astype("datetime64[M]") - self.month0).astype(np.int64)
        rec_month = np.maximum(rec_month, 0)
        ids = codes(PREFIX[agency], np.arange(self.counter[agency], self.counter[agency] + n), 10)
        self.counter[agency] += n
        batch = {
            "record_id": ids,
            "event_date": event_date.astype("datetime64[D]"),
            "recorded_date": recorded_date.astype("datetime64[D]"),
            "_pid": pid.astype(np.int64),
            "_hid": hid.astype(np.int64),
            "_key": key,
            **fields,
        }
        for r in np.unique(rec_month):
            sel = rec_month == r
            target = int(r)
            while target < self.months and target in self.missing[agency]:
                target += 1
            if target >= self.months:
                self.after_cutoff[agency] += int(sel.sum())
                continue
            self.pending[agency][target].append({k: v[sel] for k, v in batch.items()})

    def _person_fields(
        self, agency: str, m: int, pid: np.ndarray, key: np.ndarray
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        rates = self.defects[agency]
        contract = CONTRACTS[agency]
        S = self.streams
        ids = self.book.ids[pid].astype("U18")
        r = S.draws(m, f"id_defect_{agency}", key).random()
        missing = r < rates.missing_id
        mistyped = (~missing) & (r < rates.missing_id + rates.mistyped_id)
        legacy = (
            (~missing)
            & (~mistyped)
            & (r < rates.missing_id + rates.mistyped_id + rates.legacy_id)
            & (self.book.birth_year[pid] < 2000)
        )
        if mistyped.any():
            ids[mistyped] = idnumber.mistype_ids(
                self.book.ids[pid[mistyped]], S.draws(m, f"id_mistype_{agency}", key[mistyped])
            )
        if legacy.any():
            ids[legacy] = idnumber.to_legacy15_vec(self.book.ids[pid[legacy]])
        names = self.book.names_arrow.take(pa.array(pid))
        variant = S.draws(m, f"name_variant_{agency}", key).random() < rates.name_variant
        if variant.any():
            replacement = pa.array(
                list(
                    name_variants(
                        self.book.names[pid[variant]],
                        S.draws(m, f"name_variant_kind_{agency}", key[variant]),
                    )
                ),
                pa.string(),
            )
            names = pa.compute.replace_with_mask(names, pa.array(variant), replacement)
        cols: dict[str, np.ndarray] = {"id_number": ids, "name": names, "_id_missing": missing}
        names_set = set(contract.column_names)
        if "birth_date" in names_set:
            cols["birth_date"] = self.book.reg_birth[pid]
        if "sex" in names_set:
            cols["sex"] = np.where(self.book.male[pid], "M", "F")
        flags = {
            "id_mistyped": mistyped,
            "id_legacy": legacy,
            "id_missing": missing,
            "name_variant": variant,
        }
        return cols, flags

    def flush(self, m: int) -> None:
        """Write month m's delivery of every agency that delivers that month."""
        for agency, contract in CONTRACTS.items():
            batches = self.pending[agency].pop(m, [])
            if m in self.missing[agency]:
                assert not batches
                continue
            label = str(self.month0 + m)
            delivery_id = f"{agency}-{label}"
            extract = (self.month0 + m + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
            if batches:
                cols = {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}
            else:
                cols = {}
            n = len(cols.get("record_id", ()))
            pid = cols.pop("_pid", np.zeros(0, np.int64))
            hid = cols.pop("_hid", np.zeros(0, np.int64))
            key = cols.pop("_key", np.zeros(0, np.uint64))
            person, flags = self._person_fields(agency, m, pid, key)
            cols.update(person)
            hard = self.hard.apply(agency, m, pid, hid, key, cols) if self.hard else None
            dup = (
                self.streams.draws(m, f"duplicate_{agency}", key).random()
                < self.defects[agency].duplicate
            )
            order = (
                np.lexsort((cols["record_id"], cols["recorded_date"])) if n else np.zeros(0, int)
            )
            # keep recorded order; an exact duplicate follows its original
            take = np.repeat(order, 1 + dup[order])
            table = self._table(contract, cols, take, delivery_id, extract)
            path = self.out / "agencies" / agency / f"{label}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            self._write(table, path)
            self.files[f"agencies/{agency}/{label}.parquet"] = table.num_rows
            delay = (
                (cols["recorded_date"] - cols["event_date"]).astype(np.int64)
                if n
                else np.zeros(0, np.int64)
            )
            truth = pa.table(
                {
                    "record_id": pa.array(
                        cols.get("record_id", np.zeros(0, "S1")), pa.binary()
                    ).cast(pa.string()),
                    "person_id": pa.array(pid, pa.int64()),
                    "household_id": pa.array(hid, pa.int64()),
                    "delivery_id": pa.array([delivery_id] * n, pa.string()),
                    "id_mistyped": pa.array(flags["id_mistyped"]),
                    "id_legacy": pa.array(flags["id_legacy"]),
                    "id_missing": pa.array(flags["id_missing"]),
                    "name_variant": pa.array(flags["name_variant"]),
                    "duplicated": pa.array(dup),
                    "delay_days": pa.array(delay.astype(np.int32)),
                },
                schema=TRUTH_SCHEMA,
            )
            if hard is not None:  # the hard profile's flags, after the default columns
                for name in HARD_FLAGS:
                    truth = truth.append_column(name, pa.array(hard[name], pa.bool_()))
            tpath = self.truth_out / "records" / agency / f"{label}.parquet"
            tpath.parent.mkdir(parents=True, exist_ok=True)
            self._write(truth, tpath)
            self.truth_rows[agency] += n

    def __getstate__(self) -> dict:
        """A checkpoint: every queued file is written first; the writer thread is not kept."""
        self.wait()
        state = self.__dict__.copy()
        del state["_writer"], state["_pending_writes"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._writer = ThreadPoolExecutor(max_workers=1)
        self._pending_writes = []

    def wait(self) -> None:
        """Wait for every queued file; re-raise the first write error."""
        try:
            for job in self._pending_writes:
                job.result()
        finally:
            self._pending_writes.clear()

    def _write(self, table: pa.Table, path: Path) -> None:
        self._pending_writes.append(
            self._writer.submit(pq.write_table, table, path, **PARQUET_OPTS)
        )
        if len(self._pending_writes) > 64:  # bound the memory held by queued tables
            self._pending_writes.pop(0).result()

    def close(self) -> None:
        """Wait for every queued file and stop the writer; re-raise the first write error."""
        try:
            self.wait()
        finally:
            self._writer.shutdown(wait=True)

    def _table(
        self,
        contract,
        cols: dict[str, np.ndarray],
        take: np.ndarray,
        delivery_id: str,
        extract: np.datetime64,
    ) -> pa.Table:
        n = len(take)
        if n == 0:
            return contract.arrow_schema().empty_table()
        arrays = []
        for col in contract.columns:
            if col.name == "delivery_id":
                arr = pa.array([delivery_id] * n, pa.string())
            elif col.name == "extract_date":
                arr = pa.array(np.full(n, extract, "datetime64[D]"), pa.date32())
            else:
                values = cols.get(col.name)
                if values is None:
                    if not col.nullable:
                        raise KeyError(f"{contract.agency}: no values for {col.name}")
                    arr = pa.nulls(n, col.arrow_type)
                elif isinstance(values, pa.Array):
                    arr = values.take(pa.array(take))
                else:
                    v = values[take]
                    if col.dtype == "date":
                        arr = pa.array(v.astype("datetime64[D]"), pa.date32())
                    elif col.dtype == "string" and v.dtype.kind == "S":
                        arr = _ascii_to_arrow(v)
                    elif col.dtype == "string":
                        mask = None
                        if col.name == "id_number":
                            mask = cols["_id_missing"][take]
                        elif col.nullable and v.dtype.kind == "U":
                            mask = v == ""
                        arr = _strings(v, mask)
                    else:
                        mask = None
                        if v.dtype.kind == "f" and col.dtype == "int":
                            mask = np.isnan(v)
                            v = np.where(mask, 0, v)
                        arr = pa.array(v, col.arrow_type, mask=mask)
            arrays.append(arr)
        return pa.Table.from_arrays(arrays, schema=contract.arrow_schema())
