"""Early warning: disability certificates."""

from __future__ import annotations

from features.vectors.catalogue.declaration import CERTIFICATES, DIS, Feature
from features.vectors.sql import distinct_persons, flag

FEATURES = (
    Feature(
        name="disabled_members",
        zh="持证残疾人数",
        en="members with a disability certificate",
        unit="persons",
        group="early_warning_disability",
        window="as_of",
        sources=(DIS,),
        rows=CERTIFICATES,
        sql="COUNT(DISTINCT person_id)",
        dtype="int",
        direction=1,
        reason_zh="家庭中有 {value:d} 名持证残疾人",
        reason_en="{value:plural/member/members} with a valid disability certificate",
        reason_zh_zero="家庭中无持证残疾人",
        reason_en_zero="no member with a valid disability certificate",
        note="certificates whose latest event is `baseline` or `issued` (not `revoked`)",
    ),
    Feature(
        name="severe_disabled_members",
        zh="重度残疾人数",
        en="members with severe disability (grade 1-2)",
        unit="persons",
        group="early_warning_disability",
        window="as_of",
        sources=(DIS,),
        rows=CERTIFICATES,
        sql=distinct_persons("disability_grade <= 2"),
        dtype="int",
        direction=1,
        reason_zh="家庭中有 {value:d} 名一、二级重度残疾人",
        reason_en="{value:plural/member/members} with a grade 1-2 (severe) disability certificate",
        reason_zh_zero="家庭中无一、二级重度残疾人",
        reason_en_zero="no member with a grade 1-2 (severe) disability certificate",
    ),
    Feature(
        name="disability_new_12m",
        zh="近12个月新办残疾证",
        en="disability certificate issued in the last 12 months",
        unit="flag",
        group="early_warning_disability",
        window="12m",
        sources=(DIS,),
        rows=CERTIFICATES,
        sql=flag("event = 'issued' AND event_date > {start}"),
        dtype="bool",
        direction=1,
        reason_zh="近12个月有家庭成员新办残疾证",
        reason_en="a member received a disability certificate in the last 12 months",
        reason_zh_false="近12个月无新办残疾证",
        reason_en_false="no new disability certificate in the last 12 months",
    ),
)
