"""Conditions shared by several programs: the recorded-income tests and the asset tests.

The recorded income (``income_per_capita_monthly``) covers wages with social-insurance
contributions, unemployment benefit, assistance payments and the residents' basic pension. It is
a floor, not the household's income: informal work, farming, family support and occupational
pensions are outside the data. So a recorded income below a line *passes* the estimate test, but
the income test as a whole also needs corroboration (:data:`INCOME_CORROBORATED`); without it
the answer is "needs verification", not "eligible".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from policies.conditions import Condition, RuleContext
from policies.tristate import PASS, UNKNOWN, compare, constant, from_bool, tri

S = "dibao.standard_monthly"
DEDUCT = "dibao.deduct_medical_out_of_pocket"
MEANS_TEST = "《最低生活保障审核确认办法》(2021) 收入与财产认定 [S4]"
ARREARS = "screening.arrears_months_evidence"
INCOME_COLS = ("income_per_capita_monthly", "medical_oop_12m", "household_size")


def countable_income(ctx: RuleContext) -> np.ndarray:
    """Recorded income per person per month, less out-of-pocket medical spending when the
    deduction parameter is on (NaN where the estimate is missing)."""
    y = ctx.num("income_per_capita_monthly")
    if ctx.param(DEDUCT):
        size = np.maximum(np.nan_to_num(ctx.num("household_size"), nan=1.0), 1.0)
        y = y - np.nan_to_num(ctx.num("medical_oop_12m"), nan=0.0) / 12.0 / size
    return y


def countable_income_row(row: Mapping[str, Any], param: Callable[[str], Any]) -> float:
    """:func:`countable_income` for one household (for trace phrases)."""
    y = float(row["income_per_capita_monthly"])
    if param(DEDUCT):
        y -= float(row["medical_oop_12m"] or 0.0) / 12.0 / max(float(row["household_size"]), 1.0)
    return y


def _income_values(row: Mapping[str, Any], param: Callable[[str], Any]) -> dict[str, Any]:
    return {"countable_income": countable_income_row(row, param)}


def _below_s(ctx: RuleContext) -> np.ndarray:
    return compare(countable_income(ctx), lambda y: y < ctx.param(S))


INCOME_BELOW_S = Condition(
    code="income_below_standard",
    zh="家庭人均收入低于低保标准",
    en="household income per person below the dibao standard",
    reference="《社会救助暂行办法》第九条 [S1]; " + MEANS_TEST,
    formula=_below_s,
    inputs=INCOME_COLS,
    params=(S, DEDUCT),
    extra=_income_values,
    text={
        "pass": {
            "zh": "有记录的人均月收入（扣除自付医疗费用后）约{countable_income:,.0f}元，"
            "低于低保标准{dibao.standard_monthly:,.0f}元",
            "en": "recorded income per person (after out-of-pocket medical costs) about "
            "{countable_income:,.0f} CNY a month, below the standard {dibao.standard_monthly:,.0f}",
        },
        "fail": {
            "zh": "有记录的人均月收入约{countable_income:,.0f}元，"
            "不低于低保标准{dibao.standard_monthly:,.0f}元",
            "en": "recorded income per person about {countable_income:,.0f} CNY a month, "
            "not below the standard {dibao.standard_monthly:,.0f}",
        },
        "unknown": {"zh": "收入估计缺失", "en": "no income estimate"},
    },
)


def _corroborated(ctx: RuleContext) -> np.ndarray:
    evidence = (
        (np.nan_to_num(ctx.num("utility_arrears_months_3m")) >= ctx.param(ARREARS))
        | ctx.flag("visit_in_need_6m")
        | ctx.flag("enrolled_dibao")
        | ctx.flag("enrolled_tekun")
    )
    return tri(evidence, ~evidence)


INCOME_CORROBORATED = Condition(
    code="income_corroborated",
    zh="低收入有佐证（欠费、走访或在保）",
    en="low income corroborated (arrears, a visit or current enrolment)",
    reference="国办发〔2023〕39号 动态监测、主动发现 [S7]; 浙江大救助信息系统比对 [S12]",
    formula=_corroborated,
    inputs=("utility_arrears_months_3m", "visit_in_need_6m", "enrolled_dibao", "enrolled_tekun"),
    params=(ARREARS,),
    text={
        "pass": {
            "zh": "低收入有佐证：水电燃气欠费{utility_arrears_months_3m:.0f}个月、"
            "近期走访认定困难或正在享受低保/特困",
            "en": "low income corroborated: {utility_arrears_months_3m:.0f} months of utility "
            "arrears, a recent visit finding need, or current dibao/tekun enrolment",
        },
        "unknown": {
            "zh": "数据未覆盖灵活就业、务农、赡养费等收入，需入户核实收入",
            "en": "income from informal work, farming or family support is not in the data; "
            "check income on a visit",
        },
    },
)


def _no_refusal(ctx: RuleContext) -> np.ndarray:
    refused = np.nan_to_num(ctx.num("assistance_rejections_12m")) > 0
    return tri(~refused, refused)


NO_RECENT_REFUSAL = Condition(
    code="no_recent_refusal",
    zh="近12个月未被拒绝救助",
    en="no assistance refusal in the last 12 months",
    reference=MEANS_TEST + " (a refusal means the official check found the household ineligible)",
    formula=_no_refusal,
    inputs=("assistance_rejections_12m",),
    text={
        "pass": {"zh": "近12个月无救助申请被拒记录", "en": "no refused application in 12 months"},
        "unknown": {
            "zh": "近12个月有{assistance_rejections_12m:.0f}次申请被拒，需核实情况是否变化",
            "en": "{assistance_rejections_12m:.0f} refused application(s) in 12 months; "
            "check what has changed",
        },
    },
)

VEHICLE = Condition(
    code="vehicle",
    zh="无超标机动车",
    en="no vehicle above the value limit",
    reference=MEANS_TEST + "; typical provincial asset test (DOMAIN.md §1.1)",
    formula=lambda ctx: compare(
        ctx.num("vehicle_value"), lambda v: v <= ctx.param("dibao.vehicle_value_limit")
    ),
    inputs=("vehicle_value",),
    params=("dibao.vehicle_value_limit",),
    text={
        "pass": {
            "zh": "机动车价值{vehicle_value:,.0f}元，未超过{dibao.vehicle_value_limit:,.0f}元",
            "en": "vehicles worth {vehicle_value:,.0f} CNY, "
            "within {dibao.vehicle_value_limit:,.0f}",
        },
        "fail": {
            "zh": "机动车价值{vehicle_value:,.0f}元，超过{dibao.vehicle_value_limit:,.0f}元",
            "en": "vehicles worth {vehicle_value:,.0f} CNY, above {dibao.vehicle_value_limit:,.0f}",
        },
    },
)

PROPERTY = Condition(
    code="property",
    zh="无多套或商业不动产",
    en="no second home or commercial property",
    reference=MEANS_TEST + "; typical provincial asset test (DOMAIN.md §1.1)",
    formula=lambda ctx: compare(
        ctx.num("properties"), lambda v: v <= ctx.param("dibao.property_limit")
    ),
    inputs=("properties",),
    params=("dibao.property_limit",),
    text={
        "pass": {
            "zh": "登记不动产{properties:.0f}处",
            "en": "{properties:.0f} registered property",
        },
        "fail": {
            "zh": "登记不动产{properties:.0f}处，超过{dibao.property_limit:.0f}处",
            "en": "{properties:.0f} registered properties, more than {dibao.property_limit:.0f}",
        },
    },
)

BUSINESS = Condition(
    code="business",
    zh="无登记市场主体",
    en="no registered business",
    reference=MEANS_TEST + "; typical provincial asset test (DOMAIN.md §1.1)",
    formula=lambda ctx: compare(
        ctx.num("businesses"), lambda v: v <= ctx.param("dibao.business_limit")
    ),
    inputs=("businesses",),
    params=("dibao.business_limit",),
    text={
        "pass": {"zh": "无登记市场主体", "en": "no registered business"},
        "fail": {
            "zh": "登记市场主体{businesses:.0f}个",
            "en": "{businesses:.0f} registered business(es)",
        },
    },
)


def _deposits(ctx: RuleContext) -> np.ndarray:
    verified = ctx.flag("enrolled_dibao") | ctx.flag("enrolled_tekun")
    return np.where(verified, PASS, UNKNOWN).astype(np.int8)


def _deposit_values(row: Mapping[str, Any], param: Callable[[str], Any]) -> dict[str, Any]:
    cap = param("dibao.asset_limit_multiple_of_annual_standard") * 12 * param(S)
    return {"deposit_cap": cap}


DEPOSITS = Condition(
    code="financial_assets",
    zh="人均金融资产不超过上限",
    en="financial assets per person within the limit",
    reference=MEANS_TEST + "; 家庭经济状况核对 (deposits, securities)",
    formula=_deposits,
    inputs=("enrolled_dibao", "enrolled_tekun"),
    params=("dibao.asset_limit_multiple_of_annual_standard", S),
    routine=True,
    extra=_deposit_values,
    text={
        "pass": {
            "zh": "在保家庭，金融资产已在审核确认时核对",
            "en": "enrolled: financial assets were checked at confirmation",
        },
        "unknown": {
            "zh": "存款等金融资产不在数据中，申请时经济状况核对（人均不超过{deposit_cap:,.0f}元）",
            "en": "deposits are not in the data; the economic-status check verifies them "
            "(at most {deposit_cap:,.0f} CNY per person)",
        },
    },
)

ASSETS = (VEHICLE, PROPERTY, BUSINESS, DEPOSITS)
"""The asset test of dibao, near-dibao and tekun, in trace order."""


def enrolled(ctx: RuleContext, *names: str) -> np.ndarray:
    """PASS where any of the flags is set, else FAIL (for "already in a status" tests)."""
    hit = np.zeros(ctx.n, dtype=bool)
    for name in names:
        hit |= ctx.flag(name)
    return from_bool(hit)


def always(value: int) -> Callable[[RuleContext], np.ndarray]:
    """A formula that gives the same outcome to everyone (a fact the data never holds)."""
    return lambda ctx: constant(value, ctx.n)
