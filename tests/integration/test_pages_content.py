"""The web pages on the scored fixture county: the visit list, exports, the outcome and
correction forms, invalid forms, audited reads, charts, the audit log page, a scan for ID
numbers and clear names, and unknown paths (the authorization matrix, sessions, headers and
CSRF are in ``test_pages_access.py``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import openpyxl
import pytest
import sqlalchemy as sa
from support.pages import (
    PAGES,
    RECENT,
    ROLES,
    TARGETS,
    audit_rows,
    client,
    count_rows,
    csrf_of,
    service_engine,
    subject,
)

from serving.pages import exports
from serving.store import tables

pytestmark = pytest.mark.integration

ID_NUMBER = re.compile(r"\d{17}[\dXx]")
KEYED_HASH = re.compile(r"\b[HR][0-9a-f]{20,24}\b")
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


# ---------------------------------------------------------------------------------- lists
def _rows(html: str) -> list[tuple[str, str]]:
    return re.findall(r'data-testid="list-row" data-ref="(H[0-9a-f]{24})" data-village="(\d{12})"',
                      html)  # fmt: skip


def test_visit_list_shows_the_area_its_purpose_and_filters_by_village(app, browsers, s) -> None:
    c = browsers["caseworker"]
    page = c.get("/lists/330226001")
    rows = _rows(page.text)
    assert rows and all(v.startswith("330226001") for _, v in rows)
    assert 'data-testid="purpose"' in page.text and "绝不作为减少、暂停或追回" in page.text
    assert page.text.count('data-testid="household-link"') == len(rows)
    assert re.search(r"· 0\.\d\d", page.text)
    for testid in ("export-csv", "export-xlsx", "print"):
        assert f'data-testid="{testid}"' in page.text
    village = rows[-1][1]
    one = c.get(f"/lists/330226001?village={village}")
    assert one.status_code == 200 and {v for _, v in _rows(one.text)} == {village}
    assert f'href="/lists/330226001/export.csv?village={village}"' in one.text
    foreign = c.get("/lists/330226001?village=330226002001")
    missing = c.get("/lists/330226001?village=330226001999")
    garbage = c.get("/lists/330226001?village=%3Cscript%3E")
    assert foreign.status_code == missing.status_code == garbage.status_code == 404
    assert foreign.content == missing.content == garbage.content
    printed = c.get("/lists/330226001/print")
    assert printed.text.count('data-testid="print-sheet"') == len(rows)
    ds = browsers["data_scientist"].get("/lists/330226001")
    assert "王*" not in ds.text and _rows(ds.text) == rows
    sup = browsers["supervisor"].get("/lists")
    assert sup.text.count('data-testid="jurisdiction-link"') >= 2


def test_exports_have_the_columns_a_bom_and_codes_as_text(app, browsers) -> None:
    c = browsers["caseworker"]
    rows = _rows(c.get("/lists/330226001").text)
    r = c.get("/lists/330226001/export.csv")
    assert r.headers["content-disposition"] == (
        'attachment; filename="visit-list-330226001-2024-12-31.csv"'
    )
    assert r.content.startswith(b"\xef\xbb\xbf") and r.headers["cache-control"] == "no-store"
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))
    assert table[0] == ["序号", "家庭编号", "户主（脱敏）", "村编码", "风险等级", "概率",
                        "主要原因", "可能符合但未享受的救助", "走访时核实", "探索", "模型版本",
                        "用途", "未导出的健康/收入原因数", "导出人（令牌编号）",
                        "导出时间（UTC）"]  # fmt: skip
    # the page groups by village; the file keeps the list's rank order
    assert sorted((row[1], row[3]) for row in table[1:]) == sorted(rows)
    assert [int(row[0]) for row in table[1:]] == sorted(int(row[0]) for row in table[1:])
    assert all(not cell.startswith(DANGEROUS) for row in table for cell in row)
    en = c.get("/lists/330226001/export.csv?lang=en").content.decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(en))) == list(exports.COLUMNS)

    village = rows[0][1]
    x = c.get(f"/lists/330226001/export.xlsx?village={village}")
    assert x.headers["content-type"] == exports.CONTENT_TYPES["xlsx"]
    book = openpyxl.load_workbook(io.BytesIO(x.content))
    cells = list(book.worksheets[0].iter_rows())
    assert len(cells[0]) == len(exports.COLUMNS)
    assert sorted((row[1].value, row[3].value) for row in cells[1:]) == sorted(
        r for r in rows if r[1] == village
    )
    for row in cells[1:]:
        for cell in (row[1], row[3], row[10]):
            assert cell.data_type == "s" and cell.number_format == "@", cell.coordinate
        assert all(not str(cell.value or "").startswith(DANGEROUS) for cell in row)


def _exportaudit_rows(app) -> list[dict]:
    engine = service_engine(app.state.service.settings)
    with engine.connect() as conn:
        a = tables.audit_log.c
        q = sa.select(tables.audit_log).where(a.resource == "list").order_by(a.id.desc())
        rows = [dict(r) for r in conn.execute(q.limit(5)).mappings()]
    engine.dispose()
    return rows


def test_exports_hold_health_and_income_reasons_back_and_name_the_exporter(app, browsers) -> None:
    c = browsers["caseworker"]
    token_id = c.get("/lists/330226001").text and _exportaudit_rows(app)[0]["actor"]
    plain = list(csv.DictReader(io.StringIO(
        c.get("/lists/330226001/export.csv?lang=en").content.decode("utf-8-sig"))))  # fmt: skip
    assert {row["exported_by"] for row in plain} == {token_id}
    assert all(row["exported_at"].endswith("+00:00") for row in plain)
    assert sum(int(row["withheld_reasons"]) for row in plain) > 0  # the fixture list has some
    (audit,) = _exportaudit_rows(app)[:1]
    assert audit["detail"]["sensitive"] is False and audit["detail"]["channel"] == "export.csv"
    for bad in ("?sensitive=1", "?sensitive=1&purpose=short", "?sensitive=yes&purpose=" + "x" * 20,
                "?sensitive=1&purpose=" + "x" * 201):  # fmt: skip
        assert c.get(f"/lists/330226001/export.csv{bad}").status_code == 422, bad
    purpose = "medical assistance review with the township office"
    full = list(csv.DictReader(io.StringIO(c.get(
        f"/lists/330226001/export.csv?lang=en&sensitive=1&purpose={purpose}"
    ).content.decode("utf-8-sig"))))  # fmt: skip
    assert sum(int(row["withheld_reasons"]) for row in full) == 0
    assert all(purpose in row["purpose"] for row in full)
    assert sum(len(r["top_reasons"]) for r in full) > sum(len(r["top_reasons"]) for r in plain)
    audit = _exportaudit_rows(app)[0]
    assert audit["detail"]["sensitive"] is True and audit["detail"]["export_purpose"] == purpose
    book = openpyxl.load_workbook(io.BytesIO(c.get("/lists/330226001/export.xlsx").content))
    about = dict(row for row in book.worksheets[1].iter_rows(values_only=True))
    assert about["导出人（令牌编号）"] == token_id and "未导出" in about["健康和收入原因"]


# ---------------------------------------------------------------------------------- forms
def _visit_rows(html: str) -> int:
    return html.count('data-testid="visit-row"')


def test_an_outcome_posted_is_stored_and_shown_with_a_flash(app, browsers, s) -> None:
    c = browsers["caseworker"]
    url = f"/households/{s.own_household}"
    page = c.get(url)
    before = _visit_rows(page.text)
    assert 'id="outcome-form"' in page.text and 'id="correction-form"' in page.text
    form = {"csrf_token": csrf_of(page.text), "outcome": "in_need", "visit_date": RECENT,
            "programs_started": ["dibao", "medical_assistance"], "note": "页面测试"}  # fmt: skip
    r = c.post(f"{url}/outcome", data=form)
    assert r.status_code == 303 and r.headers["location"] == url
    after = c.get(url)
    assert 'data-testid="flash"' in after.text and _visit_rows(after.text) == before + 1
    assert RECENT in after.text and "页面测试" in after.text
    assert 'data-testid="flash"' not in c.get(url).text  # shown once
    engine = service_engine(app.state.service.settings)
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(tables.visit_outcomes)
            .where(tables.visit_outcomes.c.household_id == s.own_household)
            .order_by(tables.visit_outcomes.c.id.desc())
        ).mappings().first()  # fmt: skip
        audit = conn.execute(
            sa.select(tables.audit_log.c.action, tables.audit_log.c.resource)
            .where(tables.audit_log.c.request_id == r.headers["x-request-id"])
        ).all()  # fmt: skip
    engine.dispose()
    assert row["outcome"] == "in_need" and row["programs_started"] == [
        "dibao",
        "medical_assistance",
    ]
    assert row["visit_date"] == dt.date.fromisoformat(RECENT) and row["note"] == "页面测试"
    assert [tuple(a) for a in audit] == [("write", "visit_outcome")]
    auditor_view = browsers["auditor"].get(url).text
    assert "页面测试" in auditor_view
    assert "页面测试" not in browsers["data_scientist"].get(url).text  # no notes


def test_a_correction_posted_is_stored_and_listed(app, browsers, s) -> None:
    c = browsers["supervisor"]
    url = f"/households/{s.own_household}"
    token = csrf_of(c.get(url).text)
    before = count_rows(app.state.service.settings, tables.corrections)
    form = {"csrf_token": token, "item": "车辆", "reference": "", "correction": "车已卖出",
            "reason": "看到过户凭证"}  # fmt: skip
    r = c.post(f"{url}/corrections", data=form)
    assert r.status_code == 303 and r.headers["location"] == url
    assert count_rows(app.state.service.settings, tables.corrections) == before + 1
    page = c.get(url).text
    assert "车已卖出" in page and 'data-testid="correction-row"' in page
    assert "车已卖出" not in browsers["data_scientist"].get(url).text


ID_LIKE = "330226" + "19900101" + "1234"  # an ID-number shape, built so no scan trips here
BAD_OUTCOMES = [
    {"outcome": "in_need", "visit_date": "not-a-date"},
    {"outcome": "in_need", "visit_date": ""},
    {"outcome": "moved_away", "visit_date": RECENT},
    {"outcome": "visited", "visit_date": RECENT, "note": f"身份证 {ID_LIKE}"},
    {"outcome": "visited", "visit_date": (dt.date.today() + dt.timedelta(days=3)).isoformat()},
    {"outcome": "visited", "visit_date": RECENT, "programs_started": ["dibao"]},
    {"outcome": "in_need", "visit_date": RECENT, "programs_started": ["no_such"]},
    {"outcome": "in_need", "visit_date": RECENT, "programs_started": ["BAD!"]},
    {"outcome": "visited", "visit_date": RECENT, "note": "长" * 1001},
]
BAD_CORRECTIONS = [
    {"item": "", "correction": "x", "reason": "y"},
    {"item": "vehicle", "correction": "", "reason": "y"},
    {"item": "vehicle", "correction": f"号码 {ID_LIKE}", "reason": "y"},
    {"item": "v" * 201, "correction": "x", "reason": "y"},
]


def test_invalid_forms_answer_422_with_one_line_and_write_nothing(app, browsers, s) -> None:
    c = browsers["caseworker"]
    url = f"/households/{s.own_household}"
    token = csrf_of(c.get(url).text)
    settings = app.state.service.settings
    written = (
        count_rows(settings, tables.visit_outcomes),
        count_rows(settings, tables.corrections),
    )
    cases = [("outcome", f) for f in BAD_OUTCOMES] + [("corrections", f) for f in BAD_CORRECTIONS]
    for path, form in cases:
        r = c.post(f"{url}/{path}", data={**form, "csrf_token": token})
        assert r.status_code == 422, (path, form)
        errors = re.findall(r'data-testid="form-error">([^<]+)<', r.text)
        assert len(errors) == 1 and "\n" not in errors[0], (path, errors)
        assert ID_LIKE not in errors[0]
        assert 'id="outcome-form"' in r.text and 'id="correction-form"' in r.text
    # a body over the service's cap: 413 before a byte is parsed (issue 18); bodies no form
    # parser reads (a file): 422; one without a readable token: 403
    multipart = "multipart/form-data; boundary=zz"
    upload = (b'--zz\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
              + token.encode() + b'\r\n--zz\r\nContent-Disposition: form-data; name="f"; '
              b'filename="a.txt"\r\n\r\nx\r\n--zz--\r\n')  # fmt: skip
    raw = [
        ("application/x-www-form-urlencoded", b"csrf_token=" + b"a" * 70_000, 413, None),
        (multipart, upload, 422, "form-error"),
        (multipart, b"--zz\r\nbroken", 403, "csrf-refused"),
        ("text/plain", b"csrf_token=" + token.encode(), 403, "csrf-refused"),
    ]
    for content_type, body, status, testid in raw:
        r = c.post(f"{url}/outcome", content=body, headers={"content-type": content_type})
        assert r.status_code == status, content_type
        assert testid is None or f'data-testid="{testid}"' in r.text, content_type
    json_body = c.post(f"{url}/outcome", json={"outcome": "visited", "csrf_token": token})
    assert json_body.status_code == 403  # not a form: no CSRF token read, nothing done
    assert written == (
        count_rows(settings, tables.visit_outcomes),
        count_rows(settings, tables.corrections),
    )


# ---------------------------------------------------------------------------------- reads
def test_page_reads_are_audited_like_the_api(app, browsers, s) -> None:
    from serving.api.common import READ_PURPOSE

    settings = app.state.service.settings
    cases = [
        ("caseworker", "/lists/330226001", {("read", "list")}, "page"),
        ("caseworker", "/lists/330226001/export.xlsx", {("read", "list")}, "export.xlsx"),
        ("supervisor", "/lists/330226001/print", {("read", "list")}, "print"),
        ("caseworker", f"/households/{s.own_household}",
         {("read", "household"), ("read", "corrections")}, None),
        ("data_scientist", f"/households/{s.own_household}", {("read", "household")}, None),
        ("auditor", f"/audit/households/{s.own_household}", {("read", "household_history")},
         None),
        ("auditor", "/audit/log", {("read", "audit_log")}, None),
    ]  # fmt: skip
    for role, url, actions, channel in cases:
        r = browsers[role].get(url)
        assert r.status_code == 200, url
        rows = audit_rows(settings, r.headers["x-request-id"])
        assert {(a["action"], a["resource"]) for a in rows} == actions, url
        assert all(a["role"] == role and a["purpose"] == READ_PURPOSE[role] for a in rows)
        if channel:
            assert rows[0]["detail"]["channel"] == channel and rows[0]["jurisdiction_code"]
    refused = browsers["caseworker"].get(f"/households/{s.neighbour_household}")
    assert (
        refused.status_code == 404 and audit_rows(settings, refused.headers["x-request-id"]) == []
    )


def test_household_and_model_pages_draw_their_charts(app, browsers, s) -> None:
    page = browsers["caseworker"].get(f"/households/{s.own_household}").text
    svg = re.search(r'<svg id="shap-waterfall".*?</svg>', page, re.S).group(0)
    assert "<title" in svg and "对数几率" in svg and "<rect" in svg
    assert 'data-testid="score"' in page and re.search(r"· 0\.\d+ · 模型版本 1", page)
    for section in ('id="eligibility"', 'id="history"', 'id="visits"'):
        assert section in page
    model = browsers["auditor"].get("/audit/model?lang=en")
    assert model.status_code == 200
    for chart in ("importance-chart", "calibration-chart", "recall-chart"):
        found = re.search(rf'<svg id="{chart}".*?</svg>', model.text, re.S)
        assert found and "<title" in found.group(0), chart
    assert "log-odds" in model.text and "perfect calibration" in model.text
    assert re.search(r'<table id="fairness".*?<tbody>\s*<tr>', model.text, re.S)
    assert 'id="drift"' in model.text and "PSI" in model.text
    assert "Model card" in model.text and "<h3>" in model.text  # the card, headings moved down
    history = browsers["auditor"].get(f"/audit/households/{s.own_household}").text
    assert 'id="shap-waterfall-1"' in history and s.own_household in history


def test_the_twin_page_shows_the_latest_comparison_as_its_report_says(app, browsers) -> None:
    """The sample comparison (2 seeds): oracle vs status quo removes 3.5 [-2.9, 9.9] months,
    so its interval includes zero; every policy is a row and both charts are drawn."""
    page = browsers["supervisor"].get("/twin?lang=en")
    assert page.status_code == 200
    paired = re.search(r'<table id="twin-paired".*?</table>', page.text, re.S).group(0)
    row = re.search(r"<th scope=\"row\">oracle \(from the truth\) vs status quo.*?</tr>", paired,
                    re.S).group(0)  # fmt: skip
    assert ">3.5<" in row and "-2.9 – 9.9" in row and ">no<" in row
    policies = re.search(r'<table id="twin-policies".*?</table>', page.text, re.S).group(0)
    assert policies.count('<th scope="row">') == 4 and ">45.5<" in policies  # status quo
    for chart in ("twin-unassisted-chart", "twin-helped-chart"):
        found = re.search(rf'<svg id="{chart}".*?</svg>', page.text, re.S)
        assert found and "<title" in found.group(0), chart
    assert browsers["caseworker"].get("/twin").status_code == 403
    assert "策略比较" in browsers["auditor"].get("/twin?lang=zh").text


def test_audit_log_page_filters_and_checks_them(app, browsers, s) -> None:
    c = browsers["auditor"]
    browsers["caseworker"].get(f"/households/{s.own_household}")
    r = c.get(f"/audit/log?household_ref={s.own_household}&role=caseworker&action=read")
    assert r.status_code == 200 and 'id="audit-filter"' in r.text
    body = r.text.split("<tbody>")[1]
    assert body.count('data-testid="audit-row"') >= 1 and "auditor" not in body.split("</tbody>")[0]
    for bad in ("from=2024-13-40", "role=king", "household_ref=x", "before_id=-1", "actor=%3Cb%3E"):
        r = c.get(f"/audit/log?{bad}")
        assert r.status_code == 422 and 'data-testid="form-error"' in r.text, bad
    day = dt.date.today().isoformat()
    assert c.get(f"/audit/log?from={day}&to={day}").status_code == 200
    lookup = c.get(f"/audit/households?ref={s.own_household}")
    assert lookup.headers["location"] == f"/audit/households/{s.own_household}"


def test_no_id_number_or_clear_name_in_any_page_or_export(
    app, browsers, csrf, tokens, s, fixture_world
) -> None:
    import pyarrow.parquet as pq

    persons = pq.read_table(fixture_world / "truth" / "persons.parquet").to_pandas()
    names = {n for n in persons["name"].dropna().astype(str) if len(n) >= 2}
    texts = []
    for route in sorted(PAGES):
        if route[0] != "GET":
            continue
        for role in ROLES:
            for target in TARGETS:
                for lang in ("zh", "en"):
                    url = subject(route[1], role, target, s)
                    sep = "&" if "?" in url else "?"
                    r = browsers[role].get(f"{url}{sep}lang={lang}")
                    if url.endswith(".xlsx") and r.status_code == 200:
                        book = openpyxl.load_workbook(io.BytesIO(r.content))
                        texts += [str(c.value) for ws in book for row in ws.iter_rows()
                                  for c in row if c.value is not None]  # fmt: skip
                    else:
                        texts.append(r.content.decode("utf-8-sig"))
    blob = KEYED_HASH.sub("<key>", "\n".join(texts))
    found = ID_NUMBER.search(blob)
    assert found is None, blob[max(0, found.start() - 80) : found.end() + 20]
    assert [n for n in names if n in blob] == []


def test_an_unknown_path_is_a_page_for_a_browser_and_a_problem_for_the_api(app, tokens) -> None:
    c = client(app)
    html = {"accept": "text/html,application/xhtml+xml"}
    page = c.get("/no-such-page/330226001", headers=html)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert 'data-testid="not-found"' in page.text and "330226001" not in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    signed = {**html, "authorization": f"Bearer {tokens['auditor']}"}
    assert c.get("/api/v1/no-such-route", headers=html).status_code == 401  # the API asks first
    for path, headers in (("/no-such-page", {"accept": "application/json"}),
                          ("/api/v1/no-such-route", signed)):  # fmt: skip
        r = c.get(path, headers=headers)
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["detail"] == "no such resource"
