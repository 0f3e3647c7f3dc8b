"""Reconciliation and delivery bookkeeping: what happened to each delivery file, and the report
over all of them (rows received = rows accepted + rows quarantined, per file and per agency).

The report is JSON-ready and holds no ID number or name.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from features.ingest.checks import REASONS


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


@dataclass
class IngestReport:
    """The reconciliation report of one ingest run (``reports/ingest/``).

    Attributes:
        generated_at: when the report was made (UTC, ISO 8601).
        reconciles: every accepted delivery reconciles.
        by_agency: per agency: deliveries, accepted, unchanged, rejected and row counts.
        quarantine_by_reason: quarantined rows per reason code.
        reason_codes: the meaning of every reason code (:data:`REASONS`).
        rejected: one line per rejected delivery (file and problem).
        deliveries: one :meth:`DeliveryResult.as_dict` per delivery file.
    """

    generated_at: str
    reconciles: bool
    by_agency: dict[str, dict]
    quarantine_by_reason: dict[str, int]
    reason_codes: dict[str, str]
    rejected: list[str]
    deliveries: list[dict]

    @classmethod
    def from_results(cls, results: list[DeliveryResult]) -> IngestReport:
        """The report over every delivery of a run."""
        by_agency: dict[str, dict] = {}
        reasons: dict[str, int] = {}
        for r in results:
            a = by_agency.setdefault(
                r.agency,
                {"deliveries": 0, "accepted": 0, "unchanged": 0, "rejected": 0,
                 "rows_received": 0, "rows_accepted": 0, "rows_quarantined": 0},
            )  # fmt: skip
            a["deliveries"] += 1
            a[r.status] += 1
            a["rows_received"] += r.rows_received if r.status == "accepted" else 0
            a["rows_accepted"] += r.rows_accepted
            a["rows_quarantined"] += r.rows_quarantined
            for k, v in r.by_reason.items():
                reasons[k] = reasons.get(k, 0) + v
        return cls(
            generated_at=utc_now().isoformat(),
            reconciles=all(r.reconciles for r in results),
            by_agency=by_agency,
            quarantine_by_reason=dict(sorted(reasons.items())),
            reason_codes=REASONS,
            rejected=[r.reason for r in results if r.status == "rejected"],
            deliveries=[r.as_dict() for r in results],
        )

    @property
    def failure(self) -> str | None:
        """Why the run failed (counts that do not reconcile, rejected deliveries), else None."""
        if not self.reconciles:
            return "the reconciliation failed: received != accepted + quarantined"
        if self.rejected:
            return f"{len(self.rejected)} deliveries rejected (see above)"
        return None

    def as_dict(self) -> dict:
        """The report as written to JSON."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def summarize(results: list[DeliveryResult]) -> dict:
    """The reconciliation report (JSON-ready; holds no ID number or name)."""
    return IngestReport.from_results(results).as_dict()


def iter_rejections(results: list[DeliveryResult]) -> Iterator[str]:
    """The reason line of every rejected delivery."""
    for r in results:
        if r.status == "rejected":
            yield r.reason


def utc_now() -> datetime:
    """The current time, UTC (delivery and quarantine timestamps)."""
    return datetime.now(UTC)
