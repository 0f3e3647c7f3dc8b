"""The visit list: only the caller's area, the filters with and without JavaScript, the print
layout, a phone screen (the 150-household field list is in ``test_browser_field_list.py``)."""

from __future__ import annotations

import re

import pytest
from browser_world import NEIGHBOUR, NO_TOWNSHIP, TOWNSHIP

pytestmark = pytest.mark.browser


def rows(page):
    return page.locator("#visit-list tr[data-testid=list-row]")


def test_caseworker_list_shows_only_their_township(web):
    page = web.page("caseworker")
    response = web.goto(page, f"/lists/{TOWNSHIP}")
    assert response.status == 200
    assert page.locator("[data-testid=purpose]").is_visible()
    villages = rows(page).evaluate_all("rs => rs.map(r => r.dataset.village)")
    refs = rows(page).evaluate_all("rs => rs.map(r => r.dataset.ref)")
    assert villages, "the list is empty"
    assert all(re.fullmatch(rf"{TOWNSHIP}\d{{3}}", v) for v in villages), villages
    assert all(re.fullmatch(r"H[0-9a-f]{24}", r) for r in refs), refs
    links = page.locator("a[data-testid=household-link]")
    assert links.count() == len(refs)
    assert links.first.get_attribute("href").endswith(f"/households/{refs[0]}")
    assert re.search(r"0\.\d\d", rows(page).first.inner_text()), "no probability on the row"


def test_foreign_township_is_not_found_like_a_nonexistent_one(web):
    page = web.page("caseworker")
    foreign = web.not_found_text(page, "/lists/{}", NEIGHBOUR)
    assert page.locator("#visit-list").count() == 0
    web.check_axe(page)
    assert foreign == web.not_found_text(page, "/lists/{}", NO_TOWNSHIP)


def test_village_filter_keeps_one_village_without_a_reload(web):
    page = web.page("caseworker")
    web.goto(page, f"/lists/{TOWNSHIP}")
    villages = sorted(set(rows(page).evaluate_all("rs => rs.map(r => r.dataset.village)")))
    chosen = villages[-1]
    page.evaluate("window.__sameDocument = true")
    page.locator("form#list-filter select[name=village]").select_option(chosen)
    web.shot(page, "filtered")
    assert page.evaluate("window.__sameDocument === true"), "the filter reloaded the page"
    assert f"village={chosen}" in page.url
    shown = page.locator("#visit-list tr[data-testid=list-row]:visible")
    assert shown.count() and set(shown.evaluate_all("rs => rs.map(r => r.dataset.village)")) == {
        chosen
    }
    href = page.locator("a[data-testid=export-csv]").get_attribute("href")
    assert href.endswith(f"/export.csv?village={chosen}")


def test_village_filter_works_without_javascript(web):
    page = web.page("caseworker", java_script_enabled=False)
    web.goto(page, f"/lists/{TOWNSHIP}")
    villages = sorted(set(rows(page).evaluate_all("rs => rs.map(r => r.dataset.village)")))
    chosen = villages[-1]
    page.locator("form#list-filter select[name=village]").select_option(chosen)
    with page.expect_navigation():
        page.locator("form#list-filter [type=submit]").click()
    web.shot(page)
    assert f"village={chosen}" in page.url
    shown = rows(page).evaluate_all("rs => rs.map(r => r.dataset.village)")
    assert shown and set(shown) == {chosen}
    assert page.locator("#today-only").is_hidden()  # a script-only control stays hidden
    boxes = page.locator("input[name=ref]")
    picked = boxes.evaluate_all("bs => bs.slice(0, 2).map(b => b.value)")
    for ref in picked:
        page.locator(f"input[name=ref][value={ref}]").check()
    with page.expect_navigation():
        page.locator("[data-testid=today-print]").click()
    sheets = page.locator("section[data-testid=print-sheet]")
    assert sheets.evaluate_all("ss => ss.map(s => s.dataset.ref)") == picked


def test_print_layout_has_one_sheet_per_household(web):
    page = web.page("caseworker")
    web.goto(page, f"/lists/{TOWNSHIP}")
    count = rows(page).count()
    with page.expect_navigation():
        page.locator("a[data-testid=print]").click()
    web.shot(page)
    assert page.url.split("?")[0] == f"{web.base}/lists/{TOWNSHIP}/print"
    assert page.locator("section[data-testid=print-sheet]").count() == count
    page.emulate_media(media="print")
    web.shot(page, "print-media")


PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def test_list_and_household_fit_a_phone_screen(web):
    page = web.page("caseworker", **PHONE)
    web.goto(page, f"/lists/{TOWNSHIP}")
    ref = rows(page).first.get_attribute("data-ref")
    width = "document.documentElement.scrollWidth - window.innerWidth"
    assert page.evaluate(width) <= 1, "the list scrolls sideways on a phone"
    web.goto(page, f"/households/{ref}")
    assert page.evaluate(width) <= 1, "the household page scrolls sideways on a phone"
    assert page.locator("form#outcome-form").is_visible()
