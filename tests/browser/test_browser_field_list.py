"""The list in the field, at 390 px on a 150-household township: grouped by village with
counts, groups folded on a phone, filters without a reload, the day's selection built, kept
and printed, visit states on the cards.

The township's list is grown to 150 households in a copy of the browser workspace (a newer
run; ``tests/support/big_list.py``) served by a second server.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator

import pytest
from browser_world import TOWNSHIP
from support.big_list import grow_township
from support.browser_harness import LiveServer

from core.settings import load_settings

pytestmark = pytest.mark.browser

N = 150
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
ROWS = "#visit-list tr[data-testid=list-row]"


@pytest.fixture(scope="module")
def big(web_settings, web_tokens, artifacts, tmp_path_factory) -> Iterator[str]:
    """The URL of a server whose caseworker list holds 150 households."""
    ws = tmp_path_factory.mktemp("big") / "ws"
    shutil.copytree(web_settings.workspace, ws)
    grow_township(load_settings(ws, environ={}).service_db_url, TOWNSHIP, N)
    with LiveServer(ws, artifacts / "server-big.log") as server:
        yield server.url


def _open(web, big, path, **options):
    page = web.page("caseworker", **{**PHONE, **options})
    response = page.goto(big + path)
    assert response.status == 200
    web.shot(page, path)
    return page


def test_a_150_household_list_groups_filters_and_prints_today(web, big):
    page = _open(web, big, f"/lists/{TOWNSHIP}")
    rows = page.locator(ROWS)
    assert rows.count() == N
    groups = page.locator("details[data-testid=village-group]")
    assert groups.count() >= 2
    total = 0
    for i in range(groups.count()):
        group = groups.nth(i)
        n = group.locator("tr[data-testid=list-row]").count()
        total += n
        assert re.search(rf"\b{n}\b", group.locator(":scope > summary").inner_text()), i
        # on a phone only the first village is open; a tap opens another
        assert group.evaluate("g => g.open") == (i == 0), i
    assert total == N
    groups.nth(1).locator(":scope > summary").click()
    assert groups.nth(1).evaluate("g => g.open")
    width = "document.documentElement.scrollWidth - window.innerWidth"
    assert page.evaluate(width) <= 1, "the list scrolls sideways on a phone"
    assert page.locator("[data-testid=visit-state]").count() == N

    # filters: in place, no reload
    page.evaluate("window.__sameDocument = true")
    village = groups.nth(1).get_attribute("data-village")
    page.locator("select[name=village]").select_option(village)
    visible = page.locator(f"{ROWS}:visible")
    expected = groups.nth(1).locator("tr[data-testid=list-row]").count()
    assert visible.count() == expected
    assert set(visible.evaluate_all("rs => rs.map(r => r.dataset.village)")) == {village}
    page.locator("select[name=village]").select_option("")
    band = page.locator("select[name=band] option").nth(1).get_attribute("value")
    page.locator("select[name=band]").select_option(band)
    bands = page.locator(f"{ROWS}:not([hidden])").evaluate_all("rs => rs.map(r => r.dataset.band)")
    assert bands and set(bands) == {band}
    page.locator("select[name=band]").select_option("")
    gap = page.locator("select[name=gap] option").nth(1).get_attribute("value")
    page.locator("select[name=gap]").select_option(gap)
    gaps = page.locator(f"{ROWS}:not([hidden])").evaluate_all("rs => rs.map(r => r.dataset.gaps)")
    assert gaps and all(gap in g.split() for g in gaps)
    page.locator("select[name=gap]").select_option("")
    page.locator("#pending").check()
    assert page.locator(f"{ROWS}:not([hidden])").count() == N  # nothing visited yet
    page.locator("#pending").uncheck()
    assert page.evaluate("window.__sameDocument === true"), "a filter reloaded the page"
    web.shot(page, "filtered")

    # the day's selection: three households, kept across a reload, printed
    refs = rows.evaluate_all("rs => rs.map(r => r.dataset.ref)")
    picked = [refs[0], refs[5], refs[40]]
    for ref in picked:
        page.locator(f"input[name=ref][value={ref}]").check()
    assert "3" in page.locator("#today-count").inner_text()
    page.reload()
    kept = page.locator("input[name=ref]:checked").evaluate_all("bs => bs.map(b => b.value)")
    assert sorted(kept) == sorted(picked)
    page.locator("#today-only").check()
    assert sorted(page.locator(f"{ROWS}:not([hidden])").evaluate_all(
        "rs => rs.map(r => r.dataset.ref)")) == sorted(picked)  # fmt: skip
    web.shot(page, "today")
    with page.expect_navigation():
        page.locator("[data-testid=today-print]").click()
    assert "/print?" in page.url
    sheets = page.locator("section[data-testid=print-sheet]")
    assert sorted(sheets.evaluate_all("ss => ss.map(s => s.dataset.ref)")) == sorted(picked)
    page.emulate_media(media="print")
    web.shot(page, "today-print")
    assert page.locator("header.top").is_hidden()


def test_the_list_records_visits_on_its_cards(web, big):
    page = _open(web, big, f"/lists/{TOWNSHIP}", java_script_enabled=True)
    ref = page.locator(ROWS).first.get_attribute("data-ref")
    before = page.locator(f"tr[data-ref={ref}] [data-testid=visit-state]").inner_text()
    page.goto(big + f"/households/{ref}")
    page.locator("form#outcome-form select[name=outcome]").select_option("in_need")
    today = dt.date.today().isoformat()
    page.locator("form#outcome-form input[name=visit_date]").fill(today)
    with page.expect_navigation():
        page.locator("form#outcome-form [type=submit]").click()
    page.goto(big + f"/lists/{TOWNSHIP}")
    row = page.locator(f"tr[data-ref={ref}]")
    assert row.get_attribute("data-visited") == "1"
    after = row.locator("[data-testid=visit-state]").inner_text()
    assert after != before and today in after
    page.locator("#pending").check()
    assert row.is_hidden()
    cover = page.goto(big + f"/coverage/{TOWNSHIP}")
    assert cover.status == 200
    visited = page.locator(f"tr[data-code='{TOWNSHIP}'] td[data-field=visited]").inner_text()
    assert int(visited) >= 1
    web.shot(page, "coverage")
