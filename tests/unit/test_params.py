"""Dated policy parameters: the shipped files, lookup by date, and every malformed case."""

from __future__ import annotations

import re
import shutil
import textwrap
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import policies
from core.errors import ParameterError
from policies.parameters import (
    ALLOWED_UNITS,
    DatedValue,
    Parameter,
    ParameterSet,
    load_parameters,
    render_parameters_markdown,
)

REPO = Path(__file__).resolve().parents[2]
MALFORMED_DIR = Path(__file__).resolve().parent / "params_malformed"


@pytest.fixture(scope="module")
def shipped() -> ParameterSet:
    return load_parameters(policies.PARAMS_DIR)


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _load_error(folder: Path) -> str:
    with pytest.raises(ParameterError) as info:
        load_parameters(folder)
    message = str(info.value)
    assert "\n" not in message, message
    return message


# --- the shipped files ------------------------------------------------------------------------


def test_shipped_files_load(shipped: ParameterSet) -> None:
    assert len(shipped) >= 20
    for name in shipped.names():
        assert shipped.unit(name) in ALLOWED_UNITS
        assert shipped.origin(name) is not None


@pytest.mark.parametrize(
    ("name", "on", "expected"),
    [
        ("dibao.standard_monthly", date(2023, 1, 1), 1200),
        ("dibao.standard_monthly", date(2025, 6, 30), 1200),
        ("tekun.basic_multiplier", date(2016, 1, 1), 1.3),
        ("tekun.basic_multiplier", date(2024, 7, 1), 1.3),
        ("tekun.standard_monthly", date(2023, 1, 1), 1560),
        ("near_dibao.multiplier", date(2021, 1, 1), 1.5),
        ("near_dibao.multiplier", date(2024, 12, 31), 1.5),
        ("economy.minimum_wage_monthly", date(2021, 7, 31), 1800),
        ("economy.minimum_wage_monthly", date(2023, 1, 1), 2070),
        ("unemployment.benefit_share_of_minimum_wage", date(2023, 1, 1), 0.8),
        (
            "unemployment.benefit_duration_months",
            date(2023, 1, 1),
            {"1-5": 12, "5-10": 18, "10+": 24},
        ),
        (
            "economy.disposable_income_per_capita_annual",
            date(2021, 6, 1),
            {"all": 65436, "urban": 73869, "rural": 42946},
        ),
        (
            "economy.disposable_income_per_capita_annual",
            date(2022, 6, 1),
            {"all": 68348, "urban": 76690, "rural": 45487},
        ),
        (
            "economy.disposable_income_per_capita_annual_ninghai",
            date(2020, 6, 1),
            {"urban": 64188, "rural": 36166},
        ),
        ("dibao.asset_limit_multiple_of_annual_standard", date(2023, 1, 1), 2),
        ("medical_assistance.min_rate", date(2022, 1, 1), {"tekun": 0.70, "dibao": 0.70}),
        (
            "education.hardship_subsidy_yearly",
            date(2023, 9, 1),
            {
                "primary_boarder": 1250,
                "junior_boarder": 1500,
                "primary_day": 625,
                "junior_day": 750,
            },
        ),
    ],
)
def test_required_values(shipped: ParameterSet, name: str, on: date, expected: object) -> None:
    assert shipped.get(name, on) == expected


def test_tekun_standard_is_the_multiplier_times_s(shipped: ParameterSet) -> None:
    names = ("tekun.standard_monthly", "tekun.basic_multiplier", "dibao.standard_monthly")
    days = {d for n in names for d, _, _ in shipped.history(n)}
    start = shipped.history("dibao.standard_monthly")[0][0]
    for day in sorted(d for d in days if d >= start):
        s = shipped.get("dibao.standard_monthly", day)
        expected = shipped.get("tekun.basic_multiplier", day) * s
        assert shipped.get("tekun.standard_monthly", day) == pytest.approx(expected), day


def test_disability_subsidies_reach_the_national_floors(shipped: ParameterSet) -> None:
    for day in (date(2021, 1, 1), date(2023, 1, 1), date(2025, 1, 1)):
        s = shipped.get("dibao.standard_monthly", day)
        for kind in ("living", "care"):
            share = shipped.get(f"disability.{kind}_subsidy_share_of_standard", day)
            floor = shipped.get(f"disability.{kind}_subsidy_national_floor_monthly", day)
            assert share * s >= floor


def test_every_value_cites_a_source_or_says_unverified(shipped: ParameterSet) -> None:
    for name in shipped.names():
        for day, _, source in shipped.history(name):
            cited = re.search(r"\[S\d+b?\]", source) or "unverified" in source.lower()
            assert cited, f"{name} {day}: {source!r}"


def test_simulator_parameters_cover_the_default_burn_in(shipped: ParameterSet) -> None:
    """The default simulation starts 2023-01 after a 24-month burn-in."""
    first = date(2021, 1, 1)
    for name in (
        "dibao.standard_monthly",
        "dibao.asset_limit_multiple_of_annual_standard",
        "economy.minimum_wage_monthly",
        "economy.resident_basic_pension_monthly",
        "unemployment.benefit_share_of_minimum_wage",
    ):
        shipped.get(name, first)


def test_value_before_the_first_effective_date_is_an_error(shipped: ParameterSet) -> None:
    first = shipped.history("dibao.standard_monthly")[0][0]
    before = first - timedelta(days=1)
    with pytest.raises(ParameterError, match="dibao.standard_monthly") as info:
        shipped.get("dibao.standard_monthly", before)
    assert before.isoformat() in str(info.value)


def test_unknown_parameter_is_an_error_with_a_hint(shipped: ParameterSet) -> None:
    with pytest.raises(ParameterError, match="did you mean 'dibao.standard_monthly'"):
        shipped.get("dibao.standard_monthy", date(2023, 1, 1))


def test_returned_mappings_are_copies(shipped: ParameterSet) -> None:
    rates = shipped.get("medical_assistance.min_rate", date(2023, 1, 1))
    rates["tekun"] = 0.0
    assert shipped.get("medical_assistance.min_rate", date(2023, 1, 1))["tekun"] == 0.70


def test_snapshot_leaves_out_parameters_not_yet_in_force(shipped: ParameterSet) -> None:
    snap = shipped.snapshot(date(2023, 1, 1))
    assert snap["dibao.standard_monthly"] == 1200
    assert set(snap) == set(shipped.names())
    early = shipped.snapshot(date(2018, 1, 1))
    assert "tekun.basic_multiplier" in early
    assert "dibao.standard_monthly" not in early


def test_docs_page_matches_the_files(shipped: ParameterSet) -> None:
    """docs/parameters.md is a product format: regenerate it with `make docs`."""
    committed = (REPO / "docs" / "parameters.md").read_text(encoding="utf-8")
    assert committed == render_parameters_markdown(shipped)


# --- fingerprint ------------------------------------------------------------------------------


def test_fingerprint_is_stable_and_tracks_values(tmp_path: Path, shipped: ParameterSet) -> None:
    copy = tmp_path / "params"
    shutil.copytree(policies.PARAMS_DIR, copy)
    fp = shipped.fingerprint()
    assert re.fullmatch(r"[0-9a-f]{64}", fp)
    assert load_parameters(copy).fingerprint() == fp

    near = copy / "near_dibao.yaml"
    text = near.read_text(encoding="utf-8")
    near.write_text(text.replace("Near-dibao income line", "The near-dibao line"), "utf-8")
    assert load_parameters(copy).fingerprint() == fp  # documentation only

    near.write_text(text.replace("value: 1.5,", "value: 2.0,"), encoding="utf-8")
    assert load_parameters(copy).fingerprint() != fp


# --- lookup invariant -------------------------------------------------------------------------

_days = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))


@given(
    starts=st.lists(_days, min_size=1, max_size=8, unique=True),
    amounts=st.lists(st.integers(min_value=0, max_value=10**6), min_size=8, max_size=8),
    query=_days,
)
def test_get_returns_the_latest_value_on_or_before_the_date(
    starts: list[date], amounts: list[int], query: date
) -> None:
    values = {d: DatedValue(value=amounts[i], source="test") for i, d in enumerate(starts)}
    params = ParameterSet({"x.y": Parameter(description="t", unit="CNY", values=values)})
    in_force = [d for d in starts if d <= query]
    if not in_force:
        with pytest.raises(ParameterError):
            params.get("x.y", query)
        assert "x.y" not in params.snapshot(query)
    else:
        expected = amounts[starts.index(max(in_force))]
        assert params.get("x.y", query) == expected
        assert params.snapshot(query) == {"x.y": expected}


# --- malformed files --------------------------------------------------------------------------

GOOD = """\
    dibao.standard_monthly:
      description: S
      unit: CNY/person/month
      values:
        2023-01-01: {value: 1200, source: "PLACEHOLDER - unverified"}
"""


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        pytest.param("a: [1, 2\n", ["unreadable YAML", "line"], id="unreadable-yaml"),
        pytest.param(
            GOOD + "    x.y:\n      unit: [\n",
            ["unreadable YAML", "'x.y'"],
            id="unreadable-yaml-names-parameter",
        ),
        pytest.param("- 1\n- 2\n", ["expected a mapping of parameter names"], id="not-a-mapping"),
        pytest.param("", ["the file is empty"], id="empty-file"),
        pytest.param(
            "a.b: 1\n",
            ["'a.b'", "expected a mapping with description, unit and values"],
            id="parameter-not-a-mapping",
        ),
        pytest.param(
            "Dibao-Standard:\n  description: S\n  unit: CNY\n  values: {}\n",
            ["'Dibao-Standard' is not a parameter name"],
            id="bad-name",
        ),
        pytest.param(
            "a.b:\n  description: S\n  unit: CNY\n",
            ["'a.b'", "missing 'values'"],
            id="missing-values",
        ),
        pytest.param(
            "a.b:\n  description: S\n  unit: CNY\n  values: {}\n",
            ["'a.b'", "no dated values"],
            id="empty-values",
        ),
        pytest.param(
            "a.b:\n  description: S\n  unit: CNY\n  values:\n    soon: {value: 1, source: x}\n",
            ["'a.b'", "'soon' is not a date"],
            id="value-without-date",
        ),
        pytest.param(
            "a.b:\n  description: S\n  unit: CNY\n  values:\n"
            "    2023-13-01: {value: 1, source: x}\n",
            ["'a.b'", "'2023-13-01' is not a valid date"],
            id="invalid-date",
        ),
        pytest.param(
            "a.b:\n  description: S\n  unit: CNY\n  values:\n"
            "    2023-01-01 08:00:00: {value: 1, source: x}\n",
            ["'a.b'", "has a time"],
            id="timestamp-not-date",
        ),
        pytest.param(
            "a.b:\n  description: S\n  unit: CNY\n  values:\n    2023-01-01: 1200\n",
            ["'a.b'", "values.2023-01-01: expected a mapping"],
            id="bare-value",
        ),
        pytest.param(
            "a.b:\n  description: S\n  unit: CNY\n  values:\n    2023-01-01: {source: x}\n",
            ["'a.b'", "missing 'values.2023-01-01.value'"],
            id="missing-value",
        ),
        pytest.param(
            "a.b:\n  description: S\n  unit: CNY\n  values:\n    2023-01-01: {value: 1}\n",
            ["'a.b'", "missing 'values.2023-01-01.source'"],
            id="missing-source",
        ),
        pytest.param(
            "a.b:\n  description: S\n  unit: CNY\n  values:\n"
            "    2023-01-01: {value: 1, source: ' '}\n",
            ["'a.b'", "source is empty"],
            id="empty-source",
        ),
        pytest.param(
            "a.b:\n  description: S\n  unit: CNY\n  values:\n"
            "    2023-01-01: {value: null, source: x}\n",
            ["'a.b'", "value is empty"],
            id="null-value",
        ),
        pytest.param(
            "a.b:\n  description: S\n  unit: CNY\n  values:\n"
            "    2023-01-01: {value: lots, source: x}\n",
            ["'a.b'", "must be a number or a mapping"],
            id="text-value",
        ),
        pytest.param(
            "a.b:\n  description: S\n  unit: CNY\n  values:\n"
            "    2023-01-01: {value: -5, source: x}\n",
            ["'a.b'", "finite number >= 0"],
            id="negative-value",
        ),
        pytest.param(
            "a.b:\n  description: S\n  unit: multiple\n  values:\n"
            "    2021-01-01: {value: 1.5, source: x}\n"
            "    2022-01-01: {value: {urban: 1.5}, source: x}\n",
            ["'a.b'", "mix numbers and mappings"],
            id="shape-changes",
        ),
        pytest.param(
            "a.b:\n  description: S\n  unit: ratio\n  values:\n"
            "    2021-01-01: {value: true, source: x}\n",
            ["'a.b'", "need unit 'flag'"],
            id="flag-without-flag-unit",
        ),
        pytest.param(
            "a.b:\n  description: S\n  unit: yuan\n  values:\n"
            "    2023-01-01: {value: 1, source: x}\n",
            ["'a.b'", "unknown unit 'yuan'"],
            id="unknown-unit",
        ),
        pytest.param(
            "a.b:\n  description: S\n  unit: CNY\n  reference: x\n  values:\n"
            "    2023-01-01: {value: 1, source: x}\n",
            ["'a.b'", "unknown key 'reference'"],
            id="unknown-key",
        ),
        pytest.param(
            "a.b:\n  description: S\n  unit: CNY\n  values:\n"
            "    2023-01-01: {value: 1, source: x, note: y}\n",
            ["'a.b'", "unknown key 'values.2023-01-01.note'"],
            id="unknown-key-in-value",
        ),
        pytest.param(
            "a.b:\n  description: S\n  unit: CNY\n  values:\n"
            "    2023-01-01: {value: 1, source: x}\n"
            "    2024-01-01: {value: 2, source: x}\n"
            "    2023-01-01: {value: 3, source: x}\n",
            ["'a.b'", "effective date 2023-01-01 appears twice", "lines 5 and 7"],
            id="duplicate-effective-date",
        ),
        pytest.param(
            "a.b:\n  description: S\n  unit: CNY\n  unit: CNY/month\n  values:\n"
            "    2023-01-01: {value: 1, source: x}\n",
            ["'a.b'", "key 'unit' appears twice"],
            id="duplicate-field",
        ),
        pytest.param(
            GOOD + GOOD,
            ["'dibao.standard_monthly' is defined twice in the file", "lines 1 and 6"],
            id="duplicate-parameter-in-file",
        ),
    ],
)
def test_malformed_file_is_one_line_naming_file_and_problem(
    tmp_path: Path, text: str, needles: list[str]
) -> None:
    _write(tmp_path, "bad.yaml", text)
    message = _load_error(tmp_path)
    assert message.startswith("bad.yaml: "), message
    for needle in needles:
        assert needle in message, message


def test_same_parameter_in_two_files(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", GOOD)
    _write(tmp_path, "b.yaml", GOOD)
    message = _load_error(tmp_path)
    assert message == "b.yaml: parameter 'dibao.standard_monthly' is already defined in a.yaml"


def test_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a parameter file", encoding="utf-8")
    assert "no parameter files" in _load_error(tmp_path)


def test_missing_directory(tmp_path: Path) -> None:
    assert "does not exist" in _load_error(tmp_path / "nowhere")


def test_undecodable_file(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_bytes(b"\xff\xfe\x00a: 1")
    assert _load_error(tmp_path).startswith("bad.yaml: cannot read file")


def test_good_file_loads(tmp_path: Path) -> None:
    _write(tmp_path, "good.yaml", GOOD)
    params = load_parameters(tmp_path)
    assert params.names() == ["dibao.standard_monthly"]
    assert params.get("dibao.standard_monthly", date(2023, 1, 1)) == 1200
    assert params.origin("dibao.standard_monthly") == "good.yaml"


@pytest.mark.parametrize("path", sorted(MALFORMED_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_kept_malformed_examples(tmp_path: Path, path: Path) -> None:
    """Each example file states the expected message in its first line (``# expect: ...``)."""
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), path.name
    shutil.copy(path, tmp_path / path.name)
    message = _load_error(tmp_path)
    assert message.startswith(f"{path.name}: "), message
    assert first.removeprefix("# expect: ") in message, message
