"""Loading deliveries into the warehouse: file checks, row checks, duplicates, and one
transaction per delivery that writes its records, person records, quarantine and bookkeeping.

Ingesting the same file twice changes nothing (its checksum is recorded); a file already accepted
with different content is refused (corrections come as new deliveries).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from core.contracts import CONTRACTS, Contract
from core.errors import ConfigError, DataContractError
from core.months import month_end
from features import warehouse
from features.ingest.checks import REASON_NAMES, check_rows, flag_rows, row_hashes
from features.ingest.persons import PERSON_FIELDS, PersonRecords, typed_table
from features.ingest.quarantine import masked_examples, quarantine_rows
from features.ingest.read import (
    ENCODINGS,
    FILE_NAME,
    RejectedDelivery,
    find_deliveries,
    read_delivery,
)
from features.ingest.reconcile import DeliveryResult, utc_now
from features.pseudonym import Pseudonymizer


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
        self._persons = PersonRecords(pseudonymizer)
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
            extract = month_end(year, month)
            self._load(contract, raw, result, sha, extract)
            return result
        except RejectedDelivery as exc:
            result.status = "rejected"
            result.reason = str(exc)
            self.con.execute(
                "INSERT OR REPLACE INTO deliveries VALUES (?, ?, ?, NULL, NULL, ?, 0, 0, "
                "'rejected', ?, ?)",
                [delivery_id, agency, path.name, result.rows_received, result.reason, utc_now()],
            )
            return result

    def _load(
        self, contract: Contract, raw: pd.DataFrame, result: DeliveryResult, sha: str, extract: date
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
            flag_rows(reason, detail, same, "duplicate_record", "record_id")
            flag_rows(reason, detail, later & ~same, "conflicting_record", "record_id")
        ok = reason == 0
        known = self._known_hashes(agency, keys[ok])
        if known:
            earlier = pd.Series(keys).map(known).to_numpy(object)
            hit = ok & pd.notna(earlier)
            same = hit & (earlier == hashes)
            flag_rows(reason, detail, same, "duplicate_record", "record_id")
            flag_rows(reason, detail, hit & ~same, "conflicting_record", "record_id")
        ok = reason == 0
        acc = frame[ok].copy()
        acc["row_no"] = np.flatnonzero(ok).astype(np.int32) + 1
        ids = self._persons.rows(acc, agency)
        q_idx = np.flatnonzero(~ok)
        now = utc_now()
        quarantine = quarantine_rows(
            raw,
            q_idx,
            reason,
            detail,
            keys,
            agency=agency,
            delivery_id=result.delivery_id,
            file_name=result.file_name,
            at=now,
        )
        result.examples = masked_examples(quarantine)
        rec_fields = [pa.field(c.name, c.arrow_type) for c in warehouse.record_columns(agency)]
        rec = typed_table(acc, rec_fields + [pa.field("row_no", pa.int32())])
        persons = typed_table(ids.assign(row_hash=hashes[ok]), PERSON_FIELDS)
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            con.register("incoming_rec", rec)
            con.execute(
                f"INSERT INTO {warehouse.record_table(agency)} BY NAME SELECT * FROM incoming_rec"
            )
            con.register("incoming_person", persons)
            con.execute("INSERT INTO person_records SELECT * FROM incoming_person")
            if len(quarantine):
                con.register("incoming_q", quarantine)
                con.execute("INSERT INTO quarantine SELECT * FROM incoming_q")
            codes, n_codes = np.unique(reason[q_idx], return_counts=True)
            counts = dict(zip(REASON_NAMES[codes], n_codes, strict=True))
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
