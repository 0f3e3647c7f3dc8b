"""Presentation helpers shared by the pages: scores, explanations as charts, traces, form errors.

Pure functions of the API's schemas and a language; templates call them through the context.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup
from pydantic import ValidationError

from serving.api.schemas import Explanation, ProgramStatus, Reason, TraceLine, VerifyItem
from serving.pages import charts
from serving.pages.i18n import MESSAGES, message

_GLOSS = re.compile(r"\s*[（(][^（()）]*[\u3400-\u9fff][^（()）]*[)）]")


def english(text: str) -> str:
    """English text without its Chinese glosses in brackets (``dibao inclusion (单人保)`` ->
    ``dibao inclusion``): an English page keeps Chinese to names only."""
    return _GLOSS.sub("", text)


def in_language(obj: Any, lang: str) -> str:
    """An object's ``zh`` or ``en`` text (English without Chinese glosses)."""
    return english(obj.en) if lang == "en" else obj.zh


_PURPOSES = {
    "audit of scores, explanations and use of the service": "purpose.audit",
    "model evaluation on pseudonymous data": "purpose.evaluation",
    "record a visit and its findings": "purpose.record",
    "refused request (recorded for audit)": "purpose.denied",
}


def purpose_text(lang: str, purpose: str) -> str:
    """A recorded purpose in the page's language (known purposes translated; others as
    stored, English without Chinese glosses)."""
    from serving.batch.priority import PURPOSE

    if purpose == PURPOSE:
        return message(lang, "purpose.statement")
    key = _PURPOSES.get(purpose)
    if key is not None:
        return message(lang, key)
    return english(purpose) if lang == "en" else purpose


def short_ref(ref: str) -> str:
    """A household reference shortened for reading (``H0127860…0d2``); links keep it whole."""
    return f"{ref[:8]}…{ref[-4:]}" if len(ref) > 14 else ref


def utc(at: dt.datetime) -> str:
    """A time as ``YYYY-MM-DD HH:MM:SS`` in UTC."""
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC)
    return at.strftime("%Y-%m-%d %H:%M:%S")


def probability(p: float) -> str:
    """A probability as shown beside a band (2 decimals; 3 below 0.01)."""
    return f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


def band_label(lang: str, band: str) -> str:
    """A band's name in the language (the code itself when unknown)."""
    key = f"band.{band}"
    return message(lang, key) if key in MESSAGES else band


def score_line(lang: str, band: str, p: float) -> str:
    """``高 · 0.42``."""
    return f"{band_label(lang, band)} · {probability(p)}"


def natural(reason: Reason, lang: str) -> Reason:
    """The reason with its phrase rendered from the feature declaration at its value, so a
    list scored before a phrase changed still reads naturally (its stored text otherwise)."""
    value = reason.value
    key = (reason.feature, value if not isinstance(value, float) else round(value, 6), lang)
    try:
        text = _phrase(*key)
    except (KeyError, TypeError, ValueError):
        return reason
    return reason.model_copy(update={"text": text})


@functools.lru_cache(maxsize=4096)
def _phrase(name: str, value: Any, lang: str) -> str:
    from features.vectors.catalogue import reason as phrase

    return phrase(name, value, lang)


def reasons_of(explanation: Explanation | None, lang: str) -> list[Reason]:
    """The explanation's reasons in the language, phrased from the feature declarations (none
    without an explanation)."""
    if explanation is None:
        return []
    return [natural(r, lang) for r in (explanation.en if lang == "en" else explanation.zh)]


def split_reasons(explanation: Explanation | None, lang: str) -> tuple[list[Reason], list[Reason]]:
    """``(causes, context)``, each phrase once: reasons that only describe history (a past
    visit) are context, shown apart and never as a cause."""
    from features.vectors.catalogue import is_context

    seen: dict[str, Reason] = {}
    for r in reasons_of(explanation, lang):
        seen.setdefault(r.text, r)
    reasons = list(seen.values())
    causes = [r for r in reasons if not is_context(r.feature)]
    return causes, [r for r in reasons if is_context(r.feature)]


MAX_LIKELY = 3
"""Programs shown on a card before the rest is folded behind a count."""


@dataclasses.dataclass(frozen=True)
class Gaps:
    """A card's program gaps: at most :data:`MAX_LIKELY` likely ones shown, the rest folded
    (more likely ones, and those to verify, each behind a count)."""

    shown: list[str]
    more_likely: list[str]
    verify: list[str]

    @property
    def codes(self) -> list[str]:
        """Every gap, likely first (data attributes, filters)."""
        return [*self.shown, *self.more_likely, *self.verify]


def gaps_of(programs: Sequence[ProgramStatus], gaps: Sequence[str] = ()) -> Gaps:
    """The card's gaps from the programs' statuses (rule order kept); a gap code without a
    status counts as one to verify."""
    likely = [p.program for p in programs if p.gap == "likely"]
    verify = [p.program for p in programs if p.gap == "verify"]
    verify += [g for g in gaps if g not in likely and g not in verify]
    return Gaps(likely[:MAX_LIKELY], likely[MAX_LIKELY:], verify)


def feature_label(lang: str, name: str) -> str:
    """A feature's short name from the registry (its column name when unknown)."""
    from features.vectors.catalogue import feature

    try:
        f = feature(name)
    except KeyError:
        return name
    return f.en if lang == "en" else f.zh


def waterfall_svg(
    explanation: Explanation | None, raw_score: float, p: float, lang: str, svg_id: str
) -> Markup | None:
    """The SHAP waterfall of one score (None without an explanation or base value)."""
    if explanation is None or explanation.base_value is None:
        return None
    reasons = reasons_of(explanation, lang)
    base = float(explanation.base_value)
    steps = [(feature_label(lang, r.feature), float(r.shap)) for r in reasons]
    svg = charts.waterfall(
        base, steps, float(raw_score), svg_id=svg_id,
        title=message(lang, "chart.waterfall.title"),
        axis_label=message(lang, "chart.waterfall.axis"),
        desc=message(lang, "chart.waterfall.desc", base=charts.fmt(base),
                     raw=charts.fmt(raw_score), p=probability(p)),
        base_label=message(lang, "chart.waterfall.base"),
        other_label=message(lang, "chart.waterfall.other"),
        score_label=message(lang, "chart.waterfall.score_p", p=probability(p)),
    )  # fmt: skip
    return Markup(svg)  # noqa: S704 - charts escape every text they draw


def waterfall_rows(
    explanation: Explanation | None, raw_score: float, lang: str
) -> list[tuple[str, str]]:
    """The waterfall's numbers as table rows (its text alternative): base, each reason,
    the rest, the score."""
    if explanation is None or explanation.base_value is None:
        return []
    reasons = reasons_of(explanation, lang)
    base = float(explanation.base_value)
    rows = [(message(lang, "chart.waterfall.base"), charts.fmt(base))]
    from features.vectors.catalogue import is_context

    context = message(lang, "reason.context")
    rows += [
        (context + r.text if is_context(r.feature) else r.text, charts.signed(float(r.shap)))
        for r in reasons
    ]
    rest = float(raw_score) - base - sum(float(r.shap) for r in reasons)
    if abs(rest) >= 5e-4:
        rows.append((message(lang, "chart.waterfall.other"), charts.signed(rest)))
    rows.append((message(lang, "chart.waterfall.score"), charts.fmt(float(raw_score))))
    return rows


def verify_texts(items: Sequence[VerifyItem], lang: str) -> list[str]:
    """What to verify, in the language, each text once (programs share conditions)."""
    texts = (item.en if lang == "en" else item.zh for item in items)
    return list(dict.fromkeys(texts))


def trace_by_program(trace: Sequence[TraceLine]) -> list[dict[str, Any]]:
    """Trace lines grouped per program: its verdict line and its conditions, rule order kept."""
    groups: dict[str, dict[str, Any]] = {}
    for line in trace:
        g = groups.setdefault(line.program, {"program": line.program, "verdict": None,
                                             "conditions": []})  # fmt: skip
        if line.condition is None:
            g["verdict"] = line
        else:
            g["conditions"].append(line)
    return list(groups.values())


FIELD_LABELS = {
    "visit_date": "hh.visit_date",
    "outcome": "hh.outcome",
    "programs_started": "hh.programs_started",
    "note": "hh.note",
    "item": "hh.item",
    "reference": "hh.reference",
    "correction": "hh.correction",
    "reason": "hh.reason",
    "actor": "log.actor",
    "role": "log.role",
    "action": "log.action",
    "resource": "log.resource",
    "household_ref": "log.household",
    "from": "log.from",
    "to": "log.to",
    "before_id": "log.older",
}
_RULES = {
    "missing": "form.error.missing",
    "date_parsing": "form.error.date",
    "date_from_datetime_parsing": "form.error.date",
    "date_from_datetime_inexact": "form.error.date",
    "date_type": "form.error.date",
    "literal_error": "form.error.choice",
    "string_pattern_mismatch": "form.error.choice",
    "string_too_long": "form.error.too_long",
    "too_long": "form.error.too_long",
    "string_too_short": "form.error.missing",
}
_API_RULES = (
    ("unknown program", "form.error.unknown_program"),
    ("only an 'in_need'", "form.error.programs_need"),
    ("future", "form.error.future"),
    ("recorded within", "form.error.too_old"),
    ("ID number", "form.error.id_number"),
)


def field_label(lang: str, name: str) -> str:
    """A form field's label in the language (its name when unknown)."""
    key = FIELD_LABELS.get(name)
    return message(lang, key) if key else name


def validation_error(lang: str, exc: ValidationError) -> str:
    """One line naming the first invalid field and its rule (never the value sent)."""
    first = exc.errors()[0]
    loc = first.get("loc") or ("",)
    kind = first.get("type", "")
    key = _RULES.get(kind, "form.error.invalid")
    if kind == "value_error" and "ID number" in str(first.get("msg", "")):
        key = "form.error.id_number"
    return message(lang, key, field=field_label(lang, str(loc[0])))


def api_error(lang: str, detail: str) -> str:
    """One line for a 422 the API's record functions raise (``field: rule``)."""
    name, _, rule = detail.partition(":")
    key = next((k for marker, k in _API_RULES if marker in rule), "form.error.invalid")
    return message(lang, key, field=field_label(lang, name.strip()))
