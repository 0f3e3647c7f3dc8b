"""Extreme-poverty support (特困人员救助供养, tekun), adults and minors: no work capacity, no
livelihood, no supporter able to pay. The data never shows supporters, so tekun is at best
"needs verification" unless the household is already enrolled."""

from __future__ import annotations

import numpy as np

from policies.conditions import Condition, Program, RuleContext
from policies.rules.common import ASSETS, INCOME_BELOW_S, INCOME_CORROBORATED
from policies.tristate import FAIL, PASS, UNKNOWN

REF = "《特困人员认定办法》(2021) [S4]"


def _no_work_capacity(ctx: RuleContext) -> np.ndarray:
    working = np.nan_to_num(ctx.num("working_age"))
    severe = np.nan_to_num(ctx.num("severe_disabled_members"))
    return np.select([working == 0, working <= severe], [PASS, UNKNOWN], default=FAIL).astype(
        np.int8
    )


NO_WORK_CAPACITY = Condition(
    code="no_work_capacity",
    zh="无劳动能力（60岁以上、未成年或重度残疾）",
    en="no work capacity (aged 60+, a minor, or severely disabled)",
    reference=REF + "; minors supported to tekun.minor_support_age",
    formula=_no_work_capacity,
    inputs=("working_age", "severe_disabled_members", "elderly", "children"),
    text={
        "pass": {
            "zh": "家庭无18-59岁成员（老人{elderly:.0f}人、未成年人{children:.0f}人）",
            "en": "no member aged 18-59 ({elderly:.0f} aged 60+, {children:.0f} minors)",
        },
        "fail": {
            "zh": "家庭有{working_age:.0f}名劳动年龄成员",
            "en": "{working_age:.0f} working-age member(s)",
        },
        "unknown": {
            "zh": "劳动年龄成员可能为重度残疾人，需核实劳动能力",
            "en": "the working-age members may be the severely disabled ones; check work capacity",
        },
    },
)


def _no_supporter(ctx: RuleContext) -> np.ndarray:
    return np.where(ctx.flag("enrolled_tekun"), PASS, UNKNOWN).astype(np.int8)


NO_SUPPORTER = Condition(
    code="no_supporter",
    zh="无法定赡养、抚养、扶养义务人或其无履行能力",
    en="no legal supporter, or none able to pay",
    reference=REF,
    formula=_no_supporter,
    inputs=("enrolled_tekun",),
    text={
        "pass": {"zh": "已认定特困，义务人情况已核实", "en": "enrolled: supporters were checked"},
        "unknown": {
            "zh": "义务人（子女、父母、配偶等）情况不在数据中，需核实",
            "en": "supporters (children, parents, spouse) are not in the data; check them",
        },
    },
)

PROGRAM = Program(
    code="tekun",
    zh="特困人员救助供养（成年人与未成年人）",
    en="extreme-poverty support (tekun), adults and minors",
    reference=REF + "; 《社会救助暂行办法》第三章 [S1]",
    conditions=(NO_WORK_CAPACITY, INCOME_BELOW_S, INCOME_CORROBORATED, *ASSETS, NO_SUPPORTER),
    receiving=("enrolled_tekun",),
)
