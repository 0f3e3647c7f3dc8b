"""The shape of a feature declaration, and the names it refers to.

A :class:`Feature` says everything about one household feature in one place: its texts, unit,
group, reason phrases, the agencies it needs, its look-back window and its SQL. The SQL is an
aggregate over the rows of one shared row source (:data:`ROW_SOURCES`, assembled per as-of date
by :mod:`features.vectors.sources`), or, for :data:`DERIVED` features, an expression over other
features and the household income estimate. It is a template: ``{start}`` is the first date
outside the feature's window (``as_of - window``), so the window the docs show is the window
the SQL reads.

Example:
    >>> f = Feature(name="x_3m", zh="示例", en="example", unit="persons", group="structure",
    ...     window="3m", sources=("visits",), rows=VISITS, sql="COUNT(*)", dtype="int",
    ...     reason_zh="{value:d} 次", reason_en="{value:d} visit(s)")
    >>> f.months
    3
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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

# Agencies and warehouse tables a feature may need (``Feature.sources``).
MED, DIS, EDU, UNEMP = "medical_claims", "disability_registry", "education", "hr_unemployment"
CONTRIB, ASSIST, CIVIL = "hr_contributions", "civil_assistance", "civil_registry"
INCOME_SOURCES = (CONTRIB, UNEMP, ASSIST, CIVIL)

# Policy parameters a feature may read (``Feature.params``).
STANDARD, PENSION = "dibao.standard_monthly", "economy.resident_basic_pension_monthly"

# Row sources (``Feature.rows``): the visible rows a feature's SQL aggregates, per household.
MEMBERS = "members"  # the household's members on the as-of date (age, birth_date, relation...)
DEATHS = "deaths"  # recorded `death` events of the household's members
CLAIMS = "medical_claims"  # medical claims of the last 15 months
SERIOUS = "serious_claims"  # serious-illness claims of the last 15 months, with month indexes
CERTIFICATES = "disability_certificates"  # valid disability certificates (latest event)
STUDENTS = "students"  # enrolled students (latest event per student number)
SCHOOL = "school_records"  # education records of the last 12 months
REGISTRATIONS = "unemployment_registrations"  # open unemployment registrations
UNEMPLOYMENT = "unemployment_records"  # unemployment records of the last 15 months
CONTRIBUTIONS = "contributions"  # contribution records of the last 12 months, with the peak
CASES = "assistance_cases"  # latest enrolment event per assistance case
ASSISTANCE = "assistance_records"  # every assistance record
RURAL = "rural_lists"  # the latest event per rural monitoring list
VISITS = "visits"  # every visit, `rn` = 1 on the latest
ARREARS = "utility_arrears"  # arrears notices of the last 12 months
VEHICLES = "vehicles"  # registered vehicles (latest event per plate)
PROPERTIES = "properties"  # registered properties (latest event per certificate)
BUSINESSES = "businesses"  # registered businesses (latest event per credit code)
LINKS = "link_probabilities"  # every record and membership link probability of the household
TOWNSHIP = "township_rates"  # the household's township rates
DERIVED = "derived"
"""Not a row source: the SQL is an expression over other features' values and the income
estimate (``inc_now``, ``inc_6m``, ``inc_pre``), with ``{standard}`` and ``{low_confidence}``."""

ROW_SOURCES = (
    MEMBERS, DEATHS, CLAIMS, SERIOUS, CERTIFICATES, STUDENTS, SCHOOL, REGISTRATIONS,
    UNEMPLOYMENT, CONTRIBUTIONS, CASES, ASSISTANCE, RURAL, VISITS, ARREARS, VEHICLES,
    PROPERTIES, BUSINESSES, LINKS, TOWNSHIP,
)  # fmt: skip

_WINDOW = re.compile(r"^(?:(\d+)m|as_of|ever)$")


@dataclass(frozen=True, kw_only=True)
class Feature:
    """One household feature, declared once.

    Attributes:
        name: column name in the snapshot.
        zh, en: short label in Chinese and English.
        unit: unit of the value (``CNY``, ``persons``, ``flag``...).
        group: one of :data:`GROUPS`.
        window: the look-back window: ``<n>m`` (event dates after ``as_of - n months``), ``as_of``
            (a state on the date from the whole history) or ``ever`` (no limit).
        sources: agencies (or warehouse tables) the feature needs.
        rows: the row source its SQL aggregates (:data:`ROW_SOURCES`) or :data:`DERIVED`.
        sql: the SQL template: an aggregate over ``rows`` per household (a 0/1 flag for a bool
            feature), or for :data:`DERIVED` the value itself. ``{start}`` is the window's first
            excluded date, ``{ago[n]}`` the date ``n`` months before as-of, ``{as_of}`` the
            as-of date and ``{as_of_month}`` its month index.
        dtype: ``float``, ``int``, ``bool`` or ``category``.
        reason_zh, reason_en: reason phrases, format strings with ``{value}`` and the
            value-aware specs of :mod:`.phrases` (``{value:ago}``, ``{value:yuan}``,
            ``{value:plural/member/members}``...); for a bool feature, the phrase when the flag
            is true.
        direction: +1 when a higher value suggests more need, -1 less, 0 not one-way.
        reason_zh_false, reason_en_false: phrases when a bool feature is false.
        reason_zh_zero, reason_en_zero: phrases when a count or amount is nothing (0).
        reason_zh_none, reason_en_none: phrases when a nullable feature has no value (else
            "<label>: no record").
        context: the phrase only describes history (a past visit): shown as context beside
            a score, never as a cause.
        params: policy parameters the feature reads.
        nullable: whether a null is meaningful (otherwise the build never leaves one).
        fill: the value of a household without rows (not for nullable features).
        note: how the value is computed, when the label does not say it all (docs only).
    """

    name: str
    zh: str
    en: str
    unit: str
    group: str
    window: str
    sources: tuple[str, ...]
    rows: str
    sql: str
    dtype: str
    reason_zh: str
    reason_en: str
    direction: int = 0
    reason_zh_false: str = ""
    reason_en_false: str = ""
    reason_zh_zero: str = ""
    reason_en_zero: str = ""
    reason_zh_none: str = ""
    reason_en_none: str = ""
    context: bool = False
    params: tuple[str, ...] = ()
    nullable: bool = False
    fill: float = 0
    note: str = ""

    def __post_init__(self) -> None:
        if not _WINDOW.match(self.window):
            raise ValueError(f"{self.name}: window {self.window!r} is not <n>m, as_of or ever")
        if self.rows not in ROW_SOURCES and self.rows != DERIVED:
            raise ValueError(f"{self.name}: unknown row source {self.rows!r}")

    @property
    def months(self) -> int | None:
        """The window in calendar months (None for ``as_of`` and ``ever``)."""
        found = _WINDOW.match(self.window)
        return int(found.group(1)) if found and found.group(1) else None

    def render_sql(self, context: Mapping[str, object]) -> str:
        """The SQL with the window and the as-of values filled in.

        Args:
            context: ``ago`` (months back -> date literal), ``as_of``, ``as_of_month`` and, for
                derived features, ``standard`` and ``low_confidence``.
        """
        values = dict(context)
        if self.months is not None:
            values["start"] = values["ago"][self.months]  # type: ignore[index]
        return self.sql.format_map(values)
