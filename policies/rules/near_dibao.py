"""Near-dibao households (低保边缘家庭): fail dibao, income below e x S (capped at the minimum
wage where the Zhejiang option applies), assets pass. No monthly cash: the status opens special
assistance. The data has no near-dibao register, so receipt is unknown."""

from __future__ import annotations

from policies.conditions import Condition, Program, RuleContext
from policies.rules.common import (
    ASSETS,
    INCOME_COLS,
    INCOME_CORROBORATED,
    S,
    countable_income,
    countable_income_row,
)
from policies.tristate import compare, negate

REF = "MCA 2024 notice on low-income people [S6]; Zhejiang plan [S9]"
E, WAGE, DEDUCT = (
    "near_dibao.multiplier",
    "economy.minimum_wage_monthly",
    "dibao.deduct_medical_out_of_pocket",
)

NOT_DIBAO = Condition(
    code="not_dibao",
    zh="不符合低保",
    en="does not qualify for dibao",
    reference=REF,
    formula=lambda ctx: negate(ctx.status("dibao")),
    programs=("dibao",),
    text={
        "pass": {"zh": "不符合低保条件", "en": "fails dibao"},
        "fail": {"zh": "可能符合低保，按低保审核", "en": "may qualify for dibao instead"},
        "unknown": {"zh": "低保资格待核实", "en": "dibao is to be verified first"},
    },
)


def _line(ctx: RuleContext) -> float:
    return min(ctx.param(E) * ctx.param(S), ctx.param(WAGE))


INCOME_BELOW_LINE = Condition(
    code="income_below_near_line",
    zh="家庭人均收入低于低保边缘标准（不超过最低工资）",
    en="income per person below the near-dibao line (at most the minimum wage)",
    reference=REF,
    formula=lambda ctx: compare(countable_income(ctx), lambda y: y < _line(ctx)),
    inputs=INCOME_COLS,
    params=(E, S, WAGE, DEDUCT),
    extra=lambda row, param: {
        "countable_income": countable_income_row(row, param),
        "line": min(param(E) * param(S), param(WAGE)),
    },
    text={
        "pass": {
            "zh": "人均月收入约{countable_income:,.0f}元，低于低保边缘标准{line:,.0f}元",
            "en": "income per person about {countable_income:,.0f} CNY, below the line {line:,.0f}",
        },
        "fail": {
            "zh": "人均月收入约{countable_income:,.0f}元，不低于低保边缘标准{line:,.0f}元",
            "en": "income per person about {countable_income:,.0f} CNY, not below {line:,.0f}",
        },
    },
)

PROGRAM = Program(
    code="near_dibao",
    zh="低保边缘家庭",
    en="near-dibao household",
    reference=REF,
    conditions=(NOT_DIBAO, INCOME_BELOW_LINE, INCOME_CORROBORATED, *ASSETS),
    covered_by=("enrolled_dibao", "enrolled_tekun"),
)
