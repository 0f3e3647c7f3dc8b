"""Minimum living allowance (最低生活保障, dibao): income below S and assets pass.

Relocated households (易地扶贫搬迁) and households monitored against falling back into poverty
(防止返贫监测对象) are checked at their current residence, like everyone else in the snapshot:
the residence condition always passes and says so in the trace.
"""

from __future__ import annotations

import numpy as np

from policies.conditions import Condition, Program, RuleContext
from policies.rules.common import ASSETS, INCOME_BELOW_S, INCOME_CORROBORATED, NO_RECENT_REFUSAL
from policies.tristate import PASS, constant


def _residence(ctx: RuleContext) -> np.ndarray:
    # every household of the snapshot lives in the county; relocated and monitored households
    # are assessed here, at their current residence (the flags only change the trace phrase)
    ctx.flag("rural_relocated")
    ctx.flag("rural_monitored")
    return constant(PASS, ctx.n)


def _residence_values(row, param) -> dict[str, str]:  # noqa: ANN001 - see Condition.extra
    relocated, monitored = bool(row["rural_relocated"]), bool(row["rural_monitored"])
    kinds_zh = [k for k, f in (("易地扶贫搬迁户", relocated), ("防返贫监测户", monitored)) if f]
    kinds_en = [
        k for k, f in (("relocated household", relocated), ("monitored household", monitored)) if f
    ]
    if kinds_zh:
        return {
            "residence_zh": "、".join(kinds_zh) + "：按现居住地审核低保，衔接纳入",
            "residence_en": " and ".join(kinds_en)
            + ": assessed for dibao at the current residence",
        }
    return {"residence_zh": "在本县居住，按现居住地审核", "residence_en": "lives in the county"}


RESIDENCE = Condition(
    code="current_residence",
    zh="按现居住地审核（含易地搬迁户、防返贫监测户）",
    en="assessed at the current residence (incl. relocated and monitored households)",
    reference="国办发〔2023〕39号 低收入人口动态监测 [S7]; 易地搬迁与防返贫监测对象的低保衔接",
    formula=_residence,
    inputs=("rural_relocated", "rural_monitored"),
    extra=_residence_values,
    text={"pass": {"zh": "{residence_zh}", "en": "{residence_en}"}},
)

PROGRAM = Program(
    code="dibao",
    zh="最低生活保障（低保）",
    en="minimum living allowance (dibao)",
    reference="《社会救助暂行办法》第二章 [S1]; 《最低生活保障审核确认办法》(2021) [S4]",
    conditions=(RESIDENCE, INCOME_BELOW_S, INCOME_CORROBORATED, NO_RECENT_REFUSAL, *ASSETS),
    receiving=("enrolled_dibao",),
    covered_by=("enrolled_tekun",),
)
