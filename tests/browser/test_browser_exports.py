"""The CSV and XLSX exports, downloaded through the list page."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
from browser_world import AS_OF, TOWNSHIP

pytestmark = pytest.mark.browser

COLUMNS = [
    "rank", "household_ref", "masked_name", "village_code", "band", "probability",
    "top_reasons", "gaps", "verify", "exploration", "model_version", "purpose",
    "withheld_reasons", "exported_by", "exported_at",
]  # fmt: skip
REF, VILLAGE = COLUMNS.index("household_ref"), COLUMNS.index("village_code")
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
EIGHTEEN_DIGITS = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")


def download(web, page, testid):
    with page.expect_download() as info:
        page.locator(f"a[data-testid={testid}]").click()
    return info.value


def listed(page):
    return page.locator("tr[data-testid=list-row]").evaluate_all(
        "rs => rs.map(r => [r.dataset.ref, r.dataset.village])"
    )


def check_rows(header, body, expected):
    assert len(header) == len(COLUMNS), header
    # the page groups households by village; files keep the list's rank order
    assert sorted([r[REF], r[VILLAGE]] for r in body) == sorted(expected)
    for row in body:
        assert len(row) == len(COLUMNS)
        for cell in row:
            text = "" if cell is None else str(cell)
            assert not EIGHTEEN_DIGITS.search(text), text
            assert not text.startswith(DANGEROUS), text


def test_csv_export(web, tmp_path):
    page = web.page("caseworker")
    web.goto(page, f"/lists/{TOWNSHIP}")
    expected = listed(page)
    got = download(web, page, "export-csv")
    assert got.suggested_filename == f"visit-list-{TOWNSHIP}-{AS_OF}.csv"
    got.save_as(tmp_path / "list.csv")
    raw = (tmp_path / "list.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), raw[:10]
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    header, body = table[0], table[1:]
    assert header[0] != "rank" and re.search(r"[\u4e00-\u9fff]", "".join(header)), header
    check_rows(header, body, expected)
    assert [r[0] for r in body] == [str(i) for i in range(1, len(body) + 1)]


def test_csv_export_in_english_has_the_contract_columns(web, tmp_path):
    page = web.page("caseworker")
    web.goto(page, f"/lists/{TOWNSHIP}?lang=en")
    got = download(web, page, "export-csv")
    got.save_as(tmp_path / "list.csv")
    text = (tmp_path / "list.csv").read_bytes().decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text, newline="")))
    assert [re.sub(r"\W+", "_", h.strip().lower()) for h in header] == COLUMNS


def test_xlsx_export_keeps_codes_as_text(web, tmp_path):
    page = web.page("caseworker")
    web.goto(page, f"/lists/{TOWNSHIP}")
    villages = sorted({v for _, v in listed(page)})
    page.locator("form#list-filter select[name=village]").select_option(villages[0])
    expected = [row for row in listed(page) if row[1] == villages[0]]
    got = download(web, page, "export-xlsx")
    assert got.suggested_filename == f"visit-list-{TOWNSHIP}-{AS_OF}.xlsx"
    got.save_as(tmp_path / "list.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "list.xlsx").worksheets[0]
    cells = list(sheet.iter_rows())
    header = [c.value for c in cells[0]]
    body = [[c.value for c in row] for row in cells[1:]]
    check_rows(header, body, expected)
    for row in cells[1:]:
        for cell in (row[REF], row[VILLAGE]):
            assert cell.data_type == "s" and cell.number_format == "@", cell.coordinate
        for cell in row:
            if cell.data_type == "n" and cell.value is not None:
                assert abs(cell.value) < 1e15, cell.coordinate  # no ID-sized number
