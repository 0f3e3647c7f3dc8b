"""Medical burden: out-of-pocket spending, alone and against income."""

from __future__ import annotations

from features.vectors.catalogue.declaration import (
    CLAIMS,
    DERIVED,
    INCOME_SOURCES,
    MED,
    PENSION,
    SERIOUS,
    STANDARD,
    Feature,
)
from features.vectors.sql import cents

FEATURES = (
    Feature(
        name="medical_oop_12m",
        zh="近12个月自付医疗费用",
        en="out-of-pocket medical spending, 12m",
        unit="CNY",
        group="medical_burden",
        window="12m",
        sources=(MED,),
        rows=CLAIMS,
        sql=f"SUM(CASE WHEN event_date > {{start}} THEN {cents('out_of_pocket')} ELSE 0 END)",
        dtype="float",
        direction=1,
        reason_zh="近12个月自付医疗费用 {value:yuan}",
        reason_en="{value:yuan} out-of-pocket medical spending in the last 12 months",
        reason_zh_zero="近12个月无自付医疗费用",
        reason_en_zero="no out-of-pocket medical spending in the last 12 months",
    ),
    Feature(
        name="medical_oop_to_income_12m",
        zh="自付医疗费用与收入之比",
        en="out-of-pocket medical spending / income, 12m",
        unit="ratio",
        group="medical_burden",
        window="12m",
        sources=INCOME_SOURCES + (MED,),
        rows=DERIVED,
        sql="medical_oop_12m / (12 * GREATEST(inc_now, {standard} * household_size))",
        dtype="float",
        direction=1,
        params=(PENSION, STANDARD),
        reason_zh="近12个月自付医疗费用为家庭收入的 {value:.1f} 倍",
        reason_en="out-of-pocket medical spending over the last 12 months is {value:.1f}x "
        "household income",
        reason_zh_zero="近12个月无自付医疗费用",
        reason_en_zero="no out-of-pocket medical spending in the last 12 months",
        note="OOP 12m / (12 x max(estimated monthly income, S x household size)): income is "
        "floored at the dibao line of the household, so no division by zero",
    ),
    Feature(
        name="serious_oop_1m",
        zh="上月重大疾病自付费用",
        en="serious-illness out-of-pocket spending, last month",
        unit="CNY",
        group="medical_burden",
        window="1m",
        sources=(MED,),
        rows=SERIOUS,
        sql="SUM(CASE WHEN event_date > {start} THEN oop ELSE 0 END)",
        dtype="float",
        direction=1,
        reason_zh="上月重大疾病自付费用 {value:yuan}",
        reason_en="{value:yuan} out-of-pocket for a serious illness last month",
        reason_zh_zero="上月无重大疾病自付费用",
        reason_en_zero="nothing out-of-pocket for a serious illness last month",
    ),
)
