"""The policy-comparison page's reading of ``twin compare`` reports: the figures it shows come
from the report as ``outreach.twin.compare.summarize`` writes it; a missing or broken report is
a sentence, never an error."""

from __future__ import annotations

import json
from types import SimpleNamespace

from core.reports import write_report
from outreach.twin.compare import HEADLINES, summarize
from serving.pages import charts
from serving.pages.twin_page import Comparison, load_comparison, twin_context


def _results(unassisted: list[int], reached: int, newly: int) -> dict:
    r = {h: 0 for h in HEADLINES}
    r |= {
        "unassisted_hardship_household_months": sum(unassisted),
        "undiscovered_need_reached": reached,
        "list_visits": 10 * reached,
        "newly_assisted_households": newly,
        "undiscovered_need_recall_last3": reached / 100,
        "list_visits_finding_need_share": 0.25,
        "unassisted_by_month": {f"2026-{m + 1:02d}": v for m, v in enumerate(unassisted)},
        "unassisted_by_group": {"urban": {"False": sum(unassisted) - 1, "True": 1}},
        "time_to_help": {"helped_within_6m": 0.5, "survival": [0.9, 0.8, 0.6]},
    }
    return r


def _summary() -> dict:
    per_seed = {
        0: {"status-quo": _results([50, 50], 0, 2), "oracle": _results([40, 30], 20, 12)},
        1: {"status-quo": _results([60, 55], 0, 3), "oracle": _results([45, 35], 24, 15)},
    }
    s = summarize(per_seed, ["status-quo", "oracle"])
    return s | {
        "policies": {"status-quo": {"version": "1", "description": "no lists"},
                     "oracle": {"version": "1", "description": "from the truth"}},
        "options": {"households": 400, "capacity": 0.05, "exploration": 0.03, "months": 2,
                    "first_seed": 0},
        "per_seed": {str(k): v for k, v in per_seed.items()},
        "finished_at": "2026-12-07T20:00:00+00:00",
    }  # fmt: skip


def _service(tmp_path):
    return SimpleNamespace(settings=SimpleNamespace(reports_dir=tmp_path / "reports"))


def test_no_comparison_yet_says_which_command_makes_one(tmp_path) -> None:
    ctx = twin_context(_service(tmp_path), "en")
    assert ctx["comparison"] is None and ctx["problem"] == "none"
    assert ctx["command"].startswith("outreach twin compare")


def test_a_broken_report_is_unreadable_not_an_error(tmp_path) -> None:
    folder = tmp_path / "reports" / "twin-compare"
    folder.mkdir(parents=True)
    for text in ("{not json", json.dumps({"seeds": "x"}), json.dumps([1, 2])):
        (folder / "latest.json").write_text(text, encoding="utf-8")
        assert load_comparison(tmp_path / "reports") == (None, "unreadable")


def test_the_page_shows_the_reports_paired_difference_and_means(tmp_path) -> None:
    summary = _summary()
    write_report(tmp_path / "reports", "twin-compare", summary)
    ctx = twin_context(_service(tmp_path), "en")
    assert isinstance(ctx["comparison"], Comparison)
    # oracle vs status quo removes (100-70 + 115-80)/2 = 32.5 months, interval from 2 seeds
    removed = summary["paired"]["oracle vs status-quo"]["unassisted_months_removed"]
    assert removed["mean"] == 32.5
    (row,) = ctx["paired"]
    assert row["pair"] == "oracle (from the truth) vs status quo (no lists)"
    assert row["cells"][0]["mean"] == "32.5"
    lo, hi = removed["ci95"]
    assert row["cells"][0]["ci"] == f"{charts.fmt(lo, 1)} – {charts.fmt(hi, 1)}"
    assert row["clear"] is (lo > 0 or hi < 0)
    oracle = next(r for r in ctx["pooled"] if r["policy"].startswith("oracle"))
    assert oracle["cells"][0]["mean"] == "75"  # (70 + 80) / 2 unassisted months
    assert oracle["cells"][4]["mean"] == "22%"  # recall (0.20 + 0.24) / 2
    # the cumulative chart: status quo's months averaged over seeds, then summed
    sq = next(r for r in ctx["unassisted"]["rows"] if r["policy"].startswith("status"))
    assert sq["values"] == ["55", "107.5"]
    helped = ctx["helped"]["rows"][0]["values"]
    assert helped == ["0.1", "0.2", "0.4"]
    assert {g["group"] for g in ctx["groups"]} == {"Urban = no", "Urban = yes"}
    assert ctx["facts"]["capacity"] == "5%" and ctx["facts"]["seeds"] == 2


def test_zh_page_labels_come_from_the_catalogue(tmp_path) -> None:
    write_report(tmp_path / "reports", "twin-compare", _summary())
    ctx = twin_context(_service(tmp_path), "zh")
    assert ctx["paired"][0]["pair"] == "参照名单（真实数据） 对比 现状（无名单）"
