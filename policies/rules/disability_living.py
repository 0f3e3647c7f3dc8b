"""Living subsidy for people with disabilities in hardship (困难残疾人生活补贴): a certificate
holder in a dibao (or tekun) household."""

from __future__ import annotations

import numpy as np

from policies.conditions import Condition, Program, RuleContext
from policies.tristate import any_of, from_bool

REF = "国发〔2015〕52号 [S23]"

CERTIFICATE = Condition(
    code="disability_certificate",
    zh="有持证残疾人",
    en="a member holds a disability certificate",
    reference=REF,
    formula=lambda ctx: from_bool(np.nan_to_num(ctx.num("disabled_members")) > 0),
    inputs=("disabled_members",),
    text={
        "pass": {
            "zh": "持证残疾人{disabled_members:.0f}人",
            "en": "{disabled_members:.0f} certificate holder(s)",
        },
        "fail": {"zh": "无持证残疾人", "en": "no certificate holder"},
    },
)


def _low_income(ctx: RuleContext) -> np.ndarray:
    enrolled = from_bool(ctx.flag("enrolled_dibao") | ctx.flag("enrolled_tekun"))
    return any_of(enrolled, ctx.status("dibao"), ctx.status("tekun"), ctx.status("single_person"))


LOW_INCOME = Condition(
    code="dibao_or_tekun_household",
    zh="低保或特困家庭（含单人保）",
    en="a dibao or tekun household (incl. single-person inclusion)",
    reference=REF,
    formula=_low_income,
    inputs=("enrolled_dibao", "enrolled_tekun"),
    programs=("dibao", "tekun", "single_person"),
    text={
        "pass": {"zh": "在保或可能符合低保/特困", "en": "enrolled in, or likely for, dibao/tekun"},
        "fail": {"zh": "非低保、特困家庭", "en": "not a dibao or tekun household"},
        "unknown": {"zh": "低保/特困资格待核实", "en": "dibao/tekun is to be verified"},
    },
)

PROGRAM = Program(
    code="disability_living",
    zh="困难残疾人生活补贴",
    en="living subsidy for people with disabilities in hardship",
    reference=REF,
    conditions=(CERTIFICATE, LOW_INCOME),
    receiving=("enrolled_disability_living_subsidy",),
)
