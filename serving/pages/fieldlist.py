"""The visit list as it is worked in the field: filters, village groups, the day's selection.

Pure functions over the API's list entries and their visit states. The same filters run in the
browser (``static/outreach.js``, without a reload) and here, for a page opened or submitted
without JavaScript and for exports and print sheets of a filtered list or of the day's selection.

Example:
    >>> f = Filters.parse({"band": "high", "pending": "1"}, [])
    >>> (f.band, f.pending, f.active)
    ('high', True, True)
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from serving.api.schemas import ListEntry
from serving.pages import present
from serving.pages.coverage_data import VisitState

REF = re.compile(r"^H[0-9a-f]{24}$")
MAX_REFS = 500
BANDS = ("high", "elevated", "low")


@dataclasses.dataclass(frozen=True)
class Filters:
    """What the caseworker narrowed the list to (``?village=&band=&gap=&pending=1&ref=…``)."""

    village: str | None = None
    band: str | None = None
    gap: str | None = None
    pending: bool = False
    refs: tuple[str, ...] = ()

    @classmethod
    def parse(cls, params: Mapping[str, Any], refs: Sequence[str]) -> Filters:
        """Filters from query parameters; unknown bands and malformed references are ignored
        (the village is checked by the caller against the list's villages)."""
        band = params.get("band") or None
        gap = params.get("gap") or None
        return cls(
            village=params.get("village") or None,
            band=band if band in BANDS else None,
            gap=gap if gap and re.fullmatch(r"[a-z_]{1,40}", gap) else None,
            pending=params.get("pending") in ("1", "on", "true"),
            refs=tuple(dict.fromkeys(r for r in refs[:MAX_REFS] if REF.match(r))),
        )

    @property
    def active(self) -> bool:
        return bool(self.village or self.band or self.gap or self.pending or self.refs)

    def query(self) -> str:
        """The filters as a query string (``""`` when none), for export and print links."""
        parts = [(k, v) for k, v in (("village", self.village), ("band", self.band),
                                     ("gap", self.gap)) if v]  # fmt: skip
        if self.pending:
            parts.append(("pending", "1"))
        parts += [("ref", r) for r in self.refs]
        return "?" + "&".join(f"{k}={v}" for k, v in parts) if parts else ""


def visited(entry: ListEntry, states: Mapping[str, VisitState]) -> bool:
    state = states.get(entry.household_ref)
    return bool(state and state.visited)


def keep(entry: ListEntry, f: Filters, states: Mapping[str, VisitState]) -> bool:
    """Whether the entry passes the filters."""
    if f.village and entry.village_code != f.village:
        return False
    if f.band and entry.band != f.band:
        return False
    if f.gap and f.gap not in gap_codes(entry):
        return False
    if f.pending and visited(entry, states):
        return False
    return not f.refs or entry.household_ref in f.refs


def gap_codes(entry: ListEntry) -> list[str]:
    """Every program gap of the entry (likely first, then to verify)."""
    return present.gaps_of(entry.reasons.programs, entry.reasons.gaps).codes


@dataclasses.dataclass(frozen=True)
class VillageGroup:
    """A village's households on the list, in list order, with counts."""

    code: str
    entries: list[ListEntry]
    visited: int

    @property
    def n(self) -> int:
        return len(self.entries)


def by_village(
    entries: Sequence[ListEntry],
    states: Mapping[str, VisitState],
    order: Sequence[ListEntry] = (),
) -> list[VillageGroup]:
    """Entries grouped by village; villages in the order of their best-ranked entry in
    ``order`` (the whole list, so that filtering never reorders them), else in ``entries``."""
    groups: dict[str, list[ListEntry]] = {e.village_code: [] for e in (*order, *entries)}
    for e in entries:
        groups[e.village_code].append(e)
    return [
        VillageGroup(code, group, sum(visited(e, states) for e in group))
        for code, group in groups.items()
        if group
    ]


def options(entries: Sequence[ListEntry]) -> dict[str, list[str]]:
    """The bands and program gaps present on the list (the filter choices), in a fixed order."""
    bands = {e.band for e in entries}
    gaps: dict[str, None] = {}
    for e in entries:
        gaps.update(dict.fromkeys(gap_codes(e)))
    return {"bands": [b for b in BANDS if b in bands], "gaps": sorted(gaps)}


@dataclasses.dataclass(frozen=True)
class Card:
    """One household's card, its texts ready in the page's language (built in Python: a
    150-household list renders in a few milliseconds)."""

    entry: ListEntry
    state: VisitState | None
    gap_codes: list[str]
    causes: list[str]
    context: list[str]
    likely: list[str]
    more_likely: list[str]
    to_verify: list[str]
    verify: list[str]
    more_verify: int

    @property
    def visited(self) -> bool:
        return bool(self.state and self.state.visited)


def card(
    entry: ListEntry, states: Mapping[str, VisitState], lang: str, top: int, top_verify: int
) -> Card:
    """The card of one entry."""
    from serving.pages.i18n import program_name

    causes, context = present.split_reasons(entry.reasons.model, lang)
    gaps = present.gaps_of(entry.reasons.programs, entry.reasons.gaps)
    verify = present.verify_texts(entry.verify, lang)

    def names(codes: list[str]) -> list[str]:
        return [program_name(lang, c) for c in codes]

    return Card(
        entry=entry,
        state=states.get(entry.household_ref),
        gap_codes=gaps.codes,
        causes=[r.text for r in causes[:top]],
        context=[r.text for r in context],
        likely=names(gaps.shown),
        more_likely=names(gaps.more_likely),
        to_verify=names(gaps.verify),
        verify=verify[:top_verify],
        more_verify=max(0, len(verify) - top_verify),
    )
