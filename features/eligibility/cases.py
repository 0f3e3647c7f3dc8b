"""Policy test-case tables: load ``policies/rules/<program>.cases.yaml`` and run them.

A table is a YAML list of cases, simple enough for policy staff to read and check::

    - name: Recorded income below S with arrears, no assets - likely
      date: 2024-06-30
      input: {income_per_capita_monthly: 600, utility_arrears_months_3m: 4}
      output:
        dibao: likely                      # program -> likely / needs_verification / not_eligible
        conditions: {dibao.financial_assets: unknown}   # optional: pass / fail / unknown
        gap: {dibao: likely}               # optional: none / verify / likely

``input`` overrides the columns of :data:`BASE_HOUSEHOLD`, a neutral household (two working-age
adults paying social insurance, income 3,000 CNY per person, one home, nothing else), so a case
states only what matters to it. Every malformed table is one :class:`CaseTableError` line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from core.errors import CaseTableError
from features.eligibility.engine import EligibilityResult, evaluate
from policies.conditions import Program
from policies.parameters import ParameterSet
from policies.tristate import GAP_NAMES, OUTCOME_NAMES, STATUS_NAMES

BASE_HOUSEHOLD: dict[str, Any] = {
    "hukou": "urban",
    "household_size": 2,
    "children": 0,
    "elderly": 0,
    "working_age": 2,
    "children_without_support": False,
    "students_enrolled": 0,
    "income_per_capita_monthly": 3000.0,
    "medical_oop_12m": 0.0,
    "medical_oop_to_income_12m": 0.0,
    "serious_illness_12m": False,
    "serious_illness_members_12m": 0,
    "disabled_members": 0,
    "severe_disabled_members": 0,
    "disability_new_12m": False,
    "unemployment_new_3m": False,
    "member_deaths_12m": 0,
    "vehicle_value": 0.0,
    "properties": 1,
    "businesses": 0,
    "utility_arrears_months_3m": 0,
    "visit_in_need_6m": False,
    "assistance_rejections_12m": 0,
    "enrolled_dibao": False,
    "enrolled_tekun": False,
    "enrolled_medical_assistance": False,
    "enrolled_temporary": False,
    "temporary_assistance_12m": False,
    "enrolled_disability_living_subsidy": False,
    "enrolled_disability_care_subsidy": False,
    "rural_monitored": False,
    "rural_relocated": False,
}
"""The neutral household every case starts from (documented in docs/eligibility.md)."""

Status = Literal["likely", "needs_verification", "not_eligible"]
Outcome = Literal["pass", "fail", "unknown"]
Gap = Literal["none", "verify", "likely"]


class _Output(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    conditions: dict[str, Outcome] = {}
    gap: dict[str, Gap] = {}


class Case(BaseModel):
    """One row of a case table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    date: date
    input: dict[str, Any] = {}
    output: _Output

    def statuses(self) -> dict[str, str]:
        """Expected status per program (the output's program keys)."""
        return {k: str(v) for k, v in (self.output.model_extra or {}).items()}


def load_cases(path: Path) -> list[Case]:
    """Read and validate a case table.

    Raises:
        CaseTableError: one line naming the file, the case and the problem.
    """
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CaseTableError(f"{path.name}: unreadable ({type(exc).__name__})") from None
    if not isinstance(doc, list) or not doc:
        raise CaseTableError(f"{path.name}: expected a non-empty list of cases")
    cases = []
    for i, item in enumerate(doc, 1):
        label = item.get("name", f"#{i}") if isinstance(item, dict) else f"#{i}"
        try:
            case = Case.model_validate(item)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise CaseTableError(f"{path.name}: case {label!r}: {where}: {err['msg']}") from None
        for program, status in case.statuses().items():
            if status not in STATUS_NAMES.values():
                raise CaseTableError(
                    f"{path.name}: case {label!r}: {program}: unknown status {status!r}"
                )
        unknown = sorted(set(case.input) - set(BASE_HOUSEHOLD))
        if unknown:
            raise CaseTableError(
                f"{path.name}: case {label!r}: unknown input column {unknown[0]!r}"
            )
        cases.append(case)
    return cases


@dataclass(frozen=True)
class CaseFailure:
    """A case whose result differs from the expected output."""

    name: str
    message: str


def case_frame(cases: Sequence[Case]) -> pd.DataFrame:
    """One household row per case (``household_id`` = ``case-<n>``)."""
    rows = [
        {"household_id": f"case-{i}", "as_of": c.date, **BASE_HOUSEHOLD, **c.input}
        for i, c in enumerate(cases)
    ]
    return pd.DataFrame(rows)


def _compare(case: Case, result: EligibilityResult, row: int) -> list[str]:
    problems = []
    for program, want in case.statuses().items():
        try:
            j = result.program_index(program)
        except KeyError:
            return [f"unknown program {program!r}"]
        got = STATUS_NAMES[int(result.status[row, j])]
        if got != want:
            problems.append(f"{program}: expected {want}, got {got}")
    for key, want in case.output.conditions.items():
        if key not in result.condition_keys:
            return [f"unknown condition {key!r}"]
        got = OUTCOME_NAMES[int(result.conditions[row, result.condition_keys.index(key)])]
        if got != want:
            problems.append(f"{key}: expected {want}, got {got}")
    for program, want in case.output.gap.items():
        got = GAP_NAMES[int(result.gap[row, result.program_index(program)])]
        if got != want:
            problems.append(f"gap {program}: expected {want}, got {got}")
    return problems


def run_cases(
    cases: Sequence[Case], params: ParameterSet, programs: Sequence[Program] | None = None
) -> list[CaseFailure]:
    """Evaluate every case (grouped by date) and list those that differ from their output."""
    frame = case_frame(cases)
    failures = []
    for day, group in frame.groupby("as_of", sort=True):
        result = evaluate(group.reset_index(drop=True), params, day, programs)
        for row, idx in enumerate(group.index):
            problems = _compare(cases[idx], result, row)
            if problems:
                failures.append(CaseFailure(cases[idx].name, "; ".join(problems)))
    return failures


def case_tables(rules_dir: Path) -> Mapping[str, Path]:
    """Program code -> its case table in a rules folder (``<code>.cases.yaml``)."""
    return {p.name.removesuffix(".cases.yaml"): p for p in sorted(rules_dir.glob("*.cases.yaml"))}
