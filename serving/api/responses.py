"""Response assembly: stored rows (and on-demand results) into the API's schemas.

"What to verify on the visit" is every eligibility condition whose outcome in the trace is
``unknown`` (the data cannot tell; the caseworker can), plus a check of the household's
composition when it rests on a low-confidence record link.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from serving.api.schemas import (
    EntryReasons,
    Explanation,
    HistoryItem,
    ListEntry,
    ProgramStatus,
    TraceLine,
    VerifyItem,
    Visit,
)

LINK_CHECK = VerifyItem(
    kind="household_link",
    zh="核实家庭成员构成：部分记录的匹配置信度较低",
    en="check who lives in the household: some records were linked with low confidence",
)


def explanation_of(
    reasons: Mapping[str, Any] | None, base_value: float | None
) -> Explanation | None:
    """Stored reasons JSON (``{units, zh, en}``) as an :class:`Explanation`."""
    if not reasons:
        return None
    return Explanation(
        units=str(reasons.get("units", "log-odds")),
        base_value=base_value,
        zh=reasons.get("zh", []),
        en=reasons.get("en", []),
    )


def program_statuses(summary: Mapping[str, Mapping[str, Any]] | None) -> list[ProgramStatus]:
    """Programs a household likely qualifies for, needs verification for, or receives."""
    out = []
    for code, p in (summary or {}).items():
        if p.get("status") != "not_eligible" or p.get("receiving"):
            out.append(ProgramStatus(program=code, **p))
    return out


def statuses_from_rows(rows: Sequence[Mapping[str, Any]]) -> list[ProgramStatus]:
    """Program statuses from stored ``eligibility`` rows (when no summary was stored)."""
    out = []
    for r in rows:
        gap = None
        if r["gap"]:
            gap = "likely" if r["status"] == "likely" else "verify"
        out.append(
            ProgramStatus(
                program=r["program"], status=r["status"], receiving=r["receiving"], gap=gap
            )
        )
    return out


def trace_of(rows: Sequence[Mapping[str, Any]]) -> list[TraceLine]:
    """The stored trace lines of a household's eligibility rows (program order kept)."""
    lines: list[TraceLine] = []
    for r in rows:
        lines.extend(TraceLine(**t) for t in r.get("trace") or [])
    return lines


def verify_items(trace: Sequence[TraceLine], low_confidence_link: bool) -> list[VerifyItem]:
    """What to verify on the visit (see the module docstring)."""
    items = [
        VerifyItem(
            kind="eligibility_condition", program=t.program, condition=t.condition, zh=t.zh, en=t.en
        )
        for t in trace
        if t.condition is not None and t.outcome == "unknown"
    ]
    if low_confidence_link:
        items.append(LINK_CHECK)
    return items


def list_entry(
    rank: int,
    row: Mapping[str, Any],
    elig: Sequence[Mapping[str, Any]],
    masked_name: str | None,
) -> ListEntry:
    """One visit-list entry from a joined list/score row and its eligibility rows."""
    trace = trace_of(elig)
    programs = program_statuses(row["programs"]) if row["programs"] else statuses_from_rows(elig)
    verify = verify_items(trace, row["low_confidence_link"])
    # a list carries each program's verdict line; the conditions behind it are in the
    # household detail (a full trace is ~15 KB per household, too heavy for a list)
    summary = [t for t in trace if t.condition is None]
    return ListEntry(
        rank=rank,
        household_ref=row["household_id"],
        masked_name=masked_name,
        masked_id=None,
        village_code=row["village_code"],
        score=row["score"],
        band=row["band"],
        priority=row["priority"],
        exploration=row["exploration"],
        path=row["path"],
        selection_probability=row["selection_probability"],
        low_confidence_link=row["low_confidence_link"],
        reasons=EntryReasons(
            model=explanation_of(row["reasons"], row["base_value"]),
            programs=programs,
            gaps=[p.program for p in programs if p.gap is not None],
            trace=summary,
        ),
        verify=verify,
    )


def history_item(row: Mapping[str, Any]) -> HistoryItem:
    """One score-history item (a complete run's score of the household)."""
    return HistoryItem(
        run_id=row["run_id"],
        as_of=row["as_of"],
        model_version=row["model_version"],
        score=row["score"],
        raw_score=row["raw_score"],
        band=row["band"],
        priority=row["priority"],
        low_confidence_link=row["low_confidence_link"],
        listed_in=row.get("listed_in", []),
        explanation=explanation_of(row["reasons"], row["base_value"]),
    )


def visit(row: Mapping[str, Any], with_note: bool) -> Visit:
    """One recorded visit; the note only for roles entitled to it."""
    return Visit(
        id=row["id"],
        household_ref=row["household_id"],
        visit_date=row["visit_date"],
        outcome=row["outcome"],
        programs_started=list(row["programs_started"] or []),
        note=row["note"] if with_note else None,
        recorded_by=row["recorded_by"],
        recorded_at=row["recorded_at"],
        run_id=row["run_id"],
        model_version=row["model_version"],
    )
