"""Education assistance (教育救助): a student in a household with an eligible status (dibao,
tekun, near-dibao, orphan or de facto unsupported child, disabled student). The data has no
education-aid register, so receipt is unknown."""

from __future__ import annotations

import numpy as np

from policies.conditions import Condition, Program, RuleContext
from policies.tristate import FAIL, UNKNOWN, any_of, from_bool

REF = "学生资助政策 [S25]; 《社会救助暂行办法》第八章 [S1]"

STUDENT = Condition(
    code="student",
    zh="有在读学生",
    en="a member is enrolled in school",
    reference=REF,
    formula=lambda ctx: from_bool(np.nan_to_num(ctx.num("students_enrolled")) > 0),
    inputs=("students_enrolled",),
    text={
        "pass": {
            "zh": "在读学生{students_enrolled:.0f}人",
            "en": "{students_enrolled:.0f} student(s)",
        },
        "fail": {"zh": "无在读学生", "en": "no student"},
    },
)


def _status(ctx: RuleContext) -> np.ndarray:
    enrolled = from_bool(ctx.flag("enrolled_dibao") | ctx.flag("enrolled_tekun"))
    # a disabled member may or may not be the student: unknown, never a pass
    disabled = np.nan_to_num(ctx.num("disabled_members")) > 0
    disabled_student = np.where(disabled, UNKNOWN, FAIL).astype(np.int8)
    statuses = [ctx.status(p) for p in ("dibao", "tekun", "single_person", "near_dibao")]
    return any_of(enrolled, *statuses, ctx.status("orphan_fuc"), disabled_student)


ELIGIBLE_STATUS = Condition(
    code="eligible_status",
    zh="家庭属于低保、特困、低保边缘、孤儿/事实无人抚养或残疾学生",
    en="dibao, tekun, near-dibao, orphan/unsupported child, or a disabled student",
    reference=REF,
    formula=_status,
    inputs=("enrolled_dibao", "enrolled_tekun", "disabled_members"),
    programs=("dibao", "tekun", "single_person", "near_dibao", "orphan_fuc"),
    text={
        "pass": {"zh": "属于教育救助对象", "en": "in a group education assistance covers"},
        "fail": {"zh": "不属于教育救助对象", "en": "in no group education assistance covers"},
        "unknown": {
            "zh": "身份待核实（或残疾成员可能为学生）",
            "en": "the group is to be verified (or a disabled member may be the student)",
        },
    },
)

PROGRAM = Program(
    code="education",
    zh="教育救助",
    en="education assistance",
    reference=REF,
    conditions=(STUDENT, ELIGIBLE_STATUS),
)
