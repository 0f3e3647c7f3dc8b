"""Early warning: unemployment registrations and benefits."""

from __future__ import annotations

from features.vectors.catalogue.declaration import REGISTRATIONS, UNEMP, UNEMPLOYMENT, Feature
from features.vectors.sql import amount_sum, flag

FEATURES = (
    Feature(
        name="unemployed_members",
        zh="登记失业人数",
        en="members registered unemployed",
        unit="persons",
        group="early_warning_unemployment",
        window="as_of",
        sources=(UNEMP,),
        rows=REGISTRATIONS,
        sql="COUNT(DISTINCT person_id)",
        dtype="int",
        direction=1,
        reason_zh="家庭中有 {value:d} 人处于失业登记状态",
        reason_en="{value:plural/member/members} registered unemployed",
        reason_zh_zero="家庭中无人处于失业登记状态",
        reason_en_zero="no member registered unemployed",
        note="registrations whose latest event is `baseline` or `registration`",
    ),
    Feature(
        name="unemployment_new_3m",
        zh="近3个月新增失业登记",
        en="new unemployment registration in the last 3 months",
        unit="flag",
        group="early_warning_unemployment",
        window="3m",
        sources=(UNEMP,),
        rows=UNEMPLOYMENT,
        sql=flag("event = 'registration' AND event_date > {start}"),
        dtype="bool",
        direction=1,
        reason_zh="近3个月有家庭成员新办失业登记",
        reason_en="a member registered as unemployed in the last 3 months",
        reason_zh_false="近3个月无新增失业登记",
        reason_en_false="no new unemployment registration in the last 3 months",
    ),
    Feature(
        name="unemployment_benefit_3m",
        zh="近3个月失业保险金",
        en="unemployment benefit paid, 3m",
        unit="CNY",
        group="early_warning_unemployment",
        window="3m",
        sources=(UNEMP,),
        rows=UNEMPLOYMENT,
        sql=amount_sum("amount", "event = 'benefit_payment' AND event_date > {start}"),
        dtype="float",
        direction=1,
        reason_zh="近3个月领取失业保险金 {value:yuan}",
        reason_en="{value:yuan} of unemployment benefit paid in the last 3 months",
        reason_zh_zero="近3个月未领取失业保险金",
        reason_en_zero="no unemployment benefit paid in the last 3 months",
    ),
)
