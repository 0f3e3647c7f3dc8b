"""Eligibility engine: tri-state logic, every program's case table, properties, inputs, traces."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import policies
from core.errors import CaseTableError, EligibilityInputError
from features.eligibility.cases import (
    BASE_HOUSEHOLD,
    case_frame,
    case_tables,
    load_cases,
    run_cases,
)
from features.eligibility.engine import evaluate, input_schema, order_programs
from features.eligibility.trace import household_trace, param_namespace, render_trace
from policies.conditions import Condition, Program
from policies.parameters import ParameterSet, load_parameters
from policies.rules import PROGRAMS, RULES_DIR
from policies.tristate import (
    FAIL,
    LIKELY,
    NEEDS_VERIFICATION,
    NOT_ELIGIBLE,
    PASS,
    UNKNOWN,
    all_of,
    any_of,
    combine_status,
    compare,
    negate,
)

DAY = date(2025, 6, 30)
TABLES = case_tables(RULES_DIR)


@pytest.fixture(scope="module")
def params() -> ParameterSet:
    return load_parameters(policies.PARAMS_DIR)


def _frame(n: int = 1, **columns: object) -> pd.DataFrame:
    rows = [{"household_id": f"h{i}", "as_of": DAY, **BASE_HOUSEHOLD} for i in range(n)]
    frame = pd.DataFrame(rows)
    for name, value in columns.items():
        frame[name] = value
    return frame


# --- tri-state logic --------------------------------------------------------------------------

T = np.array([PASS, PASS, PASS, UNKNOWN, UNKNOWN, UNKNOWN, FAIL, FAIL, FAIL], np.int8)
U = np.array([PASS, UNKNOWN, FAIL, PASS, UNKNOWN, FAIL, PASS, UNKNOWN, FAIL], np.int8)


def test_kleene_truth_tables() -> None:
    assert all_of(T, U).tolist() == [2, 1, 0, 1, 1, 0, 0, 0, 0]
    assert any_of(T, U).tolist() == [2, 2, 2, 2, 1, 1, 2, 1, 0]
    assert negate(T).tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]


def test_status_combination() -> None:
    m = np.array([[PASS, PASS], [PASS, UNKNOWN], [UNKNOWN, FAIL], [FAIL, PASS]], np.int8)
    assert combine_status(m).tolist() == [LIKELY, NEEDS_VERIFICATION, NOT_ELIGIBLE, NOT_ELIGIBLE]
    routine = np.array([False, True])
    assert combine_status(m, routine).tolist() == [LIKELY, LIKELY, NOT_ELIGIBLE, NOT_ELIGIBLE]
    strict = combine_status(m, routine, strict=True)
    assert strict.tolist() == [LIKELY, NEEDS_VERIFICATION, NOT_ELIGIBLE, NOT_ELIGIBLE]
    assert combine_status(np.empty((2, 0), np.int8)).tolist() == [LIKELY, LIKELY]


def test_missing_number_is_unknown_never_fail() -> None:
    assert compare(np.array([1.0, np.nan, 9.0]), lambda v: v < 5).tolist() == [2, 1, 0]


@given(st.lists(st.sampled_from([FAIL, UNKNOWN, PASS]), min_size=1, max_size=8))
def test_unknown_never_makes_not_eligible(outcomes: list[int]) -> None:
    row = np.array([outcomes], np.int8)
    status = int(combine_status(row)[0])
    assert (status == NOT_ELIGIBLE) == (FAIL in outcomes)
    resolved = np.where(row == UNKNOWN, PASS, row)
    assert int(combine_status(resolved)[0]) >= status  # knowing more can only help or settle


# --- case tables ------------------------------------------------------------------------------


def test_every_program_has_a_case_table() -> None:
    assert sorted(TABLES) == sorted(p.code for p in PROGRAMS)


@pytest.mark.parametrize("code", sorted(p.code for p in PROGRAMS))
def test_case_table(code: str, params: ParameterSet) -> None:
    assert code in TABLES, f"program {code} has no {code}.cases.yaml"
    cases = load_cases(TABLES[code])
    assert len(cases) >= 3
    assert any(code in c.statuses() for c in cases)
    failures = run_cases(cases, params)
    assert not failures, "\n".join(f"{f.name}: {f.message}" for f in failures)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("{}", "expected a non-empty list"),
        ("- {name: x, date: 2025-06-30, output: {dibao: maybe}}", "unknown status 'maybe'"),
        ("- {name: x, date: 2025-06-30, input: {income: 1}, output: {dibao: likely}}", "income"),
        ("- {name: x, output: {dibao: likely}}", "date"),
        ("- {name: x, date: 2025-06-30, output: {dibao: likely}, note: y}", "note"),
    ],
)
def test_malformed_case_table(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "x.cases.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CaseTableError) as info:
        load_cases(path)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_a_wrong_expectation_is_reported(params: ParameterSet, tmp_path: Path) -> None:
    path = tmp_path / "x.cases.yaml"
    path.write_text("- {name: rich, date: 2025-06-30, output: {dibao: likely}}\n", "utf-8")
    (failure,) = run_cases(load_cases(path), params)
    assert failure.message == "dibao: expected likely, got not_eligible"


# --- inputs -----------------------------------------------------------------------------------


def test_missing_column_is_one_clear_error(params: ParameterSet) -> None:
    frame = _frame().drop(columns=["income_per_capita_monthly", "vehicle_value"])
    with pytest.raises(EligibilityInputError) as info:
        evaluate(frame, params)
    message = str(info.value)
    assert "\n" not in message and "lacks 2 column(s)" in message
    assert "income_per_capita_monthly (read by" in message and "vehicle_value" in message


def test_several_dates_or_text_in_a_number_column_are_refused(params: ParameterSet) -> None:
    frame = pd.concat([_frame(), _frame().assign(as_of=date(2025, 5, 31))])
    with pytest.raises(EligibilityInputError, match="2 as-of dates"):
        evaluate(frame, params)
    with pytest.raises(EligibilityInputError, match="vehicle_value"):
        evaluate(_frame(vehicle_value="lots"), params)


def test_input_schema_uses_only_snapshot_columns() -> None:
    schema = input_schema()
    assert set(schema) == {"household_id", *BASE_HOUSEHOLD}
    assert "dibao.income_below_standard" in schema["income_per_capita_monthly"]


def test_undeclared_reads_and_bad_orders_are_bugs(params: ParameterSet) -> None:
    sneaky = Condition("c", "c", "c", "ref", formula=lambda ctx: ctx.num("vehicle_value"))
    with pytest.raises(RuntimeError, match="without declaring"):
        evaluate(_frame(), params, programs=[Program("p", "p", "p", "r", (sneaky,))])
    loop = Condition("c", "c", "c", "r", formula=lambda ctx: ctx.status("p"), programs=("p",))
    with pytest.raises(ValueError, match="cycle"):
        order_programs([Program("p", "p", "p", "r", (loop,))])


# --- result and gaps --------------------------------------------------------------------------


def test_result_shapes_and_frame(params: ParameterSet) -> None:
    frame = _frame(3, income_per_capita_monthly=[600.0, 600.0, 5000.0],
                   utility_arrears_months_3m=[4, 0, 0])  # fmt: skip
    result = evaluate(frame, params)
    n_cond = sum(len(p.conditions) for p in result.programs)
    assert result.conditions.shape == (3, n_cond) and result.conditions.dtype == np.int8
    assert result.status.shape == (3, len(PROGRAMS)) and result.status.dtype == np.int8
    out = result.to_frame()
    assert out["dibao_status"].tolist() == ["likely", "needs_verification", "not_eligible"]
    assert out["dibao_gap"].tolist() == ["likely", "verify", "none"]
    assert result.counts()["dibao"]["gap_likely"] == 1
    part = result.take([2, 0])
    assert part.household_id.tolist() == ["h2", "h0"]
    assert part.to_frame()["dibao_status"].tolist() == ["not_eligible", "likely"]


households = st.fixed_dictionaries(
    {
        "income_per_capita_monthly": st.floats(0, 6000),
        "utility_arrears_months_3m": st.integers(0, 8),
        "vehicle_value": st.sampled_from([0.0, 50000.0, 150000.0]),
        "properties": st.integers(0, 3),
        "businesses": st.integers(0, 1),
        "assistance_rejections_12m": st.integers(0, 1),
        "severe_disabled_members": st.integers(0, 2),
        "serious_illness_12m": st.booleans(),
        "medical_oop_12m": st.floats(0, 50000),
        "enrolled_dibao": st.booleans(),
        "enrolled_tekun": st.booleans(),
        "enrolled_medical_assistance": st.booleans(),
        "disabled_members": st.integers(0, 2),
        "enrolled_disability_living_subsidy": st.booleans(),
        "enrolled_disability_care_subsidy": st.booleans(),
        "temporary_assistance_12m": st.booleans(),
    }
)


@settings(max_examples=60, deadline=None)
@given(h=households, raise_by=st.floats(0, 5000))
def test_more_income_never_turns_dibao_not_eligible_into_likely(
    params: ParameterSet, h: dict, raise_by: float
) -> None:
    frame = pd.concat([_frame(**h), _frame(**h)], ignore_index=True)
    frame.loc[1, "income_per_capita_monthly"] += raise_by
    status = evaluate(frame, params).status[:, [p.code for p in PROGRAMS].index("dibao")]
    assert status[1] <= status[0]


@settings(max_examples=60, deadline=None)
@given(h=households)
def test_receiving_a_program_means_no_gap_for_it(params: ParameterSet, h: dict) -> None:
    result = evaluate(_frame(**h), params)
    received = result.receiving == PASS
    assert not (received & (result.gap > 0)).any()


# --- traces -----------------------------------------------------------------------------------


def test_trace_in_both_languages(params: ParameterSet) -> None:
    frame = _frame(2, income_per_capita_monthly=[600.0, 5000.0], utility_arrears_months_3m=4,
                   rural_relocated=[True, False])  # fmt: skip
    result = evaluate(frame, params)
    lines = household_trace(result, frame, "h0", params, programs=["dibao"])
    assert lines[0].condition is None and lines[0].outcome == LIKELY
    assert "可能符合" in lines[0].zh and "likely" in lines[0].en
    text = {ln.condition: ln for ln in lines}
    assert "易地扶贫搬迁户" in text["current_residence"].zh
    assert "current residence" in text["current_residence"].en
    assert "600" in text["income_below_standard"].zh and "1,200" in text["income_below_standard"].en
    assert "28,800" in text["financial_assets"].zh  # 2 x 12 x S
    rendered = render_trace(result, frame, ["h1"], params, "en", programs=["dibao"])
    assert "not eligible" in rendered and "h1" not in rendered
    with pytest.raises(KeyError):
        household_trace(result, frame, "nobody", params)


def test_trace_from_a_plain_row_equals_the_trace_from_the_frame(params: ParameterSet) -> None:
    """Batch scoring passes each row as a dict and the parameter namespace once; the lines must
    be those of the frame path, values and missing values included."""
    frame = _frame(
        3,
        income_per_capita_monthly=[600.0, float("nan"), 1500.0],
        utility_arrears_months_3m=[4, 0, 1],
        rural_relocated=[True, False, False],
    )
    result = evaluate(frame, params)
    ns = param_namespace(params, result.as_of)
    for i, row in enumerate(frame.to_dict("records")):
        hid = f"h{i}"
        assert household_trace(result, frame, hid, params, row=row, namespace=ns) == (
            household_trace(result, frame, hid, params)
        )


def test_case_frame_fills_the_neutral_household() -> None:
    (case,) = load_cases(TABLES["dibao"])[:1]
    frame = case_frame([case])
    assert frame.loc[0, "household_size"] == BASE_HOUSEHOLD["household_size"]
    assert frame.loc[0, "income_per_capita_monthly"] == case.input["income_per_capita_monthly"]
