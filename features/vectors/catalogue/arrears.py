"""Utility arrears: water, power and gas bills left unpaid."""

from __future__ import annotations

from features.vectors.catalogue.declaration import ARREARS, Feature
from features.vectors.sql import month_index, months_since

FEATURES = (
    Feature(
        name="utility_arrears_months_3m",
        zh="近3个月最长欠费月数",
        en="longest utility arrears, 3m",
        unit="months",
        group="arrears",
        window="3m",
        sources=("utility_arrears",),
        rows=ARREARS,
        sql="MAX(CASE WHEN event_date > {start} THEN months_in_arrears END)",
        dtype="int",
        direction=1,
        reason_zh="水电燃气欠费已达 {value:d} 个月",
        reason_en="utility bills {value:d} month(s) in arrears",
        note="max `months_in_arrears` of the last 3 months; 0 when none",
    ),
    Feature(
        name="utility_arrears_amount_3m",
        zh="近3个月最高欠费金额",
        en="largest utility amount due, 3m",
        unit="CNY",
        group="arrears",
        window="3m",
        sources=("utility_arrears",),
        rows=ARREARS,
        sql="MAX(CASE WHEN event_date > {start} THEN amount_due END)",
        dtype="float",
        direction=1,
        reason_zh="水电燃气欠费 {value:,.0f} 元",
        reason_en="CNY {value:,.0f} of utility bills due",
    ),
    Feature(
        name="utility_arrears_episodes_12m",
        zh="近12个月欠费月份数",
        en="months with utility arrears, 12m",
        unit="months",
        group="arrears",
        window="12m",
        sources=("utility_arrears",),
        rows=ARREARS,
        sql="COUNT(DISTINCT CASE WHEN event_date > {start} "
        f"THEN {month_index('event_date')} END)",
        dtype="int",
        direction=1,
        reason_zh="近12个月有 {value} 个月水电燃气欠费",
        reason_en="utility arrears in {value} of the last 12 months",
    ),
    Feature(
        name="months_since_arrears",
        zh="距上次欠费月数",
        en="months since the last utility arrears",
        unit="months",
        group="arrears",
        window="12m",
        sources=("utility_arrears",),
        rows=ARREARS,
        sql=months_since("MAX(CASE WHEN event_date > {start} THEN event_date END)"),
        dtype="float",
        direction=-1,
        nullable=True,
        reason_zh="{value:.0f} 个月前有水电燃气欠费",
        reason_en="utility arrears {value:.0f} month(s) ago",
        note="calendar months since the latest arrears notice in the last 12 months; null when "
        "there is none",
    ),
)
