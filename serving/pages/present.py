"""Presentation helpers shared by the pages: scores, explanations as charts, traces, form errors.

Pure functions of the API's schemas and a language; templates call them through the context.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup
from pydantic import ValidationError

from serving.api.schemas import Explanation, Reason, TraceLine, VerifyItem
from serving.pages import charts
from serving.pages.i18n import MESSAGES, message


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


def reasons_of(explanation: Explanation | None, lang: str) -> list[Reason]:
    """The explanation's reasons in the language (none without an explanation)."""
    if explanation is None:
        return []
    return list(explanation.en if lang == "en" else explanation.zh)


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
    rows += [(r.text, charts.signed(float(r.shap))) for r in reasons]
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
