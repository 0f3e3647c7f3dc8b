"""Early warning: school enrolment, absence and dropout."""

from __future__ import annotations

from features.vectors.catalogue.declaration import EDU, SCHOOL, STUDENTS, Feature
from features.vectors.sql import distinct_persons, flag

_ATTENDANCE = "event = 'attendance' AND event_date > {start}"
_DAYS = f"SUM(CASE WHEN {_ATTENDANCE} THEN school_days ELSE 0 END)"
_ABSENT = f"SUM(CASE WHEN {_ATTENDANCE} THEN days_absent ELSE 0 END)"

FEATURES = (
    Feature(
        name="students_enrolled",
        zh="在读学生人数",
        en="members enrolled in school",
        unit="persons",
        group="early_warning_school",
        window="as_of",
        sources=(EDU,),
        rows=STUDENTS,
        sql="COUNT(DISTINCT person_id)",
        dtype="int",
        direction=1,
        reason_zh="家庭中有 {value:d} 名在读学生",
        reason_en="{value:plural/member/members} enrolled in school",
        reason_zh_zero="家庭中无在读学生",
        reason_en_zero="no member enrolled in school",
        note="student numbers whose latest event is not `dropout` or `graduation`",
    ),
    Feature(
        name="school_absence_rate_3m",
        zh="近3个月缺勤率",
        en="school absence rate, 3m",
        unit="share",
        group="early_warning_school",
        window="3m",
        sources=(EDU,),
        rows=SCHOOL,
        sql=f"CASE WHEN {_DAYS} > 0 THEN CAST({_ABSENT} AS DOUBLE) / {_DAYS} ELSE 0.0 END",
        dtype="float",
        direction=1,
        reason_zh="近3个月在读子女缺勤率为 {value:.0%}",
        reason_en="children missed {value:.0%} of school days in the last 3 months",
        reason_zh_zero="近3个月在读子女无缺勤",
        reason_en_zero="children missed no school days in the last 3 months",
        note="sum of `days_absent` / sum of `school_days` of attendance records; 0 when none",
    ),
    Feature(
        name="school_dropout_12m",
        zh="近12个月辍学",
        en="school dropout in the last 12 months",
        unit="flag",
        group="early_warning_school",
        window="12m",
        sources=(EDU,),
        rows=SCHOOL,
        sql=flag("event = 'dropout' AND event_date > {start}"),
        dtype="bool",
        direction=1,
        reason_zh="近12个月有子女辍学",
        reason_en="a child dropped out of school in the last 12 months",
        reason_zh_false="近12个月无辍学",
        reason_en_false="no school dropout in the last 12 months",
    ),
    Feature(
        name="senior_students",
        zh="高中在读人数",
        en="members in senior secondary school",
        unit="persons",
        group="early_warning_school",
        window="as_of",
        sources=(EDU,),
        rows=STUDENTS,
        sql=distinct_persons("stage = 'senior'"),
        dtype="int",
        direction=1,
        reason_zh="家庭中有 {value:d} 名高中在读学生（学费等支出较高）",
        reason_en="{value:plural/member/members} in senior secondary school (higher school costs)",
        reason_zh_zero="家庭中无高中在读学生",
        reason_en_zero="no member in senior secondary school",
        note="students whose latest record is at the senior stage; schooling beyond compulsory "
        "education is a rigid expense (DOMAIN.md §1.4)",
    ),
)
