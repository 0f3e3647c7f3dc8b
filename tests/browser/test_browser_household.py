"""The household page: score and explanation, recording an outcome, corrections, CSRF."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from browser_world import NEIGHBOUR, NOBODY, TOWNSHIP
from support.browser_harness import sign_in

pytestmark = pytest.mark.browser

# visit dates a caseworker may record: within the last 366 days, never in the future
VISITED = (dt.date.today() - dt.timedelta(days=20)).isoformat()
VISITED_EARLIER = (dt.date.today() - dt.timedelta(days=40)).isoformat()


def test_household_page_explains_the_score(web):
    page = web.page("caseworker")
    web.goto(page, f"/lists/{TOWNSHIP}")
    ref = web.listed(0)
    reads = web.count("audit_log", household_id=ref, resource="household")
    with page.expect_navigation():
        page.locator(f"tr[data-ref={ref}] a[data-testid=household-link]").click()
    web.shot(page)
    assert web.count("audit_log", household_id=ref, resource="household") == reads + 1
    assert page.url == f"{web.base}/households/{ref}"
    assert re.search(r"0\.\d\d", page.locator("[data-testid=score]").inner_text())
    chart = page.locator("svg#shap-waterfall")
    assert chart.is_visible()
    assert chart.locator("title").count() >= 1
    assert chart.evaluate("svg => svg.querySelectorAll('rect, path, line').length") > 0
    assert "对数几率" in chart.text_content()
    for section in ("section#eligibility", "section#history", "section#visits"):
        assert page.locator(section).is_visible(), section


def fill_outcome(page, when, note):
    form = page.locator("form#outcome-form")
    form.locator("select[name=outcome]").select_option("in_need")
    form.locator("input[name=visit_date]").fill(when)
    boxes = form.locator("input[type=checkbox][name=programs_started]")
    if boxes.count():
        boxes.first.check()
    form.locator("[name=note]").fill(note)
    return form


def visit_rows(page):
    return page.locator("section#visits [data-testid=visit-row]")


def test_recorded_outcome_persists(web):
    page = web.page("caseworker")
    ref = web.listed(1)
    web.goto(page, f"/households/{ref}")
    before = visit_rows(page).count()
    form = fill_outcome(page, VISITED, "家中有人 browser test")
    with page.expect_navigation() as nav:
        form.locator("[type=submit]").click()
    web.shot(page)
    assert nav.value.status == 200 and page.url == f"{web.base}/households/{ref}"
    assert nav.value.request.redirected_from.response().status == 303
    assert page.locator("[data-testid=flash]").is_visible()
    assert visit_rows(page).count() == before + 1
    page.reload()
    web.shot(page, "after-reload")
    assert visit_rows(page).count() == before + 1
    assert VISITED in page.locator("section#visits").inner_text()

    fresh = web.page()
    sign_in(fresh, web.base, web.tokens["caseworker"])
    web.goto(fresh, f"/households/{ref}")
    assert visit_rows(fresh).count() == before + 1


def test_invalid_outcome_is_refused_with_one_line(web):
    page = web.page("caseworker")
    ref = web.listed(2)
    web.goto(page, f"/households/{ref}")
    written = web.count("visit_outcomes")
    form = fill_outcome(page, VISITED, "身份证 330226199001011234")  # an ID-number shape
    with page.expect_navigation() as nav:
        form.locator("[type=submit]").click()
    web.shot(page)
    assert nav.value.status == 422
    assert page.locator("[data-testid=form-error]").is_visible()
    assert page.locator("form#outcome-form").is_visible()
    assert web.count("visit_outcomes") == written


def test_correction_is_recorded(web):
    page = web.page("caseworker")
    ref = web.listed(3)
    web.goto(page, f"/households/{ref}")
    written = web.count("corrections")
    form = page.locator("form#correction-form")
    form.locator("[name=item]").fill("vehicle")
    if form.locator("[name=reference]").count():
        form.locator("[name=reference]").fill("车管所")
    form.locator("[name=correction]").fill("车辆不属于该户")
    form.locator("[name=reason]").fill("走访时核实")
    with page.expect_navigation() as nav:
        form.locator("[type=submit]").click()
    web.shot(page)
    assert nav.value.status == 200 and page.url == f"{web.base}/households/{ref}"
    assert page.locator("[data-testid=flash]").is_visible()
    assert web.count("corrections") == written + 1


def test_household_outside_the_area_is_not_found_like_a_nonexistent_one(web):
    foreign_ref = web.scalar(
        "SELECT min(household_id) FROM scores WHERE township_code = :t", t=NEIGHBOUR
    )
    page = web.page("caseworker")
    foreign = web.not_found_text(page, "/households/{}", foreign_ref)
    assert foreign == web.not_found_text(page, "/households/{}", NOBODY)


@pytest.mark.parametrize("csrf", [None, "wrong-token"], ids=["missing", "wrong"])
def test_post_without_its_csrf_token_is_refused(web, csrf):
    context = web.context("caseworker")
    page = context.new_page()
    ref = web.listed(4)
    web.goto(page, f"/households/{ref}")
    real = page.locator("form#outcome-form input[name=csrf_token]").input_value()
    assert real and real != csrf
    written = (web.count("visit_outcomes"), web.count("corrections"))
    outcome = {"outcome": "visited", "visit_date": VISITED_EARLIER, "note": ""}
    correction = {"item": "vehicle", "correction": "不是", "reason": "核实"}
    for path, form in ((f"/households/{ref}/outcome", outcome),
                       (f"/households/{ref}/corrections", correction)):  # fmt: skip
        if csrf is not None:
            form = {**form, "csrf_token": csrf}
        answer = context.request.post(web.base + path, form=form, max_redirects=0)
        assert answer.status == 403, path
        assert 'data-testid="csrf-refused"' in answer.text(), path
    assert (web.count("visit_outcomes"), web.count("corrections")) == written


def test_form_stripped_of_its_csrf_field_is_refused(web):
    page = web.page("caseworker")
    ref = web.listed(5)
    web.goto(page, f"/households/{ref}")
    before, written = visit_rows(page).count(), web.count("visit_outcomes")
    form = fill_outcome(page, VISITED, "")
    form.locator("input[name=csrf_token]").evaluate("field => field.remove()")
    with page.expect_navigation() as nav:
        form.locator("[type=submit]").click()
    web.shot(page, "csrf-refused")
    assert nav.value.status == 403
    assert page.locator("[data-testid=csrf-refused]").is_visible()
    web.check_axe(page)
    assert web.count("visit_outcomes") == written
    web.goto(page, f"/households/{ref}")
    assert visit_rows(page).count() == before
