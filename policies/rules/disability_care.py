"""Care subsidy for people with severe disabilities (重度残疾人护理补贴): a grade 1-2
certificate holder needing long-term care (assessed at application: a routine check)."""

from __future__ import annotations

import numpy as np

from policies.conditions import Condition, Program
from policies.rules.common import always
from policies.tristate import UNKNOWN, from_bool

REF = "国发〔2015〕52号 [S23]"

SEVERE = Condition(
    code="severe_disability",
    zh="有一、二级重度残疾人",
    en="a member has a severe (grade 1-2) disability",
    reference=REF,
    formula=lambda ctx: from_bool(np.nan_to_num(ctx.num("severe_disabled_members")) > 0),
    inputs=("severe_disabled_members",),
    text={
        "pass": {
            "zh": "重度残疾人{severe_disabled_members:.0f}人",
            "en": "{severe_disabled_members:.0f} member(s) with a severe disability",
        },
        "fail": {"zh": "无一、二级重度残疾人", "en": "no grade 1-2 disability"},
    },
)

CARE_NEED = Condition(
    code="long_term_care_need",
    zh="需要长期照护",
    en="needs long-term care",
    reference=REF,
    formula=always(UNKNOWN),
    routine=True,
    text={
        "unknown": {
            "zh": "长期照护需求在申请时评估",
            "en": "the long-term care need is assessed at application",
        }
    },
)

PROGRAM = Program(
    code="disability_care",
    zh="重度残疾人护理补贴",
    en="care subsidy for people with severe disabilities",
    reference=REF,
    conditions=(SEVERE, CARE_NEED),
    receiving=("enrolled_disability_care_subsidy",),
)
