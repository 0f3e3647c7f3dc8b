"""The auditor pages: charts, fairness, drift, a household's history, the audit log; who may
see them."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

CHARTS = ("svg#importance-chart", "svg#calibration-chart", "svg#recall-chart")


def drawn(locator):
    """Elements drawn inside an SVG (besides its title)."""
    return locator.evaluate("svg => [...svg.children].filter(c => c.tagName !== 'title').length")


def a_household_read_by_the_caseworker(web, index=0):
    """A listed household whose page the caseworker has just opened."""
    ref = web.listed(index)
    web.goto(web.page("caseworker"), f"/households/{ref}")
    return ref


def test_audit_index_links_the_audit_pages(web):
    page = web.page("auditor")
    assert web.goto(page, "/audit").status == 200
    hrefs = page.locator("main a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert {"/audit/model", "/audit/log"} <= {h.split("?")[0] for h in hrefs}, hrefs


def test_model_page_renders_its_charts(web):
    page = web.page("auditor")
    assert web.goto(page, "/audit/model").status == 200
    for selector in CHARTS:
        chart = page.locator(selector)
        assert chart.is_visible(), selector
        assert drawn(chart) > 0, selector
        assert chart.locator("title").count() >= 1, selector
    fairness = page.locator("table#fairness tbody tr")
    assert fairness.count() > 0
    assert page.locator("section#drift").is_visible()


def test_household_audit_page_shows_history_and_explanation(web):
    ref = a_household_read_by_the_caseworker(web)
    page = web.page("auditor")
    assert web.goto(page, f"/audit/households/{ref}").status == 200
    main = page.locator("main").inner_text()
    assert ref in main and "2024-12-31" in main
    charts = page.locator("main svg[role=img]")  # one explanation per scoring run
    assert charts.count() >= 1
    assert charts.first.is_visible() and drawn(charts.first) > 0
    assert charts.first.locator(":scope > title").count() == 1


def test_audit_log_lists_and_filters(web):
    ref = a_household_read_by_the_caseworker(web, 5)
    page = web.page("auditor")
    assert web.goto(page, "/audit/log").status == 200
    assert page.locator("table#audit-log tbody tr").count() > 0
    form = page.locator("form#audit-filter")
    form.locator("[name=household_ref]").fill(ref)
    with page.expect_navigation():
        form.locator("[type=submit]").click()
    web.shot(page)
    texts = page.locator("table#audit-log tbody tr").all_inner_texts()
    assert texts and all(ref in text for text in texts)
    assert any("caseworker" in text or "社工" in text for text in texts), texts


def test_data_scientist_sees_the_model_page_only(web):
    page = web.page("data_scientist")
    response = web.goto(page, "/audit/model")
    assert response.status == 200 and page.locator("svg#importance-chart").is_visible()
    for path in ("/audit", "/audit/log"):
        assert web.goto(page, path).status == 403, path
        assert page.locator("[data-testid=forbidden]").is_visible()


@pytest.mark.parametrize("role", ["caseworker", "supervisor"])
def test_list_roles_are_refused_the_auditor_pages(web, role):
    page = web.page(role)
    for path in ("/audit", "/audit/model", "/audit/log"):
        assert web.goto(page, path).status == 403, path
        assert page.locator("[data-testid=forbidden]").is_visible(), path
    web.check_axe(page)
