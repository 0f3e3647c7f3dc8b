"""HTTP schemas: request bodies refuse unknown fields; every route declares its response model.

Households are named by their pseudonymous reference (``household_ref``: the snapshot's keyed
hash, ``H`` + 24 hex); no schema carries an ID number or a clear name. ``masked_name`` and
``masked_id`` are present only for roles entitled to them and are ``null`` otherwise.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

HOUSEHOLD_REF = r"^H[0-9a-f]{24}$"
JURISDICTION = r"^[0-9]{9}([0-9]{3})?$"
PROGRAM = r"^[a-z][a-z_]{0,39}$"
VISIT_DAYS = 366
"""A visit outcome is recorded within this many days of the visit (and never before it), by the
service's clock (:meth:`serving.runtime.service.Service.today`)."""
_SEP = r"[\s\-./_,:]?"
_ID_LIKE = re.compile(rf"(?:\d{_SEP}){{17}}[\dXx]|(?:\d{_SEP}){{14}}\d")
_INVISIBLE = {"Cf"}  # zero-width and direction marks, dropped before the ID check
_LINE_BREAKS = frozenset("\t\n\r")


def contains_id_number(text: str) -> bool:
    """Whether ``text`` holds something shaped like an ID number: 18 characters (17 digits and a
    digit or X) or 15 digits, also when written in full-width forms, with zero-width characters
    between, or grouped by single spaces, dashes, dots or slashes (``330226 19800101 123X``).

    Errs on the side of refusing: two numbers of 11 and 7 digits separated by one space are
    refused too (write them apart, e.g. with a word between).
    """
    folded = unicodedata.normalize("NFKC", text)
    folded = "".join(ch for ch in folded if unicodedata.category(ch) not in _INVISIBLE)
    return _ID_LIKE.search(folded) is not None


def _no_id_number(text: str | None) -> str | None:
    if text is not None and contains_id_number(text):
        raise ValueError("free text must not contain an ID number")
    return text


def _no_control(text: str | None, allowed: frozenset[str] = frozenset()) -> str | None:
    if text is not None and any(
        unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text
    ):
        raise ValueError("text must not contain control characters")
    return text


def _no_control_but_breaks(text: str | None) -> str | None:
    return _no_control(text, _LINE_BREAKS)


def _in_utc(value: dt.datetime) -> dt.datetime:
    """A query time in UTC (a naive one is taken as UTC); out of range when UTC cannot hold it."""
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("the time is out of range in UTC") from None


UtcTime = Annotated[dt.datetime, AfterValidator(_in_utc)]
"""A time given in a query: any offset, kept only when it exists in UTC (else 422)."""
MAX_ID = 2**53 - 1
"""The largest row id a query may name (2^53 - 1: exact in every JSON client, far past any audit
log, and short of the 64-bit limit); a larger value is refused with 422, never passed to the
database. Not 2^63 - 1: its 19 digits would put an ID-number-shaped run in the API document."""


def _round(value: float) -> float:
    return round(float(value), 6)


Num = Annotated[float, PlainSerializer(_round, return_type=float)]
"""A float sent with 6 decimals (probabilities, log-odds, values): enough precision, and no
long digit runs that an export or a scan for 18-digit ID numbers could mistake for one."""

FreeText = Annotated[
    str,
    Field(min_length=1, max_length=1000),
    AfterValidator(_no_control_but_breaks),
    AfterValidator(_no_id_number),
]
ShortText = Annotated[
    str, Field(min_length=1, max_length=200), AfterValidator(_no_control),
    AfterValidator(_no_id_number),
]  # fmt: skip


class Out(BaseModel):
    """Base of response models."""

    model_config = ConfigDict(extra="forbid")


class In(BaseModel):
    """Base of request bodies: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class Problem(Out):
    """An RFC 9457 problem response."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    request_id: str | None = None


class Reason(Out):
    feature: str
    shap: Num = Field(description="contribution in log-odds")
    value: bool | int | Num | str | None
    text: str
    group: str | None = None


class Explanation(Out):
    units: str = "log-odds"
    base_value: Num | None = None
    zh: list[Reason]
    en: list[Reason]


class TraceLine(Out):
    program: str
    condition: str | None
    outcome: str
    zh: str
    en: str
    reference: str


class ProgramStatus(Out):
    program: str
    status: Literal["likely", "needs_verification", "not_eligible"]
    receiving: bool | None
    gap: Literal["likely", "verify"] | None


class VerifyItem(Out):
    """Something a caseworker should check on the visit."""

    kind: Literal["eligibility_condition", "household_link"]
    program: str | None = None
    condition: str | None = None
    zh: str
    en: str


class EntryReasons(Out):
    """The model's top SHAP reasons joined with the eligibility rules' result."""

    model: Explanation | None
    programs: list[ProgramStatus]
    gaps: list[str] = Field(
        description="programs likely qualified for (or to verify), not received"
    )
    trace: list[TraceLine]


class ListEntry(Out):
    rank: int
    household_ref: str
    masked_name: str | None
    masked_id: str | None
    village_code: str
    score: Num
    band: str
    priority: Num
    exploration: bool
    path: Literal["ranked", "program_gap", "exploration"] = Field(
        description="how the entry reached the list: the ranking, the program-gap path or the "
        "exploration draw"
    )
    selection_probability: Num | None = Field(
        description="the probability that the listing design put the household on this list: "
        "1 for ranked and program-gap entries, the inclusion probability of the draw for an "
        "exploration entry; null for entries stored before it was logged"
    )
    low_confidence_link: bool
    reasons: EntryReasons
    verify: list[VerifyItem]


class VisitList(Out):
    purpose: str
    run_id: str
    as_of: dt.date
    model_version: str
    jurisdiction_code: str
    capacity: int
    entries: list[ListEntry]


class ScoreView(Out):
    source: Literal["stored", "on_demand"]
    model_version: str
    score: Num
    raw_score: Num
    band: str
    explanation: Explanation | None


class HistoryItem(Out):
    run_id: str
    as_of: dt.date
    model_version: str
    score: Num
    raw_score: Num
    band: str
    priority: Num
    low_confidence_link: bool
    listed_in: list[str]
    explanation: Explanation | None


class Visit(Out):
    id: int
    household_ref: str
    visit_date: dt.date
    outcome: str
    programs_started: list[str]
    note: str | None
    recorded_by: str
    recorded_at: dt.datetime
    run_id: str | None
    model_version: str | None


class Eligibility(Out):
    source: Literal["stored", "on_demand", "unavailable"]
    programs: list[ProgramStatus]
    trace: list[TraceLine]


class HouseholdDetail(Out):
    purpose: str
    household_ref: str
    masked_name: str | None
    masked_id: str | None
    township_code: str
    village_code: str
    run_id: str
    as_of: dt.date
    model_version: str
    low_confidence_link: bool
    current: ScoreView
    eligibility: Eligibility
    verify: list[VerifyItem]
    score_history: list[HistoryItem]
    visits: list[Visit]


class OnDemandScore(Out):
    household_ref: str
    as_of: dt.date
    snapshot_id: str
    model_version: str
    score: Num
    raw_score: Num
    band: str
    explanation: Explanation


class ScoreHistory(Out):
    household_ref: str
    items: list[HistoryItem]


class OutcomeCreate(In):
    visit_date: dt.date
    outcome: Literal["visited", "not_found", "in_need", "not_in_need"]
    programs_started: list[Annotated[str, Field(pattern=PROGRAM)]] = Field(
        default_factory=list, max_length=20
    )
    note: FreeText | None = None

    # the visit-date rule needs the service's clock: serving.api.records.check_visit_date


class CorrectionCreate(In):
    item: ShortText = Field(
        description="the data item that is wrong. 'vehicle', 'property' or 'business' (the "
        "registered ones are not the household's) are applied by the next scoring run to that "
        "run's inputs, never to the agency's record; any other item (e.g. 'member moved out') "
        "is recorded for review"
    )
    reference: ShortText | None = Field(default=None, description="agency or field concerned")
    correction: FreeText = Field(description="what is right, e.g. 'the vehicle is not theirs'")
    reason: FreeText = Field(description="how the caseworker knows")


class Correction(Out):
    id: int
    household_ref: str
    item: str
    reference: str | None
    correction: str
    reason: str
    recorded_by: str
    recorded_at: dt.datetime
    status: str
    applied_run_id: str | None


class CorrectionList(Out):
    items: list[Correction]


class AuditEntry(Out):
    id: int
    at: dt.datetime
    actor: str
    holder: str | None = Field(
        None, description="the person the actor's token was issued to (null: none recorded)"
    )
    role: str
    action: str
    resource: str
    household_ref: str | None
    jurisdiction_code: str | None
    purpose: str
    request_id: str | None
    detail: dict[str, Any] | None


class AuditPage(Out):
    items: list[AuditEntry]
    next_before_id: int | None


class RunInfo(Out):
    run_id: str
    as_of: dt.date
    model_version: str
    finished_at: dt.datetime | None


class ModelInfo(Out):
    model_version: str | None
    feature_set_version: str | None
    latest_run: RunInfo | None


class ModelCard(Out):
    model_version: str
    format: Literal["markdown"] = "markdown"
    text: str


class Me(Out):
    token_id: str
    holder: str | None = Field(None, description="the person the token was issued to")
    role: str
    jurisdiction_code: str | None
    expires_at: dt.datetime


class Health(Out):
    status: Literal["ok"]


class Ready(Out):
    status: Literal["ready", "not_ready"]
    database: bool
    champion_version: str | None
    latest_run_id: str | None
