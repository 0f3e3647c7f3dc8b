"""Household structure: size, ages, dependency and deaths (the civil registry)."""

from __future__ import annotations

from features.vectors.catalogue.declaration import CIVIL, DEATHS, MEMBERS, Feature
from features.vectors.sql import count, distinct_persons

_CHILDREN, _ELDERLY = count("age < 18"), count("age >= 60")
_WORKING_AGE = count("age >= 18 AND age < 60")


def _members(**kw) -> Feature:
    """A state of the members on the as-of date (the civil registry's memberships)."""
    return Feature(group="structure", window="as_of", sources=(CIVIL,), rows=MEMBERS, **kw)


FEATURES = (
    _members(
        name="household_size",
        zh="家庭人口",
        en="household size",
        unit="persons",
        sql="COUNT(*)",
        dtype="int",
        direction=0,
        reason_zh="家庭共 {value:d} 人",
        reason_en="the household has {value:plural/member/members}",
        reason_zh_zero="家庭无在册成员",
        reason_en_zero="no registered member",
    ),
    _members(
        name="children",
        zh="未成年人数",
        en="children under 18",
        unit="persons",
        sql=_CHILDREN,
        dtype="int",
        direction=1,
        reason_zh="家庭中有 {value:d} 名未成年人",
        reason_en="{value:plural/child/children} under 18",
        reason_zh_zero="家庭中无未成年人",
        reason_en_zero="no child under 18",
    ),
    _members(
        name="elderly",
        zh="60岁以上老人数",
        en="members aged 60+",
        unit="persons",
        sql=_ELDERLY,
        dtype="int",
        direction=1,
        reason_zh="家庭中有 {value:d} 名60岁以上老人",
        reason_en="{value:plural/member/members} aged 60 or over",
        reason_zh_zero="家庭中无60岁以上老人",
        reason_en_zero="no member aged 60 or over",
    ),
    _members(
        name="working_age",
        zh="劳动年龄人数",
        en="members aged 18-59",
        unit="persons",
        sql=_WORKING_AGE,
        dtype="int",
        direction=-1,
        reason_zh="家庭中有 {value:d} 名18-59岁成员",
        reason_en="{value:plural/member/members} aged 18-59",
        reason_zh_zero="家庭中无18-59岁成员",
        reason_en_zero="no member aged 18-59",
    ),
    _members(
        name="dependency_ratio",
        zh="抚养比",
        en="dependency ratio",
        unit="ratio",
        sql=f"CAST({_CHILDREN} + {_ELDERLY} AS DOUBLE) / GREATEST({_WORKING_AGE}, 1)",
        dtype="float",
        direction=1,
        reason_zh="家庭抚养比为 {value:.1f}",
        reason_en="dependency ratio is {value:.1f}",
        reason_zh_zero="家庭中无需抚养的成员",
        reason_en_zero="no dependent member",
        note="(children + members 60+) / max(members 18-59, 1)",
    ),
    _members(
        name="elderly_living_alone",
        zh="独居老人",
        en="elderly person living alone",
        unit="flag",
        sql="CASE WHEN COUNT(*) = 1 AND COALESCE(MIN(age), 0) >= 60 THEN 1 ELSE 0 END",
        dtype="bool",
        direction=1,
        reason_zh="独居老人户（一人户且年满60岁）",
        reason_en="a single-person household aged 60 or over",
        reason_zh_false="非独居老人户",
        reason_en_false="not an elderly person living alone",
        note="household size 1 and that member aged 60+",
    ),
    _members(
        name="all_members_elderly",
        zh="全员60岁以上",
        en="all members aged 60+",
        unit="flag",
        sql=f"CASE WHEN {count('age IS NULL')} = 0 AND COALESCE(MIN(age), 0) >= 60 "
        "THEN 1 ELSE 0 END",
        dtype="bool",
        direction=1,
        reason_zh="家庭成员均为60岁以上老人",
        reason_en="every member is aged 60 or over",
        reason_zh_false="家庭中有60岁以下成员",
        reason_en_false="at least one member is under 60",
        note="every member of known age is 60+ and no age is unknown (includes couples)",
    ),
    _members(
        name="children_without_support",
        zh="未成年人无劳动年龄成员",
        en="children without a working-age member",
        unit="flag",
        sql=f"CASE WHEN {_CHILDREN} > 0 AND {_WORKING_AGE} = 0 THEN 1 ELSE 0 END",
        dtype="bool",
        direction=1,
        reason_zh="家庭有未成年人但无18-59岁成员",
        reason_en="children live without any member aged 18-59",
        reason_zh_false="家庭中未成年人有劳动年龄成员照料",
        reason_en_false="no children without a working-age member",
    ),
    Feature(
        name="member_deaths_12m",
        zh="近12个月成员死亡人数",
        en="member deaths, 12m",
        unit="persons",
        group="structure",
        window="12m",
        sources=(CIVIL,),
        rows=DEATHS,
        sql=distinct_persons("event_date > {start}"),
        dtype="int",
        direction=1,
        reason_zh="近12个月家庭有 {value:d} 名成员去世",
        reason_en="{value:plural/member/members} of the household died in the last 12 months",
        reason_zh_zero="近12个月无家庭成员去世",
        reason_en_zero="no member died in the last 12 months",
        note="`death` events of the household in the registry",
    ),
)
