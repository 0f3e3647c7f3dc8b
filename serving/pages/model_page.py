"""``GET /audit/model``: the champion's model card, global importance, calibration, recall at
capacity, fairness table and drift (auditors and data scientists).

Charts are drawn from the version's logged artifacts (:mod:`serving.pages.modeldata`):

- **global importance**: mean |SHAP| per feature (log-odds), the 15 largest;
- **calibration**: the reliability diagram of each probability score on the test split (10
  equal-mass bins: mean predicted probability against the observed rate, logged by training
  since ``calibration_bins`` exists), against the diagonal, over the range of the reference
  scores (twice their top decile edge); for a model trained before that, the logistic
  calibration curve its logged slope and intercept define, ``σ(intercept + slope · logit(p))``;
- **recall at per-township capacity**: the model against the rules and logistic baselines.

Each chart has a table of its numbers beside it.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from serving.pages import charts
from serving.pages.i18n import MESSAGES, message
from serving.pages.modeldata import ModelData
from serving.pages.web import PageServiceDep, ViewerDep, forbidden, lang_of, pages_of, render
from training.fairness import LOW_RECALL_RATIO, MIN_POSITIVES

router = APIRouter(include_in_schema=False)
MODEL_ROLES = frozenset({"auditor", "data_scientist"})
TOP_FEATURES = 15
TOP_DRIFT = 15
HEADLINE_CAPACITY = 0.05
CARD_LANG = "en"  # training writes the card in English; it is shown as logged, marked as such


def _t(lang: str, key: str, fallback: str, **values: Any) -> str:
    return message(lang, key, **values) if key in MESSAGES else fallback


def card_html(text: str, lang: str) -> Markup:
    """The model card's Markdown as HTML: raw HTML escaped, headings moved two levels down
    (the page has h1 and h2 above), no inline styles, tables scrollable and labelled in
    ``lang``, the card's own language (the page wraps the card in an element marked with it)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(text)
    for tok in tokens:
        if tok.type in ("heading_open", "heading_close"):
            tok.tag = f"h{min(int(tok.tag[1]) + 2, 6)}"
        elif tok.type in ("th_open", "td_open"):
            style = str(tok.attrGet("style") or "")
            tok.attrs.pop("style", None)
            if "right" in style:
                tok.attrSet("class", "num")
            if tok.type == "th_open":
                tok.attrSet("scope", "col")
    html = md.renderer.render(tokens, md.options, {})
    label = message(lang, "model.card")
    wrapper = f'<div class="scroll" tabindex="0" role="region" aria-label="{label}">\n<table>'
    html = html.replace("<table>", wrapper).replace("</table>", "</table>\n</div>")
    return Markup(html)  # noqa: S704 - markdown-it escapes the card's text (html=False)


def importance_view(data: ModelData, lang: str) -> dict[str, Any] | None:
    """The importance chart and its rows."""
    if not data.importance:
        return None
    top = data.importance[:TOP_FEATURES]
    items = [(str(r.get(lang) or r["feature"]), float(r["mean_abs_shap"])) for r in top]
    svg = charts.bars(
        items, svg_id="importance-chart", title=message(lang, "chart.importance.title"),
        axis_label=message(lang, "chart.importance.axis"),
        desc=message(lang, "chart.importance.desc", n=len(items)),
    )  # fmt: skip
    return {"svg": Markup(svg), "rows": [(label, charts.fmt(v)) for label, v in items]}  # noqa: S704


def _scores(data: ModelData) -> dict[str, dict[str, Any]]:
    ev = data.evaluation or {}
    return ev.get("metrics", {}).get("observed", {}).get("scores", {}) or {}


def _x_max(data: ModelData) -> float:
    edges = ((data.reference or {}).get("score") or {}).get("edges") or []
    top = 2 * float(edges[-1]) if edges else 1.0
    return min(charts.nice_ticks(0.0, min(max(top, 0.01), 1.0), 5)[-1], 1.0)


def _calibration_series(lang: str, name: str, s: dict[str, Any], x_max: float) -> charts.Series:
    """The scorer's reliability points (equal-mass bins of the test split) when the run logged
    them, else the logistic calibration curve its slope and intercept define."""
    label = _t(lang, f"scorer.{name}", name)
    bins = [b for b in s.get("calibration_bins") or [] if b.get("mean_score") is not None]
    if bins:
        points = [(float(b["mean_score"]), float(b["observed"])) for b in bins]
        return charts.Series(label, [(x, y) for x, y in points if x <= x_max], markers=True)
    curve = charts.logistic_calibration(s["calibration_slope"], s["calibration_intercept"], x_max)
    return charts.Series(label, curve, markers=False)


def calibration_view(data: ModelData, lang: str) -> dict[str, Any] | None:
    """The calibration chart (logistic calibration curves and the diagonal) and its rows."""
    scores = _scores(data)
    fitted = {
        name: s for name, s in scores.items()
        if s.get("calibration_slope") is not None and s.get("calibration_intercept") is not None
    }  # fmt: skip
    if not fitted:
        return None
    x_max = _x_max(data)
    series = [_calibration_series(lang, name, s, x_max) for name, s in fitted.items()]
    diagonal = [(0.0, 0.0), (x_max, x_max)]
    series.append(charts.Series(message(lang, "chart.calibration.diagonal"), diagonal, True))
    y_top = max([x_max] + [y for s in series for _, y in s.points])
    svg = charts.line_chart(
        series, svg_id="calibration-chart", title=message(lang, "chart.calibration.title"),
        x_label=message(lang, "chart.calibration.x"), y_label=message(lang, "chart.calibration.y"),
        desc=message(lang, "chart.calibration.desc"), x_range=(0.0, x_max),
        y_range=(0.0, charts.nice_ticks(0.0, min(y_top, 1.0), 5)[-1]),
    )  # fmt: skip
    rows = [
        {
            "scorer": _t(lang, f"scorer.{name}", name),
            **{k: _num(s.get(k)) for k in ("brier", "ece", "calibration_slope",
                                           "calibration_intercept")},
        }
        for name, s in scores.items()
    ]  # fmt: skip
    return {"svg": Markup(svg), "rows": rows}  # noqa: S704


def recall_view(data: ModelData, lang: str) -> dict[str, Any] | None:
    """The recall-at-capacity chart (model and baselines) and its rows."""
    scores = _scores(data)
    caps = sorted({float(c) for s in scores.values() for c in s.get("capacity", {})})
    if not caps:
        return None
    series, rows = [], []
    for name, s in scores.items():
        by_cap = {float(c): (v.get("recall") or 0.0) for c, v in s.get("capacity", {}).items()}
        label = _t(lang, f"scorer.{name}", name)
        series.append(charts.Series(label, [(c * 100, by_cap.get(c, 0.0)) for c in caps]))
        rows.append({"scorer": label, "values": [_num(by_cap.get(c)) for c in caps]})
    ticks = [c * 100 for c in caps]
    svg = charts.line_chart(
        series, svg_id="recall-chart", title=message(lang, "chart.recall.title"),
        x_label=message(lang, "chart.recall.x"), y_label=message(lang, "chart.recall.y"),
        desc=message(lang, "chart.recall.desc"), x_range=(0.0, ticks[-1]), y_range=(0.0, 1.0),
        x_ticks=ticks, x_tick_labels=[f"{charts.fmt(x)}%" for x in ticks],
    )  # fmt: skip
    return {
        "svg": Markup(svg),  # noqa: S704
        "capacities": [f"{charts.fmt(c * 100)}%" for c in caps],
        "rows": rows,
    }


def _num(value: Any) -> str:
    return "—" if value is None else charts.fmt(float(value))


def fairness_view(data: ModelData, lang: str) -> dict[str, Any] | None:
    """The fairness rows at the headline capacity, and every flagged cell."""
    fair = (data.evaluation or {}).get("metrics", {}).get("fairness")
    if not fair or not fair.get("groups"):
        return None

    def row(r: dict[str, Any]) -> dict[str, Any]:
        ci = r.get("recall_ci") or [None, None]
        flags = [message(lang, "fair.flag_low")] if r.get("flag_low_recall") else []
        flags += [message(lang, "fair.few")] if r.get("few_positives") else []
        return {
            "group": _t(lang, f"fairgroup.{r['group']}", str(r["group"])),
            "value": str(r["value"]),
            "capacity": f"{charts.fmt(float(r['capacity']) * 100)}%",
            "n": r.get("n"),
            "positives": r.get("positives"),
            "recall": _num(r.get("recall")),
            "ci": "—" if ci[0] is None and ci[1] is None else f"{_num(ci[0])}–{_num(ci[1])}",
            "ratio": _num(r.get("recall_ratio")),
            "flags": "、".join(flags) if lang == "zh" else ", ".join(flags),
        }

    groups = fair["groups"]
    caps = sorted({float(r["capacity"]) for r in groups})
    headline = HEADLINE_CAPACITY if HEADLINE_CAPACITY in caps else caps[0]
    return {
        "capacity": f"{charts.fmt(headline * 100)}%",
        "summary": fairness_summary(groups, lang),
        "rows": [row(r) for r in groups if float(r["capacity"]) == headline],
        "flagged": [row(r) for r in groups if r.get("flag_low_recall")],
    }


def fairness_summary(groups: list[dict[str, Any]], lang: str) -> str:
    """How many group-capacity cells are flagged for low recall, in the page's language (the
    logged ``summary`` is English; this sentence is rebuilt from the cells)."""
    flagged = [r for r in groups if r.get("flag_low_recall")]
    return message(
        lang, "model.fairness_summary", flagged=len(flagged), total=len(groups),
        ratio=f"{LOW_RECALL_RATIO:g}", few=sum(bool(r.get("few_positives")) for r in flagged),
        min_positives=MIN_POSITIVES,
    )  # fmt: skip


def _with_ci(cell: dict[str, Any] | None) -> str:
    if not cell or cell.get("value") is None:
        return "—"
    low, high = cell.get("ci95") or [None, None]
    interval = "" if low is None or high is None else f" [{_num(low)}–{_num(high)}]"
    return _num(cell["value"]) + interval


def decomposition_view(data: ModelData, lang: str) -> dict[str, Any] | None:
    """Achievable recall x ranking efficiency at the headline capacity: the county, the hukou
    groups (with the county-wide list's recall) and every township."""
    dec = (data.evaluation or {}).get("metrics", {}).get("fairness_decomposition")
    if not dec or not dec.get("figures"):
        return None
    caps = [float(c) for c in dec.get("capacities", [])]
    c = HEADLINE_CAPACITY if HEADLINE_CAPACITY in caps else caps[-1]
    f = dec["figures"]

    def cells(prefix: str) -> dict[str, str]:
        return {
            what: _with_ci(f.get(f"fair.{prefix}{what}@{c:g}"))
            for what in ("recall", "achievable", "efficiency")
        }

    rows = [
        {"group": message(lang, "decomp.county"), "positives": "",
         **cells(""), "county": _with_ci(f.get(f"fair.county_recall@{c:g}"))},
    ]  # fmt: skip
    for g in ("urban", "rural"):
        rows.append(
            {"group": message(lang, f"decomp.{g}"), "positives": "", **cells(f"{g}_"),
             "county": _with_ci(f.get(f"fair.county_recall_{g}@{c:g}"))}
        )  # fmt: skip
    for town in dec.get("townships", []):
        rows.append(
            {
                "group": message(lang, "decomp.township", code=town["township_code"]),
                "positives": town.get("positives", ""),
                **{w: _with_ci(town.get(f"{w}@{c:g}")) for w in
                   ("recall", "achievable", "efficiency")},
                "county": "",
            }
        )  # fmt: skip
    label = message(lang, f"decomp.label_{dec.get('label', 'label')}")
    return {"capacity": f"{charts.fmt(c * 100)}%", "rows": rows, "label": label}


def drift_view(drift: dict[str, Any] | None, lang: str) -> dict[str, Any] | None:
    """The score's PSI and the features with the largest PSI."""
    if drift is None:
        return None
    rows = []
    if drift.get("score"):
        s = drift["score"]
        rows.append((message(lang, "drift.score"), _num(s["psi"]), s["band"]))
    for f in drift["features"][:TOP_DRIFT]:
        name = f.get(lang) or f["feature"]
        rows.append((str(name), _num(f["psi"]), f["band"]))
    return {
        "rows": rows,
        "bands": drift.get("bands", {}),
        "n": drift.get("n_current"),
        "summary": drift_summary(drift, lang),
    }


def drift_summary(drift: dict[str, Any], lang: str) -> str:
    """What was compared and the score's PSI, in the page's language."""

    def count(value: Any) -> str:
        return "—" if value is None else str(value)

    values = {
        "n_features": len(drift.get("features") or []),
        "n_current": count(drift.get("n_current")),
        "n_reference": count(drift.get("n_reference")),
    }
    score = drift.get("score")
    if not score:
        return message(lang, "model.drift_summary_noscore", **values)
    band = message(lang, f"drift.{score['band']}") if f"drift.{score['band']}" in MESSAGES else ""
    return message(
        lang, "model.drift_summary", score_psi=_num(score.get("psi")),
        score_band=band or str(score["band"]), **values,
    )  # fmt: skip


def _model_context(service, pages, lang: str) -> dict[str, Any]:
    ref = service.watcher.current()
    if ref is None:
        return {"version": None}
    data = pages.model_data.data(service, ref.version)
    run = service.run()
    drift = pages.model_data.drift(service, ref, run, data.reference) if run else None
    return {
        "version": ref.version,
        "run": run,
        "card": card_html(data.card, CARD_LANG) if data.card else None,
        "card_lang": CARD_LANG,
        "has_evaluation": data.evaluation is not None,
        "importance": importance_view(data, lang),
        "calibration": calibration_view(data, lang),
        "recall": recall_view(data, lang),
        "fairness": fairness_view(data, lang),
        "decomposition": decomposition_view(data, lang),
        "drift": drift_view(drift, lang),
    }


@router.get("/audit/model")
async def model_page(request: Request, viewer: ViewerDep, service: PageServiceDep) -> Response:
    """The model card, importance, calibration, recall at capacity, fairness and drift."""
    if viewer.role not in MODEL_ROLES:
        raise forbidden()
    lang = lang_of(request)
    context = await anyio.to_thread.run_sync(_model_context, service, pages_of(request), lang)
    return render(request, "model.html", context)
