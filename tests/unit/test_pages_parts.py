"""Parts of the web pages without a workspace: SVG charts, the message catalogue, sessions and
CSRF tokens, the security headers, form-error lines."""

from __future__ import annotations

import datetime as dt
import re
import stat
import xml.etree.ElementTree as ET

import pytest
from pydantic import ValidationError

from core.errors import ConfigError
from serving.api.schemas import Explanation, OutcomeCreate, Reason
from serving.pages import charts, i18n, present
from serving.pages.session import Session, Sessions, load_key, same_token
from serving.pages.web import TEMPLATES_DIR

SVG = "{http://www.w3.org/2000/svg}"

TODAY = dt.date.today().isoformat()  # a visit is recorded within a year of it


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, or this raises


# ---------------------------------------------------------------------------------- charts
@pytest.mark.parametrize(
    ("lo", "hi"), [(0, 1), (-3.9, -3.1), (0, 0.146), (-0.2, 0.7), (5, 5), (1e-4, 3e-4), (-40, 3)]
)
def test_nice_ticks_cover_the_range_in_round_steps(lo, hi) -> None:
    ticks = charts.nice_ticks(lo, hi, 5)
    assert ticks[0] <= lo and ticks[-1] >= hi
    steps = {round(b - a, 12) for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) == 1
    step = steps.pop()
    mantissa = step / 10 ** int(f"{step:e}".split("e")[1])
    assert round(mantissa, 6) in (1.0, 2.0, 5.0)
    assert 2 <= len(ticks) <= 12


def test_numbers_are_short() -> None:
    assert charts.fmt(0.146270549) == "0.146" and charts.fmt(-0.0001) == "0"
    assert charts.signed(0.4) == "+0.4" and charts.signed(-0.034) == "-0.034"
    assert charts.fmt(-22638035560.477) == "-2.26e+10"  # never a long digit run
    assert charts.fmt(float("nan")) == "—"
    assert charts.shorten("扣除重大疾病自付费用后人均月收入为低保标准的倍数", 10) == "扣除重大…"
    assert charts.shorten("short", 10) == "short"


def _waterfall(**kw) -> str:
    args = {
        "svg_id": "shap-waterfall", "title": "Why <this> score", "axis_label": "log-odds",
        "desc": "from base to score", "base_label": "base", "other_label": "others",
        "score_label": "score",
    }  # fmt: skip
    args.update(kw)
    return charts.waterfall(-3.8, [("income & age", 0.4), ("<b>x</b>", -0.1)], -3.3, **args)


def test_waterfall_goes_from_the_base_value_to_the_score() -> None:
    svg = _waterfall()
    root = _parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "shap-waterfall-title shap-waterfall-desc"
    assert root.find(f"{SVG}title").text == "Why <this> score"  # escaped in the source
    assert "&lt;this&gt;" in svg and "<b>" not in svg
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "log-odds" in texts and "-3.8" in texts and "-3.3" in texts
    bars = list(root.iter(f"{SVG}rect"))
    assert len(bars) == 3  # two contributions and what they leave out (+0.2)
    assert "+0.2" in texts and "others" in texts
    assert 'style="' not in svg  # the CSP forbids inline styles


def test_waterfall_without_a_rest_has_one_bar_per_contribution() -> None:
    svg = charts.waterfall(
        0.0, [("a", 0.5), ("b", -0.25)], 0.25, svg_id="w", title="t", axis_label="x",
        desc="d", base_label="b", other_label="o", score_label="s",
    )  # fmt: skip
    assert len(list(_parse(svg).iter(f"{SVG}rect"))) == 2


def test_bars_and_lines_are_labelled_svg() -> None:
    bars = charts.bars([("收入", 0.3), ("age", 0.0)], svg_id="imp", title="I", axis_label="A",
                       desc="D")  # fmt: skip
    root = _parse(bars)
    assert root.get("id") == "imp" and len(list(root.iter(f"{SVG}rect"))) == 2
    series = [
        charts.Series("model", [(1, 0.1), (5, 0.3)]),
        charts.Series("rules", [(1, 0.05), (5, 0.2)]),
        charts.Series("diagonal", [(0, 0), (5, 5)], dashed=True),
    ]
    lines = charts.line_chart(
        series, svg_id="recall-chart", title="R", x_label="capacity %", y_label="recall",
        desc="D", x_range=(0, 5), y_range=(0, 1), x_ticks=[1, 5], x_tick_labels=["1%", "5%"],
    )  # fmt: skip
    root = _parse(lines)
    assert len(list(root.iter(f"{SVG}polyline"))) == 3
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {"capacity %", "recall", "1%", "5%", "model", "rules", "diagonal"} <= texts
    assert 'style="' not in bars + lines


def test_logistic_calibration_curve() -> None:
    identity = charts.logistic_calibration(1.0, 0.0, 0.2, steps=4)
    assert [round(x, 6) for x, _ in identity] == [0.05, 0.1, 0.15, 0.2]
    assert all(abs(x - y) < 1e-6 for x, y in identity)
    flat = charts.logistic_calibration(0.0, -3.0, 0.2, steps=2)
    assert all(abs(y - 0.047426) < 1e-5 for _, y in flat)
    wild = charts.logistic_calibration(-2.2e10, -1.1e11, 0.2, steps=3)  # a degenerate fit
    assert all(0 <= y <= 1 for _, y in wild)


# ---------------------------------------------------------------------------------- i18n
def test_every_message_has_both_languages_with_the_same_placeholders() -> None:
    fields = re.compile(r"{(\w+)}")
    for key, (zh, en) in i18n.MESSAGES.items():
        assert zh.strip() and en.strip(), key
        assert set(fields.findall(zh)) == set(fields.findall(en)), key


def test_templates_use_only_known_messages() -> None:
    # every quoted key-shaped literal in a catalogue namespace (t("...") and the error page's
    # tables); keys built with ~ are checked by test_enumerated_keys_exist_in_the_catalogue
    spaces = {key.split(".")[0] for key in i18n.MESSAGES}
    literal = re.compile(r"""["']([a-z]+(?:\.[a-z0-9_]+)+)["']""")
    used = set()
    for path in TEMPLATES_DIR.glob("*.html"):
        used |= {k for k in literal.findall(path.read_text()) if k.split(".")[0] in spaces}
    assert len(used) > 100, "the scan found too few keys"
    assert used - set(i18n.MESSAGES) == set()


def test_enumerated_keys_exist_in_the_catalogue() -> None:
    from serving.batch.corrections import APPLICABLE
    from serving.batch.frame import BANDS
    from serving.pages.exports import COLUMNS
    from serving.pages.households import OUTCOMES
    from serving.store.tables import ROLES

    keys = [f"role.{r}" for r in ROLES] + [f"band.{b}" for _, b in BANDS]
    keys += [f"outcome.{o}" for o in OUTCOMES] + [
        f"hh.saved.{f}" for f in ("outcome", "correction")
    ]
    keys += [f"status.{s}" for s in ("likely", "needs_verification", "not_eligible")]
    keys += [f"gap.{g}" for g in ("likely", "verify")]
    keys += [f"correction.{s}" for s in ("open", "applied", "rejected")]
    keys += [f"drift.{b}" for b in ("stable", "moderate", "major")]
    keys += [f"hh.source.{s}" for s in ("stored", "on_demand")] + ["log.read", "log.write"]
    keys += [f"item.{i}" for i in APPLICABLE]
    keys += [f"export.col.{c}" for c in COLUMNS]
    assert [k for k in keys if k not in i18n.MESSAGES] == []


def test_english_export_headers_are_the_column_names_and_purpose_matches() -> None:
    from serving.batch.priority import PURPOSE
    from serving.pages.exports import COLUMNS

    assert [i18n.message("en", f"export.col.{c}") for c in COLUMNS] == list(COLUMNS)
    # the stored purpose glosses its Chinese slogan; an English page does not
    gloss = re.compile(r" \([^)]*[\u4e00-\u9fff][^)]*\)")
    assert i18n.message("en", "purpose.statement") == gloss.sub("", PURPOSE)


def test_language_choice_and_program_names() -> None:
    assert i18n.pick_lang(None, None) == "zh"
    assert i18n.pick_lang("en", "zh") == "en" and i18n.pick_lang("fr", "en") == "en"
    assert i18n.pick_lang("<x>", "<y>") == "zh"
    assert i18n.program_name("zh", "dibao") != i18n.program_name("en", "dibao")
    assert i18n.program_name("en", "no_such") == "no_such"
    assert "dibao" in i18n.program_codes()
    assert i18n.translator("en")("hh.title", ref="H1") == "Household H1"


# ---------------------------------------------------------------------------------- sessions
def test_sessions_round_trip_and_refuse_tampering_and_age() -> None:
    now = [1_000_000.0]
    sessions = Sessions(b"k" * 32, max_age=3600, clock=lambda: now[0])
    value, session = sessions.issue("0123456789")
    assert sessions.read(value) == session and session.token_id == "0123456789"
    assert "0123456789" not in sessions.csrf_token(session)
    payload, _, signature = value.rpartition(".")
    forged = payload.replace(payload[4], "A" if payload[4] != "A" else "B", 1) + "." + signature
    assert sessions.read(forged) is None
    mid = len(signature) // 2
    other = "A" if signature[mid] != "A" else "B"
    assert sessions.read(f"{payload}.{signature[:mid]}{other}{signature[mid + 1 :]}") is None
    assert (
        sessions.read("") is None
        and sessions.read(None) is None
        and sessions.read("x" * 600) is None
    )
    assert Sessions(b"o" * 32).read(value) is None  # another key
    now[0] += 3601
    assert sessions.read(value) is None  # too old (signing out: test_service_sessions.py)


def test_csrf_tokens_are_per_session_and_compared_safely() -> None:
    sessions = Sessions(b"k" * 32)
    a = sessions.csrf_token(Session("0123456789", "n1", 1))
    b = sessions.csrf_token(Session("0123456789", "n2", 1))
    assert a != b and a == sessions.csrf_token(Session("0123456789", "n1", 1))
    assert not re.search(r"\d{17}", a)  # base64: no long digit run on any page
    assert sessions.signin_csrf("p") != sessions.csrf_token(Session("x", "p", 1))
    assert same_token(a, a) and not same_token(a, b)
    assert not same_token(a, None) and not same_token(a, "") and not same_token(a, ["x"])


def test_session_key_is_created_private_and_reused(tmp_path) -> None:
    path = tmp_path / "secrets" / "session.key"
    key = load_key(path, environ={})
    assert len(key) >= 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_key(path, environ={}) == key
    assert load_key(path, environ={"OUTREACH_SESSION_KEY": "e" * 40}) == b"e" * 40
    with pytest.raises(ConfigError):
        load_key(path, environ={"OUTREACH_SESSION_KEY": "short"})
    path.write_text("tiny\n")
    with pytest.raises(ConfigError):
        load_key(path, environ={})


# ---------------------------------------------------------------------------------- headers
def test_security_headers_page_policy_on_pages_none_on_the_api() -> None:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from serving.api.headers import API_CSP, CSP, SecurityHeaders

    async def ok(request):
        return PlainTextResponse("ok")

    async def cached(request):
        return PlainTextResponse("ok", headers={"Cache-Control": "max-age=5"})

    app = Starlette(routes=[Route("/page", ok), Route("/api/v1/x", ok), Route("/own", cached),
                            Route("/static/a.css", ok)])  # fmt: skip
    client = TestClient(SecurityHeaders(app))
    page = client.get("/page").headers
    assert page["content-security-policy"] == CSP and page["cache-control"] == "no-store"
    assert page["x-content-type-options"] == "nosniff" and page["referrer-policy"] == "no-referrer"
    api = client.get("/api/v1/x").headers
    assert api["content-security-policy"] == API_CSP and api["cache-control"] == "no-store"
    assert api["x-content-type-options"] == "nosniff"
    assert client.get("/own").headers["cache-control"] == "max-age=5"
    assert client.get("/static/a.css").headers["cache-control"] == "no-cache"
    assert "strict-transport-security" not in page


# ---------------------------------------------------------------------------------- present
def test_form_errors_name_the_field_and_rule_never_the_value() -> None:
    secret = "330226" + "19900101" + "1234"  # an ID-number shape, built so no scan trips here
    with pytest.raises(ValidationError) as exc:
        OutcomeCreate.model_validate(
            {"visit_date": TODAY, "outcome": "visited", "note": f"ID {secret}"}
        )
    line = present.validation_error("zh", exc.value)
    assert line.startswith("备注") and secret not in line
    with pytest.raises(ValidationError) as exc:
        OutcomeCreate.model_validate({"outcome": "visited"})
    assert present.validation_error("en", exc.value) == "Visit date: required"
    with pytest.raises(ValidationError) as exc:
        OutcomeCreate.model_validate({"visit_date": "soon", "outcome": "visited"})
    assert present.validation_error("en", exc.value) == "Visit date: a date as YYYY-MM-DD"
    with pytest.raises(ValidationError) as exc:
        OutcomeCreate.model_validate({"visit_date": TODAY, "outcome": "gone"})
    assert present.validation_error("en", exc.value) == "Outcome: choose one of the options"
    assert present.api_error("en", "visit_date: a visit cannot be in the future") == (
        "Visit date: a visit cannot be in the future"
    )
    assert present.api_error("en", "programs_started: unknown program 'x'") == (
        "Programs started: unknown program"
    )
    assert present.api_error("zh", "weird").endswith("无效")


def test_waterfall_rows_add_up_and_references_shorten() -> None:
    reasons = [Reason(feature="dependency_ratio", shap=0.4, value=3, text="抚养比 3", group="s")]
    e = Explanation(units="log-odds", base_value=-3.8, zh=reasons, en=reasons)
    rows = present.waterfall_rows(e, -3.3, "zh")
    assert rows[0][1] == "-3.8" and rows[1] == ("家庭抚养比为 3.0", "+0.4")
    assert rows[2][1] == "+0.1" and rows[-1][1] == "-3.3"
    assert present.waterfall_rows(None, -3.3, "zh") == []
    svg = present.waterfall_svg(e, -3.3, 0.036, "en", "shap-waterfall")
    assert svg is not None and "log-odds" in svg and "dependency ratio" in svg
    assert present.short_ref("H0127860cb5d76fcbb234d8d2") == "H0127860…d8d2"
    assert present.probability(0.42) == "0.42" and present.probability(0.004) == "0.004"
    assert present.score_line("zh", "high", 0.42) == "高 · 0.42"


# ---------------------------------------------------------------------------------- field list
def _entry(programs: list[tuple[str, str | None]], band: str = "high", village: str = "v1"):
    from serving.api.schemas import EntryReasons, ListEntry, ProgramStatus

    statuses = [
        ProgramStatus(
            program=p,
            status="likely" if g == "likely" else "needs_verification",
            receiving=False,
            gap=g,
        )  # fmt: skip
        for p, g in programs
    ]
    gaps = [p for p, g in programs if g]
    reasons = EntryReasons(model=None, programs=statuses, gaps=gaps, trace=[])
    return ListEntry(rank=1, household_ref="H" + "ab" * 12, masked_name=None, masked_id=None,
                     village_code=village, score=0.4, band=band, priority=0.4, exploration=False,
                     path="ranked", selection_probability=1.0,
                     low_confidence_link=False, reasons=reasons, verify=[])  # fmt: skip


def test_gaps_show_at_most_three_likely_and_fold_the_rest() -> None:
    e = _entry([("tekun", "verify"), ("dibao", "likely"), ("orphan", "verify"),
                ("temporary", "likely"), ("education", "likely"), ("medical", "likely"),
                ("care", None)])  # fmt: skip
    g = present.gaps_of(e.reasons.programs, e.reasons.gaps)
    assert g.shown == ["dibao", "temporary", "education"]
    assert g.more_likely == ["medical"] and g.verify == ["tekun", "orphan"]
    assert g.codes == ["dibao", "temporary", "education", "medical", "tekun", "orphan"]
    assert present.gaps_of([], ["dibao"]).verify == ["dibao"]


def test_reasons_are_phrased_from_the_catalogue_and_history_is_context() -> None:
    stored = [
        Reason(feature="months_since_arrears", shap=0.5, value=0, text="0 个月前有欠费"),
        Reason(feature="months_since_last_visit", shap=0.2, value=11, text="11 个月前被走访"),
        Reason(feature="not_in_catalogue", shap=0.1, value=1, text="kept as stored"),
    ]
    e = Explanation(units="log-odds", base_value=-3.0, zh=stored, en=stored)
    causes, context = present.split_reasons(e, "zh")
    assert [r.text for r in causes] == ["本月有水电燃气欠费", "kept as stored"]
    assert [r.text for r in context] == ["11 个月前曾被走访"]
    assert present.split_reasons(None, "en") == ([], [])
    rows = present.waterfall_rows(e, -2.0, "en")
    assert ("Context: last visited 11 months ago", "+0.2") in rows


def test_field_list_filters_and_groups() -> None:
    from serving.pages import fieldlist
    from serving.pages.coverage_data import VisitState

    a = _entry([("dibao", "likely")], "high", "330226001001")
    b = _entry([("tekun", "verify")], "low", "330226001002").model_copy(
        update={"household_ref": "H" + "cd" * 12, "rank": 2})  # fmt: skip
    states = {b.household_ref: VisitState("in_need", __import__("datetime").date(2025, 1, 2), [])}
    f = fieldlist.Filters.parse({"gap": "tekun"}, [])
    assert [e.rank for e in (a, b) if fieldlist.keep(e, f, states)] == [2]
    f = fieldlist.Filters.parse({"pending": "1", "band": "nonsense"}, ["bad", a.household_ref])
    assert f.band is None and f.refs == (a.household_ref,)
    assert [e.rank for e in (a, b) if fieldlist.keep(e, f, states)] == [1]
    assert f.query() == f"?pending=1&ref={a.household_ref}"
    groups = fieldlist.by_village([b], states, order=[a, b])
    assert [(g.code, g.n, g.visited) for g in groups] == [("330226001002", 1, 1)]
    assert fieldlist.options([a, b]) == {"bands": ["high", "low"], "gaps": ["dibao", "tekun"]}


def test_a_phrase_shows_once_among_the_reasons() -> None:
    same = [
        Reason(feature="vehicles", shap=0.3, value=0, text=""),
        Reason(feature="working_age", shap=0.2, value=0, text=""),
        Reason(feature="vehicle_value", shap=0.1, value=0.0, text=""),
    ]
    causes, _ = present.split_reasons(Explanation(zh=same, en=same), "zh")
    assert [r.text for r in causes] == ["家庭名下无机动车", "家庭中无18-59岁成员"]
