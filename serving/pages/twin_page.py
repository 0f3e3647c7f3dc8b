"""``GET /twin``: the latest policy comparison on the county twin, for supervisors, auditors and
data scientists.

``outreach twin compare --workspace W`` writes its summary as the workspace's ``twin-compare``
report (``<W>/data/reports/twin-compare/latest.json``, :mod:`outreach.twin.compare`); the page
served from the same workspace reads that file on each request and shows:

- what was compared: the simulated county (households, loop months, seeds, capacity,
  exploration share), each policy with its version, and when the comparison finished (UTC);
- per policy, the mean over seeds with its 95 % t interval: unassisted hardship
  household-months, undiscovered need reached (and found in need), silent reached, recall over
  the last three loop months, list visits, the share of them finding need, newly assisted,
  helped within 6 months (Kaplan-Meier);
- the **paired differences** against status quo and against the rules (same worlds, common
  random numbers), which is how a comparison is read (docs/twin.md);
- two charts, each with its numbers in a table: cumulative unassisted hardship months by loop
  month, and the share of silent households enrolled by months since hardship began;
- unassisted hardship months by group (urban/rural, elderly living alone, severe disability,
  township), mean over seeds.

The figures are of a simulated county, not of this county's residents: counts only, no
household, so the page is not audited (like the model page). A missing comparison is a sentence
saying which command makes one; an unreadable report is a sentence too, never a 500. The report
is a boundary, so it is read through :class:`Comparison` (unknown keys ignored, wrong types
refused).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, ValidationError

from serving.pages import charts
from serving.pages.i18n import MESSAGES, message
from serving.pages.web import PageServiceDep, ViewerDep, forbidden, lang_of, render
from serving.runtime.service import Service

router = APIRouter(include_in_schema=False)
TWIN_ROLES = frozenset({"supervisor", "auditor", "data_scientist"})
REPORT_STAGE = "twin-compare"
COMMAND = "outreach twin compare --policies status-quo,rules,model,oracle --seeds 5"
# pooled figures shown per policy, in the table's column order (keys of the twin's results)
POOLED = (
    "unassisted_hardship_household_months",
    "undiscovered_need_reached",
    "undiscovered_need_reached_found_in_need",
    "silent_reached",
    "undiscovered_need_recall_last3",
    "list_visits",
    "list_visits_finding_need_share",
    "newly_assisted_households",
    "helped_within_6m",
)
PAIRED = (
    "unassisted_months_removed",
    "undiscovered_need_reached_more",
    "list_visits_per_extra_household_assisted",
)
GROUPS = ("urban", "elderly_alone", "severe_disability", "township_idx")
BOOLEAN = {"True": "yes", "False": "no", "true": "yes", "false": "no"}


class _Open(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Interval(_Open):
    mean: float | None = None
    ci95: tuple[float | None, float | None] = (None, None)
    seeds: int = 0


class TimeToHelp(_Open):
    survival: list[float] = []


class PolicyResults(_Open):
    unassisted_by_month: dict[str, int] = {}
    unassisted_by_group: dict[str, dict[str, int]] = {}
    time_to_help: TimeToHelp = TimeToHelp()


class PolicyInfo(_Open):
    version: str
    description: str = ""


class Comparison(_Open):
    """The parts of a ``twin-compare`` report the page reads."""

    seeds: list[int]
    policies: dict[str, PolicyInfo]
    pooled: dict[str, dict[str, Interval]]
    paired: dict[str, dict[str, Interval]] = {}
    options: dict[str, Any] = {}
    per_seed: dict[str, dict[str, PolicyResults]] = {}
    finished_at: str | None = None


def load_comparison(reports_dir: Path) -> tuple[Comparison | None, str | None]:
    """The latest comparison, or ``(None, problem)``: ``"none"`` when no comparison was made in
    this workspace, ``"unreadable"`` when the report is not a comparison."""
    path = reports_dir / REPORT_STAGE / "latest.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, "none"
    except OSError:
        return None, "unreadable"
    try:
        return Comparison.model_validate(json.loads(text)), None
    except (ValueError, ValidationError):
        return None, "unreadable"


def _policy_label(lang: str, name: str) -> str:
    key = f"twinpolicy.{name}"
    return message(lang, key) if key in MESSAGES else name


def _cell(iv: Interval | None, share: bool = False) -> dict[str, str]:
    """Mean and interval as text (shares as percentages)."""
    if iv is None or iv.mean is None:
        return {"mean": "—", "ci": "—"}
    scale, digits = (100.0, 1) if share else (1.0, 1)
    lo, hi = iv.ci95
    mean = charts.fmt(iv.mean * scale, digits) + ("%" if share else "")
    if lo is None or hi is None:
        return {"mean": mean, "ci": "—"}
    low, high = charts.fmt(lo * scale, digits), charts.fmt(hi * scale, digits)
    return {"mean": mean, "ci": f"{low} – {high}"}


def _excludes_zero(iv: Interval | None) -> bool:
    return bool(iv and iv.ci95[0] is not None and iv.ci95[1] is not None
                and (iv.ci95[0] > 0 or iv.ci95[1] < 0))  # fmt: skip


def _pair_label(lang: str, key: str) -> str:
    left, _, right = key.partition(" vs ")
    return message(lang, "twin.vs", a=_policy_label(lang, left), b=_policy_label(lang, right))


def _mean_series(c: Comparison, name: str) -> list[float]:
    """Cumulative unassisted hardship months by loop month, mean over seeds."""
    runs = [c.per_seed[s][name] for s in c.per_seed if name in c.per_seed[s]]
    months = [list(r.unassisted_by_month.values()) for r in runs if r.unassisted_by_month]
    if not months:
        return []
    n = min(map(len, months))
    totals = [sum(m[i] for m in months) / len(months) for i in range(n)]
    return [sum(totals[: i + 1]) for i in range(n)]


def _helped_series(c: Comparison, name: str) -> list[float]:
    """The share enrolled by months since silent hardship began (1 - survival), mean over
    seeds."""
    curves = [c.per_seed[s][name].time_to_help.survival for s in c.per_seed
              if name in c.per_seed[s]]  # fmt: skip
    curves = [x for x in curves if x]
    if not curves:
        return []
    n = min(map(len, curves))
    return [1.0 - sum(x[i] for x in curves) / len(curves) for i in range(n)]


def _chart(lang: str, c: Comparison, which: str) -> dict[str, Any] | None:
    series_of = _mean_series if which == "unassisted" else _helped_series
    lines = {name: series_of(c, name) for name in c.policies}
    lines = {k: v for k, v in lines.items() if v}
    if not lines:
        return None
    n = max(map(len, lines.values()))
    ticks = [float(i) for i in range(1, n + 1)]
    top = max(max(v) for v in lines.values())
    y_hi = 1.0 if which == "helped" else charts.nice_ticks(0.0, max(top, 1.0), 5)[-1]
    series = [charts.Series(_policy_label(lang, k), [(i + 1.0, y) for i, y in enumerate(v)])
              for k, v in lines.items()]  # fmt: skip
    svg = charts.line_chart(
        series, svg_id=f"twin-{which}-chart", title=message(lang, f"twin.chart.{which}.title"),
        x_label=message(lang, f"twin.chart.{which}.x"),
        y_label=message(lang, f"twin.chart.{which}.y"),
        desc=message(lang, f"twin.chart.{which}.desc"), x_range=(1.0, max(float(n), 2.0)),
        y_range=(0.0, y_hi), x_ticks=ticks, x_tick_labels=[str(int(t)) for t in ticks],
    )  # fmt: skip
    digits = 3 if which == "helped" else 1
    rows = [{"policy": _policy_label(lang, k), "values": [charts.fmt(y, digits) for y in v]
             + ["—"] * (n - len(v))} for k, v in lines.items()]  # fmt: skip
    return {"svg": Markup(svg), "months": [str(i) for i in range(1, n + 1)], "rows": rows}  # noqa: S704


def _groups(lang: str, c: Comparison) -> list[dict[str, Any]]:
    """Unassisted hardship months by group value and policy, mean over seeds."""
    out = []
    for group in GROUPS:
        values: dict[str, dict[str, float]] = {}
        for name in c.policies:
            runs = [c.per_seed[s][name] for s in c.per_seed if name in c.per_seed[s]]
            for r in runs:
                for value, n in r.unassisted_by_group.get(group, {}).items():
                    cell = values.setdefault(value, {}).setdefault(name, 0.0)
                    values[value][name] = cell + n / len(runs)
        for value in sorted(values, key=lambda v: (len(v), v)):
            shown = message(lang, BOOLEAN[value]) if value in BOOLEAN else value
            label = message(lang, f"twin.group.{group}", value=shown)
            cells = [charts.fmt(values[value].get(n, 0.0), 1) for n in c.policies]
            out.append({"group": label, "values": cells})
    return out


def twin_context(service: Service, lang: str) -> dict[str, Any]:
    """Everything the page shows (or the sentence saying why there is nothing)."""
    c, problem = load_comparison(service.settings.reports_dir)
    if c is None:
        return {"comparison": None, "problem": problem, "command": COMMAND}
    opts = c.options
    share_cols = {"undiscovered_need_recall_last3", "list_visits_finding_need_share",
                  "helped_within_6m"}  # fmt: skip
    pooled = [
        {"policy": _policy_label(lang, name), "version": info.version,
         "cells": [_cell(c.pooled.get(name, {}).get(k), k in share_cols) for k in POOLED]}
        for name, info in c.policies.items()
    ]  # fmt: skip
    paired = [
        {"pair": _pair_label(lang, key),
         "cells": [_cell(d.get(k)) for k in PAIRED],
         "clear": _excludes_zero(d.get("unassisted_months_removed"))}
        for key, d in c.paired.items()
    ]  # fmt: skip
    return {
        "comparison": c,
        "problem": None,
        "command": COMMAND,
        "facts": {
            "households": opts.get("households", "—"),
            "months": opts.get("months", "—"),
            "seeds": len(c.seeds),
            "first_seed": opts.get("first_seed", c.seeds[0] if c.seeds else "—"),
            "capacity": charts.fmt(float(opts.get("capacity", 0.0)) * 100, 1) + "%",
            "exploration": charts.fmt(float(opts.get("exploration", 0.0)) * 100, 1) + "%",
            "finished": c.finished_at or "—",
        },
        "policy_names": [_policy_label(lang, n) for n in c.policies],
        "pooled": pooled,
        "paired": paired,
        "unassisted": _chart(lang, c, "unassisted"),
        "helped": _chart(lang, c, "helped"),
        "groups": _groups(lang, c),
    }


@router.get("/twin")
async def twin_page(request: Request, viewer: ViewerDep, service: PageServiceDep) -> Response:
    """The latest policy comparison on the county twin."""
    if viewer.role not in TWIN_ROLES:
        raise forbidden()
    context = await anyio.to_thread.run_sync(twin_context, service, lang_of(request))
    return render(request, "twin.html", context)
