"""Single-person inclusion (单人保): a severely disabled or seriously ill member of a
near-dibao household that fails dibao is admitted alone; only that person's own income and
assets count (not in the data, so a routine check)."""

from __future__ import annotations

import numpy as np

from policies.conditions import Condition, Program, RuleContext
from policies.rules.common import INCOME_COLS, S, always, countable_income, countable_income_row
from policies.tristate import UNKNOWN, compare, from_bool, negate

REF = "民发〔2022〕83号 (一) [S5]; 柳江区 办事指南 [S5b]"
E = "near_dibao.multiplier"
DEDUCT = "dibao.deduct_medical_out_of_pocket"

HOUSEHOLD_NOT_DIBAO = Condition(
    code="household_not_dibao",
    zh="家庭整体不符合低保",
    en="the household as a whole does not qualify for dibao",
    reference=REF,
    formula=lambda ctx: negate(ctx.status("dibao")),
    programs=("dibao",),
    text={
        "pass": {"zh": "家庭整体不符合低保", "en": "the household fails dibao"},
        "fail": {"zh": "家庭整体可能符合低保，按户纳入", "en": "the whole household may qualify"},
        "unknown": {"zh": "家庭低保资格待核实", "en": "the household's dibao is to be verified"},
    },
)


def _member(ctx: RuleContext) -> np.ndarray:
    severe = np.nan_to_num(ctx.num("severe_disabled_members")) > 0
    return from_bool(severe | ctx.flag("serious_illness_12m"))


MEMBER_SEVERE_OR_ILL = Condition(
    code="member_severe_or_ill",
    zh="有重度残疾或重病成员",
    en="a member is severely disabled (grade 1-2) or seriously ill",
    reference=REF,
    formula=_member,
    inputs=("severe_disabled_members", "serious_illness_12m"),
    text={
        "pass": {
            "zh": "重度残疾{severe_disabled_members:.0f}人，或近12个月有重大疾病",
            "en": "{severe_disabled_members:.0f} severely disabled member(s) or a serious illness",
        },
        "fail": {
            "zh": "无重度残疾或重病成员",
            "en": "no severely disabled or seriously ill member",
        },
    },
)


def _near_line(ctx: RuleContext) -> np.ndarray:
    line = ctx.param(E) * ctx.param(S)
    return compare(countable_income(ctx), lambda y: y < line)


INCOME_BELOW_NEAR_LINE = Condition(
    code="income_below_near_line",
    zh="家庭人均收入低于低保边缘标准",
    en="household income per person below the near-dibao line",
    reference="MCA 2024 notice [S6]; " + REF,
    formula=_near_line,
    inputs=INCOME_COLS,
    params=(E, S, DEDUCT),
    extra=lambda row, param: {
        "countable_income": countable_income_row(row, param),
        "line": param(E) * param(S),
    },
    text={
        "pass": {
            "zh": "人均月收入约{countable_income:,.0f}元，"
            "低于{line:,.0f}元（{near_dibao.multiplier}倍低保标准）",
            "en": "income per person about {countable_income:,.0f} CNY, below {line:,.0f} "
            "({near_dibao.multiplier} x S)",
        },
        "fail": {
            "zh": "人均月收入约{countable_income:,.0f}元，不低于{line:,.0f}元",
            "en": "income per person about {countable_income:,.0f} CNY, not below {line:,.0f}",
        },
    },
)

OWN_MEANS = Condition(
    code="own_income_and_assets",
    zh="本人收入与财产符合条件",
    en="the person's own income and assets qualify",
    reference=REF,
    formula=always(UNKNOWN),
    routine=True,
    text={
        "unknown": {
            "zh": "仅计算本人收入和财产，数据中无个人明细，申请时核对",
            "en": "only the person's own income and assets count; checked at application",
        }
    },
)

PROGRAM = Program(
    code="single_person",
    zh="单人保（重残重病单人纳入低保）",
    en="single-person dibao inclusion (单人保)",
    reference=REF,
    conditions=(HOUSEHOLD_NOT_DIBAO, MEMBER_SEVERE_OR_ILL, INCOME_BELOW_NEAR_LINE, OWN_MEANS),
    receiving=("enrolled_dibao",),
    covered_by=("enrolled_tekun",),
)
