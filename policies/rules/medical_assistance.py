"""Medical assistance (医疗救助): a covered status (tekun, dibao, near-dibao, impoverished by
illness) and out-of-pocket spending above that status's yearly deductible, a share of the
previous year's per-capita disposable income (urban or rural by hukou)."""

from __future__ import annotations

from datetime import date

import numpy as np

from policies.conditions import Condition, Program, RuleContext
from policies.tristate import FAIL, all_of, any_of, compare, from_bool

REF = "国办发〔2021〕42号 [S24]"
DED = "medical_assistance.deductible_share_of_income"
INCOME = "economy.disposable_income_per_capita_annual"
SHARE = "medical_assistance.impoverishing_share_of_income"
PROGRAMS = ("tekun", "dibao", "single_person", "near_dibao")


def _impoverished(ctx: RuleContext) -> np.ndarray:
    burden = ctx.num("medical_oop_to_income_12m")
    return all_of(
        from_bool(ctx.flag("serious_illness_12m")),
        compare(burden, lambda b: b > ctx.param(SHARE)),
    )


def _groups(ctx: RuleContext) -> dict[str, np.ndarray]:
    """Tri-state membership of each deductible group."""
    enrolled_tekun = from_bool(ctx.flag("enrolled_tekun"))
    enrolled_dibao = from_bool(ctx.flag("enrolled_dibao"))
    return {
        "tekun": any_of(enrolled_tekun, ctx.status("tekun")),
        "dibao": any_of(enrolled_dibao, ctx.status("dibao"), ctx.status("single_person")),
        "near_dibao": ctx.status("near_dibao"),
        "impoverished_by_illness": _impoverished(ctx),
    }


def _status(ctx: RuleContext) -> np.ndarray:
    return any_of(*_groups(ctx).values())


def _prior_year_income(ctx: RuleContext) -> np.ndarray:
    """Previous year's disposable income per person, by hukou (the latest published value)."""
    values = ctx.param(INCOME, on=date(ctx.on.year - 1, 1, 1))
    hukou = ctx.text("hukou")
    return np.where(hukou == "urban", values["urban"], values["rural"]).astype(float)


INPUTS = (
    "enrolled_tekun",
    "enrolled_dibao",
    "serious_illness_12m",
    "medical_oop_to_income_12m",
    "medical_oop_12m",
    "hukou",
)

COVERED_GROUP = Condition(
    code="covered_group",
    zh="属于特困、低保、低保边缘或因病致贫重病患者",
    en="tekun, dibao, near-dibao or impoverished by serious illness",
    reference=REF,
    formula=_status,
    inputs=INPUTS[:4],
    params=(SHARE,),
    programs=PROGRAMS,
    text={
        "pass": {"zh": "属于医疗救助对象类别", "en": "in a group medical assistance covers"},
        "fail": {"zh": "不属于医疗救助对象类别", "en": "in no group medical assistance covers"},
        "unknown": {"zh": "救助对象身份待核实", "en": "the group is to be verified"},
    },
)


def _above_deductible(ctx: RuleContext) -> np.ndarray:
    shares = ctx.param(DED)
    base = _prior_year_income(ctx)
    oop = np.nan_to_num(ctx.num("medical_oop_12m"))
    parts = [
        all_of(member, from_bool(oop > shares[name] * base))
        for name, member in _groups(ctx).items()
    ]
    return np.where(oop > 0, any_of(*parts), FAIL).astype(np.int8)


ABOVE_DEDUCTIBLE = Condition(
    code="oop_above_deductible",
    zh="自付医疗费用超过起付标准",
    en="out-of-pocket medical costs above the deductible",
    reference=REF,
    formula=_above_deductible,
    inputs=INPUTS,
    params=(DED, SHARE, INCOME),
    programs=PROGRAMS,
    text={
        "pass": {
            "zh": "近12个月自付医疗费用{medical_oop_12m:,.0f}元，超过所属类别起付标准",
            "en": "out-of-pocket medical costs {medical_oop_12m:,.0f} CNY in 12 months, "
            "above the group's deductible",
        },
        "fail": {
            "zh": "近12个月自付医疗费用{medical_oop_12m:,.0f}元，未超过起付标准",
            "en": "out-of-pocket medical costs {medical_oop_12m:,.0f} CNY, "
            "not above the deductible",
        },
        "unknown": {
            "zh": "起付标准取决于待核实的身份",
            "en": "the deductible depends on the group",
        },
    },
)

PROGRAM = Program(
    code="medical_assistance",
    zh="医疗救助",
    en="medical assistance",
    reference=REF,
    conditions=(COVERED_GROUP, ABOVE_DEDUCTIBLE),
    receiving=("enrolled_medical_assistance",),
)
