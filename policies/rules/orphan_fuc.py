"""Basic living allowance for orphans (孤儿) and de facto unsupported children
(事实无人抚养儿童): a child whose parents are dead, missing, or unable to care (severe
disability, serious illness, prison...). The data never shows the parents' situation, so the
answer is at best "needs verification"; there is no register of receipt in the data."""

from __future__ import annotations

import numpy as np

from policies.conditions import Condition, Program, RuleContext
from policies.tristate import FAIL, UNKNOWN, from_bool

REF = "民发〔2019〕62号 [S22]"

CHILD = Condition(
    code="child",
    zh="有未成年人",
    en="a member is under 18",
    reference=REF,
    formula=lambda ctx: from_bool(np.nan_to_num(ctx.num("children")) > 0),
    inputs=("children",),
    text={
        "pass": {"zh": "未成年人{children:.0f}人", "en": "{children:.0f} child(ren)"},
        "fail": {"zh": "无未成年人", "en": "no child"},
    },
)


def _no_carer(ctx: RuleContext) -> np.ndarray:
    working = np.nan_to_num(ctx.num("working_age"))
    unable = np.nan_to_num(ctx.num("severe_disabled_members")) + np.nan_to_num(
        ctx.num("serious_illness_members_12m")
    )
    possible = ctx.flag("children_without_support") | (working <= unable)
    return np.where(possible, UNKNOWN, FAIL).astype(np.int8)


NO_CARER = Condition(
    code="parents_absent_or_unable",
    zh="父母双亡、失踪或无力抚养",
    en="parents dead, missing or unable to care",
    reference=REF,
    formula=_no_carer,
    inputs=(
        "working_age",
        "severe_disabled_members",
        "serious_illness_members_12m",
        "children_without_support",
    ),
    text={
        "fail": {
            "zh": "家中有能抚养的劳动年龄成员",
            "en": "a working-age member able to care lives in the household",
        },
        "unknown": {
            "zh": "家中无有抚养能力的劳动年龄成员，父母情况需核实",
            "en": "no able working-age member at home; check the parents' situation",
        },
    },
)

PROGRAM = Program(
    code="orphan_fuc",
    zh="孤儿、事实无人抚养儿童基本生活保障",
    en="basic living allowance for orphans and de facto unsupported children",
    reference=REF,
    conditions=(CHILD, NO_CARER),
)
