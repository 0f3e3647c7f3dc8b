"""Visit-list exports: columns, BOM, text cells for codes, formula neutralization (no workspace)."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from serving.api.schemas import EntryReasons, Explanation, ListEntry, Reason, VerifyItem
from serving.pages import exports

REF = "H0127860cb5d76fcbb234d8d2"
VILLAGE = "330226001003"
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _reason(text: str, shap: float) -> Reason:
    # a feature outside the catalogue keeps its stored text (catalogue ones are re-phrased)
    return Reason(feature="custom_ratio", shap=shap, value=3.0, text=text, group="structure")


def _entry(rank: int = 1, ref: str = REF, **overrides) -> ListEntry:
    zh = [_reason("=HYPERLINK(\"x\")", 0.4), _reason("家庭抚养比为 3.0", 0.2),
          _reason("+1 次", 0.1), _reason("第四条", 0.05)]  # fmt: skip
    en = [_reason("dependency ratio is 3.0", 0.4), _reason("-2 claims", 0.2)]
    values = {
        "rank": rank, "household_ref": ref, "masked_name": "王*", "masked_id": None,
        "village_code": VILLAGE, "score": 0.073043, "band": "elevated", "priority": 0.2,
        "exploration": False, "path": "ranked", "selection_probability": 1.0,
        "low_confidence_link": False,
        "reasons": EntryReasons(
            model=Explanation(units="log-odds", base_value=-3.8, zh=zh, en=en),
            programs=[], gaps=["dibao", "tekun"], trace=[],
        ),
        "verify": [
            VerifyItem(kind="eligibility_condition", program="dibao", condition="x",
                       zh="@核实存款", en="check deposits"),
            VerifyItem(kind="eligibility_condition", program="tekun", condition="x",
                       zh="@核实存款", en="check deposits"),
        ],
    }  # fmt: skip
    values.update(overrides)
    return ListEntry(**values)


def _labels(lang: str = "zh") -> exports.Labels:
    return exports.Labels(
        lang=lang,
        band=lambda b: {"elevated": "较高"}.get(b, b) if lang == "zh" else b,
        program=lambda c: {"dibao": "低保", "tekun": "特困"}[c] if lang == "zh" else c,
        yes="是" if lang == "zh" else "yes",
        no="否" if lang == "zh" else "no",
    )


STAMP = exports.Stamp("0123abcdef", "2026-12-07T10:00:00+00:00")


def _table(entries, lang: str = "zh") -> exports.ExportTable:
    rows = [
        exports.entry_row(e, _labels(lang), "1", "用途：仅用于提供帮助", STAMP) for e in entries
    ]
    headers = [f"h-{c}" for c in exports.COLUMNS]
    about = [("用途", "仅用于提供帮助"), ("地区编码", "330226001")]
    return exports.ExportTable(headers=headers, rows=rows, about=about)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("=1+1", "'=1+1"), ("+86", "'+86"), ("-3", "'-3"), ("@SUM(A1)", "'@SUM(A1)"),
     ("\tx", "'\tx"), ("\rx", "'\rx"), ("王*", "王*"), ("", ""), ("a=b", "a=b")],
)  # fmt: skip
def test_neutralize(text, expected) -> None:
    assert exports.neutralize(text) == expected


def _cells(entry: ListEntry, labels: exports.Labels, stamp: exports.Stamp = STAMP) -> dict:
    row = exports.entry_row(entry, labels, "7", "p", stamp)
    return dict(zip(exports.COLUMNS, row, strict=True))


def test_entry_row_follows_the_columns() -> None:
    cells = _cells(_entry(), _labels())
    assert cells["rank"] == 1 and cells["probability"] == 0.073
    assert cells["household_ref"] == REF and cells["village_code"] == VILLAGE
    assert cells["band"] == "较高" and cells["gaps"] == "低保；特困"
    assert cells["top_reasons"].count("；") == exports.TOP_REASONS - 1  # the top 3 only
    assert cells["verify"] == "@核实存款"  # the same check shared by two programs, once
    assert cells["exploration"] == "否" and cells["model_version"] == "7"
    assert cells["purpose"] == "p" and cells["withheld_reasons"] == 0
    assert cells["exported_by"] == "0123abcdef" and cells["exported_at"].startswith("2026-12-07T")
    en = _cells(_entry(), _labels("en"))
    assert en["top_reasons"] == "dependency ratio is 3.0; -2 claims"
    assert _cells(_entry(masked_name=None), _labels())["masked_name"] == ""


def test_csv_has_a_bom_the_columns_and_no_live_formula() -> None:
    raw = exports.to_csv(_table([_entry(1), _entry(2, ref="H" + "1" * 24)]))
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == [f"h-{c}" for c in exports.COLUMNS]
    assert [r[1] for r in rows[1:]] == [REF, "H" + "1" * 24]
    assert all(r[3] == VILLAGE for r in rows[1:])
    for row in rows[1:]:
        assert len(row) == len(exports.COLUMNS)
        assert not any(cell.startswith(DANGEROUS) for cell in row), row
    assert rows[1][6].startswith("'=HYPERLINK") and "；+1 次" in rows[1][6]  # the cell's start
    assert rows[1][8] == "'@核实存款"


def test_xlsx_keeps_codes_as_text_and_neutralizes_formulas() -> None:
    leading_zero = "H" + "0" * 24
    data = exports.to_xlsx(_table([_entry(1), _entry(2, ref=leading_zero)]))
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet, about = book.worksheets
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]] == [f"h-{c}" for c in exports.COLUMNS]
    assert rows[2][1].value == leading_zero
    for row in rows[1:]:
        for col in ("household_ref", "village_code", "model_version", "masked_name"):
            cell = row[exports.COLUMNS.index(col)]
            assert cell.data_type == "s" and cell.number_format == "@", (col, cell.value)
        assert row[0].data_type == "n" and row[0].value in (1, 2)
        assert row[5].data_type == "n" and row[5].value == pytest.approx(0.073)
        for cell in row:
            if cell.data_type == "s":
                assert not str(cell.value).startswith(DANGEROUS), cell.value
            assert cell.data_type != "f"
    assert rows[1][3].value == VILLAGE and isinstance(rows[1][3].value, str)
    assert [c.value for c in next(about.iter_rows())] == ["用途", "仅用于提供帮助"]
    assert sheet.freeze_panes == "A2"


def test_xlsx_drops_characters_spreadsheets_refuse() -> None:
    entry = _entry(masked_name="王\x07*")
    data = exports.to_xlsx(_table([entry]))
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet.cell(row=2, column=3).value == "王*"


def test_file_names_and_headers() -> None:
    assert exports.filename("330226001", "2024-12-31", "xlsx") == (
        "visit-list-330226001-2024-12-31.xlsx"
    )
    assert exports.content_disposition("a.csv") == 'attachment; filename="a.csv"'
    assert exports.CONTENT_TYPES["csv"].startswith("text/csv")


def _health_and_money_entry() -> ListEntry:
    zh = [
        Reason(feature="serious_illness_members_12m", shap=0.5, value=2, text="大病", group="x"),
        Reason(feature="custom_ratio", shap=0.4, value=3.0, text="抚养比", group="structure"),
        Reason(feature="custom_income", shap=0.3, value=1.0, text="收入下降", group="income"),
        Reason(feature="custom_unknown", shap=0.2, value=1.0, text="不明", group=None),
    ]
    model = Explanation(units="log-odds", base_value=-3.8, zh=zh, en=[])
    return _entry(reasons=EntryReasons(model=model, programs=[], gaps=[], trace=[]))


def test_health_and_income_reasons_stay_out_unless_asked_with_a_purpose() -> None:
    # the review found exports carrying health and money facts beside a masked name
    entry = _health_and_money_entry()
    cells = _cells(entry, _labels())
    assert "大病" not in cells["top_reasons"] and "收入" not in cells["top_reasons"]
    assert "不明" not in cells["top_reasons"]  # no known group: withheld too
    assert "抚养比" in cells["top_reasons"] and cells["withheld_reasons"] == 3
    asked = exports.Stamp("0123abcdef", STAMP.at, "dibao review with the township office")
    full = _cells(entry, _labels(), asked)
    assert "收入下降" in full["top_reasons"] and full["withheld_reasons"] == 0
    assert exports.is_sensitive("serious_illness_members_12m")
    assert not exports.is_sensitive("custom_ratio", "structure")
