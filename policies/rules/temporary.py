"""Temporary assistance (临时救助): a sudden event (emergency type) or an essential-spending
spike (expenditure type) that leaves basic needs unmet. No hukou test: help where the emergency
happens. Receipt: an open case or a grant in the last 12 months."""

from __future__ import annotations

import numpy as np

from policies.conditions import Condition, Program, RuleContext
from policies.rules.common import (
    INCOME_COLS,
    INCOME_CORROBORATED,
    S,
    countable_income,
    countable_income_row,
)
from policies.tristate import compare, from_bool

REF = "《社会救助暂行办法》第十一章 [S1]; 急难型/支出型临时救助 [S8]"
LINE, SHARE = "temporary.income_line_multiple", "temporary.expenditure_share_of_income"
DEDUCT = "dibao.deduct_medical_out_of_pocket"


def _event(ctx: RuleContext) -> np.ndarray:
    sudden = (
        ctx.flag("unemployment_new_3m")
        | (np.nan_to_num(ctx.num("member_deaths_12m")) > 0)
        | ctx.flag("disability_new_12m")
        | ctx.flag("serious_illness_12m")
    )
    spending = np.nan_to_num(ctx.num("medical_oop_to_income_12m")) > ctx.param(SHARE)
    return from_bool(sudden | spending)


HARDSHIP_EVENT = Condition(
    code="hardship_event",
    zh="发生急难事件或刚性支出骤增",
    en="a sudden event or an essential-spending spike",
    reference=REF,
    formula=_event,
    inputs=(
        "unemployment_new_3m",
        "member_deaths_12m",
        "disability_new_12m",
        "serious_illness_12m",
        "medical_oop_to_income_12m",
    ),
    params=(SHARE,),
    text={
        "pass": {
            "zh": "近期新增失业、成员死亡、新办残疾证、重大疾病，或自付医疗费用占收入"
            "{medical_oop_to_income_12m:.0%}",
            "en": "a new job loss, a death, a new disability, a serious illness, or medical "
            "costs at {medical_oop_to_income_12m:.0%} of income",
        },
        "fail": {"zh": "近期无急难事件或支出骤增", "en": "no recent emergency or spending spike"},
    },
)


def _income(ctx: RuleContext) -> np.ndarray:
    line = ctx.param(LINE) * ctx.param(S)
    return compare(countable_income(ctx), lambda y: y < line)


BASIC_NEEDS_UNMET = Condition(
    code="basic_needs_unmet",
    zh="基本生活陷入困境（收入低于救助线）",
    en="basic needs unmet (income below the assistance line)",
    reference=REF,
    formula=_income,
    inputs=INCOME_COLS,
    params=(LINE, S, DEDUCT),
    extra=lambda row, param: {
        "countable_income": countable_income_row(row, param),
        "line": param(LINE) * param(S),
    },
    text={
        "pass": {
            "zh": "人均月收入约{countable_income:,.0f}元，低于{line:,.0f}元",
            "en": "income per person about {countable_income:,.0f} CNY, below {line:,.0f}",
        },
        "fail": {
            "zh": "人均月收入约{countable_income:,.0f}元，不低于{line:,.0f}元",
            "en": "income per person about {countable_income:,.0f} CNY, not below {line:,.0f}",
        },
    },
)

PROGRAM = Program(
    code="temporary",
    zh="临时救助",
    en="temporary assistance",
    reference=REF,
    conditions=(HARDSHIP_EVENT, BASIC_NEEDS_UNMET, INCOME_CORROBORATED),
    receiving=("enrolled_temporary", "temporary_assistance_12m"),
)
