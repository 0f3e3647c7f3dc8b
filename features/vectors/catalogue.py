"""The feature registry: every household feature, its meaning, sources, window and reason phrase.

One registry feeds the build (column names, order and types), the docs (``docs/features.md``,
rendered by :func:`render_markdown`), the reason phrases shown beside a score and the drift
report. Windows count back from the as-of date by calendar months: ``12m`` means an event date
``d`` with ``as_of - 12 months < d <= as_of``; a record counts only once it was recorded
(``recorded_date <= as_of``) and linked (``links.evidence_date <= as_of``).

Example:
    >>> reason("serious_illness_members_12m", 2, "en")
    '2 member(s) had claims for a serious illness in the last 12 months'
"""

from __future__ import annotations

from dataclasses import dataclass

FEATURE_SET_VERSION = "1.1"
"""Bumped whenever a feature is added, removed or changes meaning."""

GROUPS: dict[str, tuple[str, str]] = {
    "early_warning_illness": ("预警：重大疾病与住院", "Early warning: illness and admissions"),
    "early_warning_disability": ("预警：残疾", "Early warning: disability"),
    "early_warning_school": ("预警：就学", "Early warning: school"),
    "early_warning_unemployment": ("预警：失业", "Early warning: unemployment"),
    "income": ("收入估计与趋势", "Estimated income and trend"),
    "medical_burden": ("医疗负担", "Medical burden"),
    "structure": ("家庭结构", "Household structure"),
    "assets": ("财产", "Assets"),
    "assistance": ("救助与监测", "Assistance and monitoring"),
    "visits": ("走访", "Visits"),
    "arrears": ("水电燃气欠费", "Utility arrears"),
    "area_shock": ("乡镇冲击", "Township shocks"),
    "linkage": ("数据关联质量", "Linkage quality"),
}
"""Group name -> (Chinese title, English title), in documentation order."""

DTYPES = ("float", "int", "bool", "category")

KEYS: tuple[tuple[str, str, str], ...] = (
    ("household_id", "string", "Pseudonymous household key (HMAC of the registry household no.)."),
    ("as_of", "date", "The snapshot date: only what was recorded and linked by then is used."),
    ("township_code", "string", "First 9 digits of the head's village code."),
    ("village_code", "string", "The head's village code (else the members' most common one)."),
    ("head_sex", "string", "Sex of the head: M, F or unknown."),
    ("head_age_band", "string", "Age band of the head: <30, 30-44, 45-59, 60-74, 75+ or unknown."),
    ("hukou", "string", "urban (head's hukou local_urban) or rural (anything else)."),
)
"""Id and meta columns of a snapshot: not features, used for joins, lists and fairness."""


@dataclass(frozen=True)
class Feature:
    """One household feature.

    Attributes:
        name: column name in the snapshot.
        zh, en: short label in Chinese and English.
        unit: unit of the value (``CNY``, ``persons``, ``flag``...).
        sources: agencies (or warehouse tables) the feature reads.
        window: the look-back window (``12m``, ``3m``, ``as_of`` for a state on the date...).
        group: one of :data:`GROUPS`.
        reason_zh, reason_en: reason phrases, format strings with ``{value}``; for a bool
            feature, the phrase when the flag is true.
        dtype: ``float``, ``int``, ``bool`` or ``category``.
        direction: +1 when a higher value suggests more need, -1 less, 0 not one-way.
        reason_zh_false, reason_en_false: phrases when a bool feature is false.
        params: policy parameters the feature reads.
        nullable: whether a null is meaningful (otherwise the build never leaves one).
        note: how the value is computed, when the label does not say it all (docs only).
    """

    name: str
    zh: str
    en: str
    unit: str
    sources: tuple[str, ...]
    window: str
    group: str
    reason_zh: str
    reason_en: str
    dtype: str
    direction: int = 0
    reason_zh_false: str = ""
    reason_en_false: str = ""
    params: tuple[str, ...] = ()
    nullable: bool = False
    note: str = ""


MED, DIS, EDU, UNEMP = "medical_claims", "disability_registry", "education", "hr_unemployment"
CONTRIB, ASSIST, CIVIL = "hr_contributions", "civil_assistance", "civil_registry"
S, PENSION = "dibao.standard_monthly", "economy.resident_basic_pension_monthly"
INCOME_SOURCES = (CONTRIB, UNEMP, ASSIST, CIVIL)


def _f(*args, **kw) -> Feature:
    return Feature(*args, **kw)


def _flag(name, zh, en, sources, window, group, yes_zh, yes_en, no_zh, no_en, **kw) -> Feature:
    return Feature(
        name, zh, en, "flag", sources, window, group, yes_zh, yes_en, "bool",
        reason_zh_false=no_zh, reason_en_false=no_en, **kw,
    )  # fmt: skip


def _enrolled(program: str, zh: str, en: str) -> Feature:
    return _flag(
        f"enrolled_{program}", f"正在享受{zh}", f"currently enrolled in {en}", (ASSIST,), "as_of",
        "assistance", f"家庭成员正在享受{zh}", f"a member is currently enrolled in {en}",
        f"家庭未享受{zh}", f"no member is enrolled in {en}", direction=-1,
        note="an `enrolment_start` without a later `enrolment_end`, per case (dibao, tekun, "
        "temporary) or per case and person (medical assistance, disability subsidies)",
    )  # fmt: skip


FEATURES: tuple[Feature, ...] = (
    # ---- early warning: illness
    _flag(
        "serious_illness_12m",
        "近12个月有重大疾病",
        "serious illness in the last 12 months",
        (MED,),
        "12m",
        "early_warning_illness",
        "近12个月家庭成员有重大疾病就医记录",
        "a member had claims for a serious illness in the last 12 months",
        "近12个月无重大疾病就医记录",
        "no serious-illness claims in the last 12 months",
        direction=1,
    ),
    _f(
        "serious_illness_members_12m",
        "近12个月重大疾病人数",
        "members with serious illness, 12m",
        "persons",
        (MED,),
        "12m",
        "early_warning_illness",
        "近12个月有 {value:d} 名家庭成员因重大疾病就医",
        "{value:d} member(s) had claims for a serious illness in the last 12 months",
        "int",
        1,
    ),
    _f(
        "inpatient_admissions_12m",
        "近12个月住院次数",
        "inpatient admissions, 12m",
        "admissions",
        (MED,),
        "12m",
        "early_warning_illness",
        "近12个月家庭成员住院 {value:d} 次",
        "{value:d} inpatient admission(s) in the last 12 months",
        "int",
        1,
    ),
    _f(
        "months_since_serious_onset",
        "重大疾病首次就医距今月数",
        "months since the first serious-illness claim",
        "months",
        (MED,),
        "15m",
        "early_warning_illness",
        "{value:.0f} 个月前首次因重大疾病就医",
        "first claim for a serious illness {value:.0f} month(s) ago",
        "float",
        0,
        nullable=True,
        note="calendar months since the earliest serious-illness claim in the last 15 months; "
        "null when there is none (early months of an illness carry the most risk)",
    ),
    _f(
        "serious_oop_growth",
        "重大疾病自付费用增长倍数",
        "growth of serious-illness out-of-pocket costs",
        "ratio",
        (MED,),
        "15m",
        "early_warning_illness",
        "重大疾病最近一个月自付费用是首月的 {value:.1f} 倍",
        "serious-illness costs in the latest month are {value:.1f}x the first month's",
        "float",
        1,
        note="out-of-pocket on serious-illness claims in the latest claim month / in the first "
        "claim month, within 15 months; 0 when there are none",
    ),
    _f(
        "chronic_members_12m",
        "近12个月慢性病人数",
        "members with chronic-disease claims, 12m",
        "persons",
        (MED,),
        "12m",
        "early_warning_illness",
        "{value} 名家庭成员近12个月有慢性病就医记录",
        "{value} member(s) had chronic-disease claims in the last 12 months",
        "int",
        1,
    ),
    # ---- early warning: disability
    _f(
        "disabled_members",
        "持证残疾人数",
        "members with a disability certificate",
        "persons",
        (DIS,),
        "as_of",
        "early_warning_disability",
        "家庭中有 {value:d} 名持证残疾人",
        "{value:d} member(s) hold a valid disability certificate",
        "int",
        1,
        note="certificates whose latest event is `baseline` or `issued` (not `revoked`)",
    ),
    _f(
        "severe_disabled_members",
        "重度残疾人数",
        "members with severe disability (grade 1-2)",
        "persons",
        (DIS,),
        "as_of",
        "early_warning_disability",
        "家庭中有 {value:d} 名一、二级重度残疾人",
        "{value:d} member(s) hold a grade 1-2 (severe) disability certificate",
        "int",
        1,
    ),
    _flag(
        "disability_new_12m",
        "近12个月新办残疾证",
        "disability certificate issued in the last 12 months",
        (DIS,),
        "12m",
        "early_warning_disability",
        "近12个月有家庭成员新办残疾证",
        "a member received a disability certificate in the last 12 months",
        "近12个月无新办残疾证",
        "no new disability certificate in the last 12 months",
        direction=1,
    ),
    # ---- early warning: school
    _f(
        "students_enrolled",
        "在读学生人数",
        "members enrolled in school",
        "persons",
        (EDU,),
        "as_of",
        "early_warning_school",
        "家庭中有 {value:d} 名在读学生",
        "{value:d} member(s) enrolled in school",
        "int",
        1,
        note="student numbers whose latest event is not `dropout` or `graduation`",
    ),
    _f(
        "school_absence_rate_3m",
        "近3个月缺勤率",
        "school absence rate, 3m",
        "share",
        (EDU,),
        "3m",
        "early_warning_school",
        "近3个月在读子女缺勤率为 {value:.0%}",
        "children missed {value:.0%} of school days in the last 3 months",
        "float",
        1,
        note="sum of `days_absent` / sum of `school_days` of attendance records; 0 when none",
    ),
    _flag(
        "school_dropout_12m",
        "近12个月辍学",
        "school dropout in the last 12 months",
        (EDU,),
        "12m",
        "early_warning_school",
        "近12个月有子女辍学",
        "a child dropped out of school in the last 12 months",
        "近12个月无辍学",
        "no school dropout in the last 12 months",
        direction=1,
    ),
    _f(
        "senior_students",
        "高中在读人数",
        "members in senior secondary school",
        "persons",
        (EDU,),
        "as_of",
        "early_warning_school",
        "{value} 名家庭成员在读高中（学费等支出较高）",
        "{value} member(s) in senior secondary school (higher school costs)",
        "int",
        1,
        note="students whose latest record is at the senior stage; schooling beyond compulsory "
        "education is a rigid expense (DOMAIN.md §1.4)",
    ),
    # ---- early warning: unemployment
    _f(
        "unemployed_members",
        "登记失业人数",
        "members registered unemployed",
        "persons",
        (UNEMP,),
        "as_of",
        "early_warning_unemployment",
        "家庭中有 {value:d} 人处于失业登记状态",
        "{value:d} member(s) currently registered unemployed",
        "int",
        1,
        note="registrations whose latest event is `baseline` or `registration`",
    ),
    _flag(
        "unemployment_new_3m",
        "近3个月新增失业登记",
        "new unemployment registration in the last 3 months",
        (UNEMP,),
        "3m",
        "early_warning_unemployment",
        "近3个月有家庭成员新办失业登记",
        "a member registered as unemployed in the last 3 months",
        "近3个月无新增失业登记",
        "no new unemployment registration in the last 3 months",
        direction=1,
    ),
    _f(
        "unemployment_benefit_3m",
        "近3个月失业保险金",
        "unemployment benefit paid, 3m",
        "CNY",
        (UNEMP,),
        "3m",
        "early_warning_unemployment",
        "近3个月领取失业保险金 {value:,.0f} 元",
        "CNY {value:,.0f} unemployment benefit paid in the last 3 months",
        "float",
        1,
    ),
    # ---- income
    _f(
        "income_monthly_est",
        "估计月收入",
        "estimated monthly household income",
        "CNY/month",
        INCOME_SOURCES,
        "1m",
        "income",
        "估计家庭月收入为 {value:,.0f} 元",
        "estimated household income is CNY {value:,.0f} a month",
        "float",
        -1,
        params=(PENSION,),
        note="contribution bases of the household's latest contribution month within 3 months + "
        "unemployment benefit of the last month + assistance payments of the last month + "
        "resident basic pension x members aged 60+",
    ),
    _f(
        "income_per_capita_monthly",
        "估计人均月收入",
        "estimated monthly income per person",
        "CNY/person/month",
        INCOME_SOURCES,
        "1m",
        "income",
        "估计人均月收入为 {value:,.0f} 元",
        "estimated income is CNY {value:,.0f} per person a month",
        "float",
        -1,
        params=(PENSION,),
    ),
    _f(
        "income_to_dibao_ratio",
        "人均收入与低保标准之比",
        "income per person / dibao standard",
        "ratio",
        INCOME_SOURCES,
        "1m",
        "income",
        "估计人均收入为当地低保标准的 {value:.2f} 倍",
        "estimated income per person is {value:.2f}x the local dibao standard",
        "float",
        -1,
        params=(PENSION, S),
    ),
    _f(
        "contributors_now",
        "近3个月缴纳社保人数",
        "members paying social insurance, 3m",
        "persons",
        (CONTRIB,),
        "3m",
        "income",
        "近3个月有 {value:d} 名家庭成员缴纳社保",
        "{value:d} member(s) paid social-insurance contributions in the last 3 months",
        "int",
        -1,
    ),
    _f(
        "contributors_change_6m",
        "缴纳社保人数变化",
        "change in members paying social insurance over 6 months",
        "persons",
        (CONTRIB,),
        "9m",
        "income",
        "缴纳社保人数较6个月前变化 {value:+d} 人",
        "members paying contributions changed by {value:+d} against 6 months earlier",
        "int",
        -1,
        note="contributors in the last 3 months minus contributors in the 3 months ending 6 "
        "months before as-of (current members only)",
    ),
    _f(
        "income_change_ratio_6m",
        "收入6个月变化率",
        "income change over 6 months",
        "ratio",
        INCOME_SOURCES,
        "9m",
        "income",
        "估计收入较6个月前变化 {value:+.0%}",
        "estimated income changed by {value:+.0%} against 6 months earlier",
        "float",
        -1,
        params=(PENSION, S),
        note="(income now - income 6 months earlier) / max(income 6 months earlier, S); the "
        "earlier income uses the same formula on the windows 6 months back, for current members",
    ),
    _f(
        "contributors_lost_12m",
        "近12个月停缴社保人数",
        "members who stopped paying social insurance, 12m",
        "persons",
        (CONTRIB,),
        "12m",
        "income",
        "{value} 名家庭成员近12个月停缴社保",
        "{value} member(s) stopped paying social insurance in the last 12 months",
        "int",
        1,
        note="the most members paying in any month of the last 12 minus those paying in the "
        "last 3 months (never negative)",
    ),
    _f(
        "income_before_assistance_ratio",
        "救助前人均收入与低保标准之比",
        "income per person before assistance / dibao standard",
        "ratio",
        INCOME_SOURCES,
        "3m",
        "income",
        "救助前人均月收入为低保标准的 {value:.2f} 倍",
        "income per person before assistance is {value:.2f}x the dibao standard",
        "float",
        -1,
        params=(S, PENSION),
        note="the income estimate less assistance paid in the last month, per person, over the "
        "standard on the as-of date: the means test counts income before assistance",
    ),
    _f(
        "income_after_medical_ratio",
        "扣除重大疾病自付费用后人均收入与低保标准之比",
        "income per person after serious-illness costs / dibao standard",
        "ratio",
        INCOME_SOURCES + (MED,),
        "3m",
        "income",
        "扣除重大疾病自付费用后人均月收入为低保标准的 {value:.2f} 倍",
        "after serious-illness costs, income per person is {value:.2f}x the dibao standard",
        "float",
        -1,
        params=(S, PENSION),
        note="as `income_before_assistance_ratio`, less the last month's out-of-pocket on "
        "serious-illness claims: the rigid-expenditure comparison of DOMAIN.md §1.4",
    ),
    # ---- medical burden
    _f(
        "medical_oop_12m",
        "近12个月自付医疗费用",
        "out-of-pocket medical spending, 12m",
        "CNY",
        (MED,),
        "12m",
        "medical_burden",
        "近12个月自付医疗费用 {value:,.0f} 元",
        "CNY {value:,.0f} out-of-pocket medical spending in the last 12 months",
        "float",
        1,
    ),
    _f(
        "medical_oop_to_income_12m",
        "自付医疗费用与收入之比",
        "out-of-pocket medical spending / income, 12m",
        "ratio",
        INCOME_SOURCES + (MED,),
        "12m",
        "medical_burden",
        "近12个月自付医疗费用为家庭收入的 {value:.1f} 倍",
        "out-of-pocket medical spending over the last 12 months is {value:.1f}x household income",
        "float",
        1,
        params=(PENSION, S),
        note="OOP 12m / (12 x max(estimated monthly income, S x household size)): income is "
        "floored at the dibao line of the household, so no division by zero",
    ),
    _f(
        "serious_oop_1m",
        "上月重大疾病自付费用",
        "serious-illness out-of-pocket spending, last month",
        "CNY",
        (MED,),
        "1m",
        "medical_burden",
        "上月重大疾病自付费用 {value:,.0f} 元",
        "CNY {value:,.0f} out-of-pocket for a serious illness last month",
        "float",
        1,
    ),
    # ---- structure
    _f(
        "household_size",
        "家庭人口",
        "household size",
        "persons",
        (CIVIL,),
        "as_of",
        "structure",
        "家庭共 {value:d} 人",
        "the household has {value:d} member(s)",
        "int",
        0,
    ),
    _f(
        "children",
        "未成年人数",
        "children under 18",
        "persons",
        (CIVIL,),
        "as_of",
        "structure",
        "家庭中有 {value:d} 名未成年人",
        "{value:d} child(ren) under 18",
        "int",
        1,
    ),
    _f(
        "elderly",
        "60岁以上老人数",
        "members aged 60+",
        "persons",
        (CIVIL,),
        "as_of",
        "structure",
        "家庭中有 {value:d} 名60岁以上老人",
        "{value:d} member(s) aged 60 or over",
        "int",
        1,
    ),
    _f(
        "working_age",
        "劳动年龄人数",
        "members aged 18-59",
        "persons",
        (CIVIL,),
        "as_of",
        "structure",
        "家庭中有 {value:d} 名18-59岁成员",
        "{value:d} member(s) aged 18-59",
        "int",
        -1,
    ),
    _f(
        "dependency_ratio",
        "抚养比",
        "dependency ratio",
        "ratio",
        (CIVIL,),
        "as_of",
        "structure",
        "家庭抚养比为 {value:.1f}",
        "dependency ratio is {value:.1f}",
        "float",
        1,
        note="(children + members 60+) / max(members 18-59, 1)",
    ),
    _flag(
        "elderly_living_alone",
        "独居老人",
        "elderly person living alone",
        (CIVIL,),
        "as_of",
        "structure",
        "独居老人户（一人户且年满60岁）",
        "a single-person household aged 60 or over",
        "非独居老人户",
        "not an elderly person living alone",
        direction=1,
        note="household size 1 and that member aged 60+",
    ),
    _flag(
        "all_members_elderly",
        "全员60岁以上",
        "all members aged 60+",
        (CIVIL,),
        "as_of",
        "structure",
        "家庭成员均为60岁以上老人",
        "every member is aged 60 or over",
        "家庭中有60岁以下成员",
        "at least one member is under 60",
        direction=1,
        note="every member of known age is 60+ and no age is unknown (includes couples)",
    ),
    _flag(
        "children_without_support",
        "未成年人无劳动年龄成员",
        "children without a working-age member",
        (CIVIL,),
        "as_of",
        "structure",
        "家庭有未成年人但无18-59岁成员",
        "children live without any member aged 18-59",
        "家庭中未成年人有劳动年龄成员照料",
        "no children without a working-age member",
        direction=1,
    ),
    _f(
        "member_deaths_12m",
        "近12个月成员死亡人数",
        "member deaths, 12m",
        "persons",
        (CIVIL,),
        "12m",
        "structure",
        "近12个月家庭有 {value:d} 名成员去世",
        "{value:d} member(s) of the household died in the last 12 months",
        "int",
        1,
        note="`death` events of the household in the registry",
    ),
    # ---- assets
    _f(
        "vehicles",
        "机动车数",
        "registered vehicles",
        "vehicles",
        ("vehicle_registry",),
        "as_of",
        "assets",
        "家庭名下有 {value:d} 辆机动车",
        "{value:d} vehicle(s) registered to members",
        "int",
        -1,
        note="plates whose latest event is `baseline` or `registered`",
    ),
    _f(
        "vehicle_value",
        "机动车购置价值",
        "purchase value of vehicles",
        "CNY",
        ("vehicle_registry",),
        "as_of",
        "assets",
        "名下机动车购置价值合计 {value:,.0f} 元",
        "vehicles bought for CNY {value:,.0f} in total",
        "float",
        -1,
    ),
    _f(
        "properties",
        "不动产数",
        "registered properties",
        "properties",
        ("property_registry",),
        "as_of",
        "assets",
        "家庭名下有 {value:d} 处不动产",
        "{value:d} propert(ies) registered to members",
        "int",
        -1,
        note="certificates whose latest event is `baseline` or `registered` (not `transferred`)",
    ),
    _f(
        "residential_area_m2",
        "住宅面积",
        "residential floor area",
        "m²",
        ("property_registry",),
        "as_of",
        "assets",
        "名下住宅面积合计 {value:.0f} 平方米",
        "{value:.0f} m² of residential property",
        "float",
        -1,
    ),
    _f(
        "businesses",
        "市场主体数",
        "registered businesses",
        "businesses",
        ("business_registry",),
        "as_of",
        "assets",
        "家庭成员登记有 {value:d} 个市场主体",
        "{value:d} business(es) registered to members",
        "int",
        -1,
        note="credit codes whose latest event is `baseline` or `registered`",
    ),
    # ---- assistance
    _enrolled("dibao", "低保", "dibao"),
    _enrolled("tekun", "特困供养", "tekun support"),
    _enrolled("medical_assistance", "医疗救助", "medical assistance"),
    _enrolled("temporary", "临时救助", "temporary assistance"),
    _enrolled("disability_living_subsidy", "困难残疾人生活补贴", "the disability living subsidy"),
    _enrolled("disability_care_subsidy", "重度残疾人护理补贴", "the severe-disability care aid"),
    _flag(
        "temporary_assistance_12m",
        "近12个月获临时救助",
        "temporary assistance in the last 12 months",
        (ASSIST,),
        "12m",
        "assistance",
        "近12个月获得过临时救助",
        "received temporary assistance in the last 12 months",
        "近12个月未获临时救助",
        "no temporary assistance in the last 12 months",
        direction=1,
        note="an approval or payment of temporary assistance",
    ),
    _f(
        "assistance_applications_12m",
        "近12个月救助申请次数",
        "assistance applications, 12m",
        "applications",
        (ASSIST,),
        "12m",
        "assistance",
        "近12个月提出救助申请 {value:d} 次",
        "{value:d} assistance application(s) in the last 12 months",
        "int",
        1,
    ),
    _f(
        "assistance_rejections_12m",
        "近12个月救助被拒次数",
        "assistance rejections, 12m",
        "rejections",
        (ASSIST,),
        "12m",
        "assistance",
        "近12个月救助申请被拒 {value:d} 次",
        "{value:d} assistance application(s) rejected in the last 12 months",
        "int",
        1,
    ),
    _f(
        "months_since_enrolment_end",
        "距上次退出救助月数",
        "months since an enrolment ended",
        "months",
        (ASSIST,),
        "ever",
        "assistance",
        "{value:.0f} 个月前退出救助",
        "left an assistance program {value:.0f} month(s) ago",
        "float",
        -1,
        nullable=True,
        note="calendar months since the latest `enrolment_end` of any program; null if none "
        "(a float so that the null survives pandas and model signatures)",
    ),
    _flag(
        "rural_monitored",
        "防返贫监测户",
        "on the rural monitoring list",
        ("rural_monitoring",),
        "as_of",
        "assistance",
        "家庭在防返贫监测名单中",
        "the household is on the rural monitoring list",
        "家庭不在防返贫监测名单中",
        "not on the rural monitoring list",
        direction=1,
        note="latest `monitored` event of the members is `baseline` or `added`",
    ),
    _flag(
        "rural_relocated",
        "易地搬迁户",
        "relocated household",
        ("rural_monitoring",),
        "as_of",
        "assistance",
        "家庭为易地扶贫搬迁户",
        "the household was relocated out of a poor area",
        "非易地搬迁户",
        "not a relocated household",
        direction=1,
    ),
    # ---- visits
    _f(
        "visits_12m",
        "近12个月走访次数",
        "visits, 12m",
        "visits",
        ("visits",),
        "12m",
        "visits",
        "近12个月被走访 {value:d} 次",
        "visited {value:d} time(s) in the last 12 months",
        "int",
        0,
    ),
    _flag(
        "visit_in_need_6m",
        "近6个月走访认定困难",
        "last visit within 6 months found need",
        ("visits",),
        "6m",
        "visits",
        "近6个月最近一次走访认定家庭有困难",
        "the last visit, within 6 months, found the household in need",
        "近6个月最近一次走访未认定困难",
        "no visit within 6 months ended with in need",
        direction=1,
    ),
    _flag(
        "visit_not_in_need_6m",
        "近6个月走访认定无困难",
        "last visit within 6 months found no need",
        ("visits",),
        "6m",
        "visits",
        "近6个月最近一次走访认定无困难",
        "the last visit, within 6 months, found no need",
        "近6个月无认定无困难的走访",
        "no visit within 6 months ended with not in need",
        direction=-1,
    ),
    _f(
        "months_since_last_visit",
        "距上次走访月数",
        "months since the last visit",
        "months",
        ("visits",),
        "ever",
        "visits",
        "{value:.0f} 个月前被走访",
        "last visited {value:.0f} month(s) ago",
        "float",
        0,
        nullable=True,
        note="calendar months; null if never visited (a float so that the null survives)",
    ),
    # ---- arrears
    _f(
        "utility_arrears_months_3m",
        "近3个月最长欠费月数",
        "longest utility arrears, 3m",
        "months",
        ("utility_arrears",),
        "3m",
        "arrears",
        "水电燃气欠费已达 {value:d} 个月",
        "utility bills {value:d} month(s) in arrears",
        "int",
        1,
        note="max `months_in_arrears` of the last 3 months; 0 when none",
    ),
    _f(
        "utility_arrears_amount_3m",
        "近3个月最高欠费金额",
        "largest utility amount due, 3m",
        "CNY",
        ("utility_arrears",),
        "3m",
        "arrears",
        "水电燃气欠费 {value:,.0f} 元",
        "CNY {value:,.0f} of utility bills due",
        "float",
        1,
    ),
    _f(
        "utility_arrears_episodes_12m",
        "近12个月欠费月份数",
        "months with utility arrears, 12m",
        "months",
        ("utility_arrears",),
        "12m",
        "arrears",
        "近12个月有 {value} 个月水电燃气欠费",
        "utility arrears in {value} of the last 12 months",
        "int",
        1,
    ),
    _f(
        "months_since_arrears",
        "距上次欠费月数",
        "months since the last utility arrears",
        "months",
        ("utility_arrears",),
        "12m",
        "arrears",
        "{value:.0f} 个月前有水电燃气欠费",
        "utility arrears {value:.0f} month(s) ago",
        "float",
        -1,
        nullable=True,
        note="calendar months since the latest arrears notice in the last 12 months; null when "
        "there is none",
    ),
    # ---- area shocks
    _f(
        "area_unemployment_shock",
        "乡镇失业登记激增倍数",
        "township unemployment registrations vs usual",
        "ratio",
        (UNEMP,),
        "15m",
        "area_shock",
        "所在乡镇近3个月新增失业登记为平时的 {value:.1f} 倍",
        "new unemployment registrations in the township are {value:.1f}x the usual rate",
        "float",
        1,
        note="(n_3m + 1/4) / 3 over (n_prev12 + 1) / 12, where n_3m counts new registrations "
        "in the last 3 months and n_prev12 in the 12 months before, over the township's current "
        "households; a quiet township reads 1.0",
    ),
    _f(
        "area_admissions_shock",
        "乡镇住院激增倍数",
        "township inpatient admissions vs usual",
        "ratio",
        (MED,),
        "15m",
        "area_shock",
        "所在乡镇近3个月住院人次为平时的 {value:.1f} 倍",
        "inpatient admissions in the township are {value:.1f}x the usual rate",
        "float",
        1,
        note="as `area_unemployment_shock`, with inpatient claims",
    ),
    # ---- linkage
    _f(
        "min_link_probability",
        "最低关联概率",
        "lowest link probability",
        "probability",
        ("links", "memberships"),
        "as_of",
        "linkage",
        "家庭数据最低关联概率为 {value:.2f}",
        "the weakest record link of the household has probability {value:.2f}",
        "float",
        0,
        note="minimum over the members' membership links and every record link known by as-of; "
        "1.0 when all links are by ID",
    ),
    _flag(
        "low_confidence_link",
        "存在低置信度关联",
        "low-confidence link",
        ("links",),
        "as_of",
        "linkage",
        "家庭部分记录关联置信度较低，需人工核实",
        "some records are linked to the household with low confidence: check by hand",
        "家庭记录关联可靠",
        "all records are linked with high confidence",
        note="`min_link_probability` below `features.linkage.LOW_CONFIDENCE` (0.99)",
    ),
)

_BY_NAME = {f.name: f for f in FEATURES}


def feature(name: str) -> Feature:
    """The feature called ``name``.

    Raises:
        KeyError: no such feature.
    """
    return _BY_NAME[name]


def feature_names() -> list[str]:
    """Every feature name, in registry (and snapshot column) order."""
    return [f.name for f in FEATURES]


def reason(name: str, value: object, lang: str = "zh") -> str:
    """The reason phrase of a feature at a value, in ``zh`` or ``en``.

    Bool features use their true or false phrase; a missing value says so.

    Example:
        >>> reason("elderly_living_alone", True, "zh")
        '独居老人户（一人户且年满60岁）'
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"unknown language {lang!r} (zh or en)")
    f = feature(name)
    zh = lang == "zh"
    if value is None or (isinstance(value, float) and value != value):
        return f"{f.zh}：无记录" if zh else f"{f.en}: no record"
    if f.dtype == "bool":
        if bool(value):
            return f.reason_zh if zh else f.reason_en
        return f.reason_zh_false if zh else f.reason_en_false
    if f.dtype == "int":
        value = int(value)  # type: ignore[call-overload]
    elif f.dtype == "float":
        value = float(value)  # type: ignore[arg-type]
    return (f.reason_zh if zh else f.reason_en).format(value=value)


def registry_json() -> list[dict]:
    """The registry as plain data (stored in every snapshot's Parquet metadata)."""
    return [
        {
            "name": f.name,
            "dtype": f.dtype,
            "unit": f.unit,
            "group": f.group,
            "window": f.window,
            "sources": list(f.sources),
            "nullable": f.nullable,
        }
        for f in FEATURES
    ]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown() -> str:
    """Render the registry as Markdown (the product behind ``docs/features.md``)."""
    out = [
        "# Household features",
        "",
        "<!-- generated by features.vectors.catalogue.render_markdown(); do not edit by hand -->",
        "",
        f"Feature set version: **{FEATURE_SET_VERSION}**. One row per household with at least "
        "one member on the as-of date, written to `snapshots/<YYYY-MM-DD>/features.parquet` "
        "(Parquet metadata: `snapshot_id`, `feature_set_version`, `as_of`, `delivery_ids`, "
        "`registry`). Build with `outreach features --as-of DATE` (repeatable) or "
        "`--from DATE --to DATE` (monthly); the build report (households, deliveries used, "
        "null share and mean of every feature) goes to `reports/features/latest.json`.",
        "",
        "## Point in time",
        "",
        "- A record counts only when `recorded_date <= as_of` and `event_date <= as_of`, and its "
        "link to a person is known (`links.evidence_date <= as_of`); otherwise it is ignored.",
        "- Records reach a household through their person's membership on the as-of date (the "
        "person's latest `memberships` row with event and evidence dates on or before it; "
        "`death` and `move_out` mean no household). Records of people in no household are "
        "ignored; a person's past records follow them to their current household.",
        "- Windows count back by calendar months: `12m` means `as_of - 12 months < event_date "
        "<= as_of`; `1m` is the last month; `9m`/`15m` name the longest window a trend or a "
        "baseline reads; `as_of` is a state on the date from the whole history; `ever` looks "
        "back without limit.",
        "- Registers (certificates, plates, properties, businesses, unemployment registrations, "
        "student numbers, assistance cases) take the latest event per number (ordered by event "
        "date, recorded date, record id) and follow the person of that latest record.",
        "- Counts are 0 and flags false when there is no record; only the features marked "
        "nullable can be null.",
        "- Parameters are read on the as-of date (`dibao.standard_monthly` is S).",
        "",
        "## Keys",
        "",
        "Not features: identify the household and describe it for lists and fairness reports.",
        "",
        "| column | type | meaning |",
        "| --- | --- | --- |",
    ]
    out += [f"| `{n}` | {t} | {_cell(d)} |" for n, t, d in KEYS]
    out.append("")
    for group, (gzh, gen) in GROUPS.items():
        feats = [f for f in FEATURES if f.group == group]
        out += [
            f"## {gen} — {gzh}",
            "",
            "| name | 中文 | English | type | unit | sources | window | notes |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for f in feats:
            notes = f.note
            if f.params:
                notes += (
                    ("; " if notes else "") + "params: " + ", ".join(f"`{p}`" for p in f.params)
                )
            if f.nullable:
                notes += ("; " if notes else "") + "nullable"
            out.append(
                f"| `{f.name}` | {_cell(f.zh)} | {_cell(f.en)} | {f.dtype} | {_cell(f.unit)} | "
                f"{', '.join(f'`{s}`' for s in f.sources)} | {f.window} | {_cell(notes)} |"
            )
        out.append("")
    out += [
        "## Reason phrases",
        "",
        "Every feature has a Chinese and an English reason phrase"
        " (`features.vectors.catalogue.reason`); flags have one for true and one for false.",
        "",
        "| name | 中文 | English |",
        "| --- | --- | --- |",
    ]
    for f in FEATURES:
        out.append(f"| `{f.name}` | {_cell(f.reason_zh)} | {_cell(f.reason_en)} |")
    out.append("")
    return "\n".join(out)
