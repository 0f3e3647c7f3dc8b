"""Point-in-time household vectors, built in DuckDB SQL from the warehouse.

:func:`build_snapshot` returns one row per household with at least one member on the as-of
date: the key columns of :data:`features.vectors.catalogue.KEYS` then every feature of
:data:`features.vectors.catalogue.FEATURES`, in that order, sorted by ``household_id``.
What a feature
means is documented in the registry (``docs/features.md``); how the point-in-time rule is
enforced is here:

- every agency row is read through :meth:`_Query.linked`, which keeps only rows recorded and
  happened by ``as_of`` whose link to a person is known by then (``links.evidence_date``);
- rows reach households through :func:`features.households.membership_as_of`;
- registers take the latest event per number among those rows (:meth:`_Query.latest`).

The SQL is plain (window functions, CASE, standard date literals, no DuckDB-only syntax) so the
same statements can run on another engine; each intermediate is a temp table dropped at the end.

Example:
    >>> params = load_parameters(policies.PARAMS_DIR)  # doctest: +SKIP
    >>> table = build_snapshot(con, date(2024, 6, 30), params)  # doctest: +SKIP
    >>> write_snapshot(table, Path("data/snapshots"), date(2024, 6, 30), ids)  # doctest: +SKIP
"""

from __future__ import annotations

import calendar
import hashlib
import json
import os
import uuid
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from features.households import date_literal, membership_as_of
from features.linkage import LOW_CONFIDENCE
from features.vectors.catalogue import FEATURE_SET_VERSION, FEATURES, KEYS, registry_json
from features.warehouse import record_table
from policies.parameters import ParameterSet

# A household whose weakest link is below linkage.LOW_CONFIDENCE is flagged low_confidence_link.
HOUSEHOLD_PROGRAMS = ("dibao", "tekun", "temporary")
"""Programs whose case belongs to the household: enrolment state per case number."""
PERSON_PROGRAMS = ("medical_assistance", "disability_living_subsidy", "disability_care_subsidy")
"""Programs held by a person: enrolment state per case number and person."""
STANDARD = "dibao.standard_monthly"
PENSION = "economy.resident_basic_pension_monthly"

_ARROW = {"float": pa.float64(), "int": pa.int32(), "bool": pa.bool_(), "category": pa.string()}
_KEY_ARROW = {"string": pa.string(), "date": pa.date32()}


def snapshot_schema() -> pa.Schema:
    """The Arrow schema of a snapshot: keys, then features in registry order."""
    fields = [pa.field(n, _KEY_ARROW[t], nullable=n != "household_id") for n, t, _ in KEYS]
    fields += [pa.field(f.name, _ARROW[f.dtype], nullable=f.nullable) for f in FEATURES]
    return pa.schema(fields)


def months_before(day: date, n: int) -> date:
    """The same day ``n`` calendar months earlier, clamped to the month's end."""
    y, m = divmod(day.year * 12 + day.month - 1 - n, 12)
    return date(y, m + 1, min(day.day, calendar.monthrange(y, m + 1)[1]))


def _years_before(day: date, n: int) -> date:
    return months_before(day, 12 * n)


def _month_index(col: str) -> str:
    return f"(EXTRACT(YEAR FROM {col}) * 12 + EXTRACT(MONTH FROM {col}))"


def _flag(expr: str) -> str:
    return f"MAX(CASE WHEN {expr} THEN 1 ELSE 0 END)"


def _count(expr: str) -> str:
    return f"SUM(CASE WHEN {expr} THEN 1 ELSE 0 END)"


def _sum(col: str, expr: str) -> str:
    """A sum of amounts in exact decimal (cents): the same result whatever order parallel
    aggregation adds the rows in (float sums are not associative)."""
    return f"SUM(CASE WHEN {expr} THEN {_cents(f'COALESCE({col}, 0)')} ELSE 0 END)"


def _cents(expr: str) -> str:
    return f"CAST({expr} AS DECIMAL(18, 2))"


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class _Query:
    """SQL for one as-of date: window bounds as literals and the members table."""

    def __init__(self, as_of: date, members: str) -> None:
        self.as_of = as_of
        self.members = members
        self.A = date_literal(as_of)
        self.d = {n: date_literal(months_before(as_of, n)) for n in (1, 3, 6, 7, 9, 12, 15)}

    def linked(
        self, agency: str, cols: str, since: int | None = None, attributed: bool = True
    ) -> str:
        """Visible rows of an agency with their person (and household when ``attributed``).

        Visible: recorded and happened by as-of, link known by as-of; ``since`` keeps event
        dates within the last ``since`` months.
        """
        low = f" AND r.event_date > {self.d[since]}" if since else ""
        member = f"JOIN {self.members} m ON m.person_id = l.person_id" if attributed else ""
        hh = "m.household_id, " if attributed else ""
        return f"""
            SELECT {hh}l.person_id, r.record_id, r.event_date, r.recorded_date, {cols}
            FROM {record_table(agency)} r
            JOIN links l ON l.agency = '{agency}' AND l.record_id = r.record_id
            {member}
            WHERE r.recorded_date <= {self.A} AND r.event_date <= {self.A}
              AND l.evidence_date <= {self.A}{low}"""

    def latest(self, agency: str, cols: str, key: str, where: str = "TRUE") -> str:
        """The latest visible row per register key, in the household of that row's person."""
        return f"""
            SELECT m.household_id, s.*
            FROM (
                SELECT x.*, ROW_NUMBER() OVER (
                           PARTITION BY {key}
                           ORDER BY x.event_date DESC, x.recorded_date DESC, x.record_id DESC
                       ) AS rn
                FROM ({self.linked(agency, cols, attributed=False)}) x
                WHERE {where}
            ) s
            JOIN {self.members} m ON m.person_id = s.person_id
            WHERE s.rn = 1"""

    def statements(self) -> dict[str, str]:
        """Per-household intermediate tables, by name (each a SELECT keyed by household)."""
        A, d, M = self.A, self.d, self.members
        month6 = f"event_date > {d[7]} AND event_date <= {d[6]}"  # the month 6 months back
        cut60_6m = date_literal(_years_before(months_before(self.as_of, 6), 60))
        med = self.linked("medical_claims", "r.claim_type, r.diagnosis_group, r.out_of_pocket", 15)
        dis = self.latest(
            "disability_registry",
            "r.event, r.disability_grade, r.certificate_no",
            "x.certificate_no",
        )
        edu_state = self.latest("education", "r.event, r.student_no, r.stage", "x.student_no")
        edu = self.linked("education", "r.event, r.days_absent, r.school_days", 12)
        unemp_state = self.latest(
            "hr_unemployment",
            "r.event, r.registration_no",
            "x.registration_no",
            "x.event <> 'benefit_payment'",
        )
        unemp = self.linked("hr_unemployment", "r.event, r.amount", 15)
        contrib = self.linked("hr_contributions", "r.contribution_base", 12)
        programs = HOUSEHOLD_PROGRAMS + PERSON_PROGRAMS
        enrolled = ",\n".join(
            _flag(f"program = '{p}' AND event = 'enrolment_start'") + f" AS enrolled_{p}"
            for p in programs
        )
        assist_state = self.latest(
            "civil_assistance",
            "r.event, r.program, r.case_no",
            f"x.program, x.case_no, CASE WHEN x.program IN {_in(PERSON_PROGRAMS)} "
            "THEN x.person_id ELSE '' END",
            "x.event IN ('enrolment_start', 'enrolment_end')",
        )
        assist = self.linked("civil_assistance", "r.event, r.program, r.amount")
        temporary = "program = 'temporary' AND event IN ('approval', 'payment')"
        rural = self.linked("rural_monitoring", "r.event, r.list_type")
        visit = self.linked("visits", "r.outcome")
        arrears = self.linked("utility_arrears", "r.months_in_arrears, r.amount_due", 12)
        vehicle = self.latest(
            "vehicle_registry", "r.event, r.plate_no, r.purchase_value", "x.plate_no"
        )
        prop = self.latest(
            "property_registry",
            "r.event, r.certificate_no, r.property_type, r.area_m2",
            "x.certificate_no",
        )
        business = self.latest("business_registry", "r.event, r.credit_code", "x.credit_code")
        latest_first = "ORDER BY x.event_date DESC, x.recorded_date DESC, x.record_id DESC"
        return {
            "hh": f"""
                WITH ranked AS (
                    SELECT m.*, ROW_NUMBER() OVER (
                               PARTITION BY m.household_id
                               ORDER BY CASE WHEN m.relation = 'head' THEN 0 ELSE 1 END,
                                        m.birth_date NULLS LAST, m.person_id) AS rn
                    FROM {M} m),
                vill AS (
                    SELECT household_id, village_code, ROW_NUMBER() OVER (
                               PARTITION BY household_id
                               ORDER BY COUNT(*) DESC, village_code) AS rn
                    FROM {M} WHERE village_code IS NOT NULL
                    GROUP BY household_id, village_code),
                agg AS (
                    SELECT household_id, COUNT(*) AS size,
                           {_count("age < 18")} AS children,
                           {_count("age >= 60")} AS elderly,
                           {_count("age >= 18 AND age < 60")} AS working_age,
                           {_count("age IS NULL")} AS unknown_age,
                           MIN(age) AS min_age,
                           {_count(f"birth_date <= {cut60_6m}")} AS elderly_6m,
                           MIN(match_probability) AS member_p
                    FROM {M} GROUP BY household_id)
                SELECT a.*, COALESCE(h.village_code, v.village_code) AS village_code,
                       SUBSTRING(COALESCE(h.village_code, v.village_code), 1, 9)
                           AS township_code,
                       h.sex AS head_sex, h.age AS head_age, h.hukou_type AS head_hukou
                FROM agg a
                JOIN ranked h ON h.household_id = a.household_id AND h.rn = 1
                LEFT JOIN vill v ON v.household_id = a.household_id AND v.rn = 1""",
            "deaths": f"""
                SELECT household_id, COUNT(DISTINCT person_id) AS deaths_12m
                FROM memberships
                WHERE event = 'death' AND event_date > {d[12]} AND event_date <= {A}
                  AND recorded_date <= {A} AND evidence_date <= {A}
                GROUP BY household_id""",
            "med": f"""
                SELECT household_id,
                       COUNT(DISTINCT CASE WHEN diagnosis_group = 'serious_illness'
                                            AND event_date > {d[12]} THEN person_id END)
                           AS serious_members,
                       {_count(f"claim_type = 'inpatient' AND event_date > {d[12]}")}
                           AS inpatient_12m,
                       SUM(CASE WHEN event_date > {d[12]} THEN {_cents("out_of_pocket")} ELSE 0 END)
                           AS oop_12m,
                       {_count(f"claim_type = 'inpatient' AND event_date > {d[3]}")} AS recent,
                       {_count(f"claim_type = 'inpatient' AND event_date <= {d[3]}")} AS usual,
                       COUNT(DISTINCT CASE WHEN diagnosis_group = 'chronic'
                                            AND event_date > {d[12]} THEN person_id END)
                           AS chronic_members
                FROM ({med}) x
                GROUP BY household_id""",
            "serious": f"""
                WITH s AS (
                    SELECT household_id, event_date, {_cents("out_of_pocket")} AS oop,
                           {_month_index("event_date")} AS mi
                    FROM ({med}) x
                    WHERE diagnosis_group = 'serious_illness'),
                span AS (SELECT household_id, MIN(mi) AS first_mi, MAX(mi) AS last_mi,
                                MIN(event_date) AS first_date
                         FROM s GROUP BY household_id)
                SELECT s.household_id, MIN(p.first_date) AS first_date,
                       SUM(CASE WHEN s.event_date > {d[1]} THEN s.oop ELSE 0 END) AS oop_1m,
                       SUM(CASE WHEN s.mi = p.first_mi THEN s.oop ELSE 0 END) AS oop_first,
                       SUM(CASE WHEN s.mi = p.last_mi THEN s.oop ELSE 0 END) AS oop_last
                FROM s JOIN span p ON p.household_id = s.household_id
                GROUP BY s.household_id""",
            "dis": f"""
                SELECT household_id, COUNT(DISTINCT person_id) AS disabled,
                       COUNT(DISTINCT CASE WHEN disability_grade <= 2 THEN person_id END)
                           AS severe,
                       {_flag(f"event = 'issued' AND event_date > {d[12]}")} AS new_12m
                FROM ({dis}) s
                WHERE event IN ('baseline', 'issued')
                GROUP BY household_id""",
            "edu_state": f"""
                SELECT household_id, COUNT(DISTINCT person_id) AS students,
                       COUNT(DISTINCT CASE WHEN stage = 'senior' THEN person_id END) AS senior
                FROM ({edu_state}) s
                WHERE event NOT IN ('dropout', 'graduation')
                GROUP BY household_id""",
            "edu": f"""
                SELECT household_id,
                       SUM(CASE WHEN event = 'attendance' AND event_date > {d[3]}
                                THEN days_absent ELSE 0 END) AS absent_3m,
                       SUM(CASE WHEN event = 'attendance' AND event_date > {d[3]}
                                THEN school_days ELSE 0 END) AS days_3m,
                       {_flag("event = 'dropout'")} AS dropout_12m
                FROM ({edu}) x
                GROUP BY household_id""",
            "unemp_state": f"""
                SELECT household_id, COUNT(DISTINCT person_id) AS unemployed
                FROM ({unemp_state}) s
                WHERE event IN ('baseline', 'registration')
                GROUP BY household_id""",
            "unemp": f"""
                SELECT household_id,
                       {_flag(f"event = 'registration' AND event_date > {d[3]}")} AS new_3m,
                       {_sum("amount", f"event = 'benefit_payment' AND event_date > {d[3]}")}
                           AS benefit_3m,
                       {_sum("amount", f"event = 'benefit_payment' AND event_date > {d[1]}")}
                           AS benefit_1m,
                       {_sum("amount", f"event = 'benefit_payment' AND {month6}")} AS benefit_6m,
                       {_count(f"event = 'registration' AND event_date > {d[3]}")} AS recent,
                       {_count(f"event = 'registration' AND event_date <= {d[3]}")} AS usual
                FROM ({unemp}) x
                GROUP BY household_id""",
            "contrib": f"""
                WITH c AS (
                    SELECT household_id, person_id, event_date, contribution_base AS base,
                           {_month_index("event_date")} AS mi
                    FROM ({contrib}) x),
                now_m AS (SELECT household_id, MAX(mi) AS mi FROM c
                          WHERE event_date > {d[3]} GROUP BY household_id),
                old_m AS (SELECT household_id, MAX(mi) AS mi FROM c
                          WHERE event_date <= {d[6]} AND event_date > {d[9]}
                          GROUP BY household_id),
                per_month AS (SELECT household_id, mi, COUNT(DISTINCT person_id) AS n FROM c
                              GROUP BY household_id, mi),
                peak AS (SELECT household_id, MAX(n) AS n FROM per_month
                         GROUP BY household_id)
                SELECT c.household_id,
                       SUM(CASE WHEN c.event_date > {d[3]} AND c.mi = n.mi
                                THEN {_cents("c.base")} ELSE 0 END) AS base_now,
                       SUM(CASE WHEN c.event_date <= {d[6]} AND c.mi = o.mi
                                THEN {_cents("c.base")} ELSE 0 END) AS base_6m,
                       COUNT(DISTINCT CASE WHEN c.event_date > {d[3]} THEN c.person_id END)
                           AS contributors_now,
                       COUNT(DISTINCT CASE WHEN c.event_date <= {d[6]}
                                            AND c.event_date > {d[9]} THEN c.person_id END)
                           AS contributors_6m,
                       MAX(k.n) AS contributors_peak_12m
                FROM c
                LEFT JOIN now_m n ON n.household_id = c.household_id
                LEFT JOIN old_m o ON o.household_id = c.household_id
                LEFT JOIN peak k ON k.household_id = c.household_id
                GROUP BY c.household_id""",
            "assist_state": f"""
                SELECT household_id, {enrolled}
                FROM ({assist_state}) s
                GROUP BY household_id""",
            "assist": f"""
                SELECT household_id,
                       {_count(f"event = 'application' AND event_date > {d[12]}")} AS apps_12m,
                       {_count(f"event = 'rejection' AND event_date > {d[12]}")} AS rejects_12m,
                       {_flag(f"{temporary} AND event_date > {d[12]}")} AS temporary_12m,
                       {_sum("amount", f"event = 'payment' AND event_date > {d[1]}")} AS paid_1m,
                       {_sum("amount", f"event = 'payment' AND {month6}")} AS paid_6m,
                       MAX(CASE WHEN event = 'enrolment_end' THEN event_date END) AS last_end
                FROM ({assist}) x
                GROUP BY household_id""",
            "rural": f"""
                SELECT household_id,
                       {_flag("list_type = 'monitored' AND event IN ('baseline', 'added')")}
                           AS monitored,
                       {_flag("list_type = 'relocated' AND event IN ('baseline', 'added')")}
                           AS relocated
                FROM (
                    SELECT x.*, ROW_NUMBER() OVER (
                               PARTITION BY x.household_id, x.list_type {latest_first}) AS rn
                    FROM ({rural}) x
                ) s
                WHERE rn = 1
                GROUP BY household_id""",
            "visit": f"""
                SELECT household_id,
                       {_count(f"event_date > {d[12]}")} AS visits_12m,
                       MAX(CASE WHEN rn = 1 THEN event_date END) AS last_date,
                       MAX(CASE WHEN rn = 1 THEN outcome END) AS last_outcome
                FROM (
                    SELECT x.*, ROW_NUMBER() OVER (
                               PARTITION BY x.household_id {latest_first}) AS rn
                    FROM ({visit}) x
                ) s
                GROUP BY household_id""",
            "arrears": f"""
                SELECT household_id,
                       MAX(CASE WHEN event_date > {d[3]} THEN months_in_arrears END) AS months,
                       MAX(CASE WHEN event_date > {d[3]} THEN amount_due END) AS amount,
                       COUNT(DISTINCT {_month_index("event_date")}) AS episodes_12m,
                       MAX(event_date) AS last_date
                FROM ({arrears}) x
                GROUP BY household_id""",
            "vehicle": f"""
                SELECT household_id, COUNT(*) AS n, SUM({_cents("purchase_value")}) AS value
                FROM ({vehicle}) s
                WHERE event IN ('baseline', 'registered')
                GROUP BY household_id""",
            "property": f"""
                SELECT household_id, COUNT(*) AS n,
                       {_sum("area_m2", "property_type = 'residential'")} AS area
                FROM ({prop}) s
                WHERE event IN ('baseline', 'registered')
                GROUP BY household_id""",
            "business": f"""
                SELECT household_id, COUNT(*) AS n
                FROM ({business}) s
                WHERE event IN ('baseline', 'registered')
                GROUP BY household_id""",
            "link": f"""
                SELECT m.household_id, MIN(l.match_probability) AS p
                FROM links l JOIN {M} m ON m.person_id = l.person_id
                WHERE l.evidence_date <= {A}
                GROUP BY m.household_id""",
        }


def _area_sql(t: dict[str, str]) -> str:
    rate = (
        "((SUM(COALESCE({x}.recent, 0)) + 0.25) / 3.0) / ((SUM(COALESCE({x}.usual, 0)) + 1) / 12.0)"
    )
    return f"""
        SELECT h.township_code, {rate.format(x="u")} AS unemp_shock,
               {rate.format(x="md")} AS adm_shock
        FROM {t["hh"]} h
        LEFT JOIN {t["unemp"]} u ON u.household_id = h.household_id
        LEFT JOIN {t["med"]} md ON md.household_id = h.household_id
        GROUP BY h.township_code"""


_BANDS = ((30, "<30"), (45, "30-44"), (60, "45-59"), (75, "60-74"))


def _final_sql(
    t: dict[str, str], q: _Query, standard: float, pension: float, pension_6m: float
) -> str:
    """Join the intermediates into one row per household, keys then features."""
    bands = " ".join(f"WHEN h.head_age < {a} THEN '{b}'" for a, b in _BANDS)
    months_now = q.as_of.year * 12 + q.as_of.month

    def since(col: str) -> str:
        return f"CAST({months_now} - {_month_index(col)} AS DOUBLE)"

    def n(expr: str) -> str:
        return f"CAST(COALESCE({expr}, 0) AS INTEGER)"

    def x(expr: str) -> str:
        return f"CAST(COALESCE({expr}, 0) AS DOUBLE)"

    def when(cond: str) -> str:
        return f"CASE WHEN {cond} THEN TRUE ELSE FALSE END"

    def b(expr: str) -> str:
        return f"(COALESCE({expr}, 0) = 1)"

    base = {
        "serious_illness_12m": "(COALESCE(md.serious_members, 0) > 0)",
        "serious_illness_members_12m": n("md.serious_members"),
        "inpatient_admissions_12m": n("md.inpatient_12m"),
        "disabled_members": n("ds.disabled"),
        "severe_disabled_members": n("ds.severe"),
        "disability_new_12m": b("ds.new_12m"),
        "students_enrolled": n("es.students"),
        "school_absence_rate_3m": "CASE WHEN COALESCE(e.days_3m, 0) > 0 "
        "THEN CAST(e.absent_3m AS DOUBLE) / e.days_3m ELSE 0.0 END",
        "school_dropout_12m": b("e.dropout_12m"),
        "unemployed_members": n("us.unemployed"),
        "unemployment_new_3m": b("u.new_3m"),
        "unemployment_benefit_3m": x("u.benefit_3m"),
        "contributors_now": n("c.contributors_now"),
        "contributors_change_6m": n("c.contributors_now - c.contributors_6m"),
        "medical_oop_12m": x("md.oop_12m"),
        "serious_oop_1m": x("se.oop_1m"),
        "serious_oop_growth": "CASE WHEN COALESCE(se.oop_first, 0) > 0 "
        "THEN CAST(se.oop_last AS DOUBLE) / se.oop_first ELSE 0.0 END",
        "months_since_serious_onset": since("se.first_date"),
        "chronic_members_12m": n("md.chronic_members"),
        "senior_students": n("es.senior"),
        "contributors_lost_12m": n("GREATEST(c.contributors_peak_12m - c.contributors_now, 0)"),
        "utility_arrears_episodes_12m": n("ar.episodes_12m"),
        "months_since_arrears": since("ar.last_date"),
        "household_size": n("h.size"),
        "children": n("h.children"),
        "elderly": n("h.elderly"),
        "working_age": n("h.working_age"),
        "dependency_ratio": "CAST(h.children + h.elderly AS DOUBLE) / GREATEST(h.working_age, 1)",
        "elderly_living_alone": "(h.size = 1 AND COALESCE(h.min_age, 0) >= 60)",
        "all_members_elderly": "(h.unknown_age = 0 AND COALESCE(h.min_age, 0) >= 60)",
        "children_without_support": "(h.children > 0 AND h.working_age = 0)",
        "member_deaths_12m": n("dt.deaths_12m"),
        "vehicles": n("ve.n"),
        "vehicle_value": x("ve.value"),
        "properties": n("pr.n"),
        "residential_area_m2": x("pr.area"),
        "businesses": n("bu.n"),
        **{f"enrolled_{p}": b(f"ast.enrolled_{p}") for p in HOUSEHOLD_PROGRAMS + PERSON_PROGRAMS},
        "temporary_assistance_12m": b("asn.temporary_12m"),
        "assistance_applications_12m": n("asn.apps_12m"),
        "assistance_rejections_12m": n("asn.rejects_12m"),
        "months_since_enrolment_end": since("asn.last_end"),
        "rural_monitored": b("ru.monitored"),
        "rural_relocated": b("ru.relocated"),
        "visits_12m": n("v.visits_12m"),
        "visit_in_need_6m": when(f"v.last_date > {q.d[6]} AND v.last_outcome = 'in_need'"),
        "visit_not_in_need_6m": when(f"v.last_date > {q.d[6]} AND v.last_outcome = 'not_in_need'"),
        "months_since_last_visit": since("v.last_date"),
        "utility_arrears_months_3m": n("ar.months"),
        "utility_arrears_amount_3m": x("ar.amount"),
        "area_unemployment_shock": "COALESCE(area.unemp_shock, 1.0)",
        "area_admissions_shock": "COALESCE(area.adm_shock, 1.0)",
        "min_link_probability": "LEAST(COALESCE(lk.p, 1.0), COALESCE(h.member_p, 1.0))",
    }
    S = repr(float(standard))
    derived = {
        "income_monthly_est": "inc_now",
        "income_per_capita_monthly": "inc_now / household_size",
        "income_to_dibao_ratio": f"inc_now / household_size / {S}",
        "income_change_ratio_6m": f"(inc_now - inc_6m) / GREATEST(inc_6m, {S})",
        "medical_oop_to_income_12m": f"medical_oop_12m / (12 * GREATEST(inc_now, {S} * "
        "household_size))",
        "low_confidence_link": f"(min_link_probability < {LOW_CONFIDENCE!r})",
        "income_before_assistance_ratio": f"inc_pre / household_size / {S}",
        "income_after_medical_ratio": f"(inc_pre - serious_oop_1m) / household_size / {S}",
    }
    names = [f.name for f in FEATURES]
    missing = set(names) - set(base) - set(derived)
    extra = (set(base) | set(derived)) - set(names)
    if missing or extra:  # the registry and this mapping must agree
        raise RuntimeError(f"registry mismatch: missing {missing}, extra {extra}")
    inc = (
        f"{x('c.base_now')} + {x('u.benefit_1m')} + {x('asn.paid_1m')} "
        f"+ {float(pension)!r} * h.elderly"
    )
    inc_6m = (
        f"{x('c.base_6m')} + {x('u.benefit_6m')} + {x('asn.paid_6m')} "
        f"+ {float(pension_6m)!r} * h.elderly_6m"
    )
    joins = {
        "dt": "deaths", "md": "med", "ds": "dis", "es": "edu_state", "e": "edu",
        "us": "unemp_state", "u": "unemp", "c": "contrib", "ast": "assist_state",
        "asn": "assist", "ru": "rural", "v": "visit", "ar": "arrears", "ve": "vehicle",
        "pr": "property", "se": "serious", "bu": "business", "lk": "link",
    }  # fmt: skip
    join_sql = "\n".join(
        f"LEFT JOIN {t[name]} {alias} ON {alias}.household_id = h.household_id"
        for alias, name in joins.items()
    )
    inner_cols = ",\n".join(f"{expr} AS {name}" for name, expr in base.items())
    outer = ", ".join(f"{derived.get(name, name)} AS {name}" for name in names)
    return f"""
        SELECT household_id, as_of, township_code, village_code, head_sex, head_age_band, hukou,
               {outer}
        FROM (
            SELECT h.household_id, {q.A} AS as_of, h.township_code, h.village_code,
                   COALESCE(h.head_sex, 'unknown') AS head_sex,
                   CASE WHEN h.head_age IS NULL THEN 'unknown' {bands} ELSE '75+' END
                       AS head_age_band,
                   CASE WHEN h.head_hukou = 'local_urban' THEN 'urban' ELSE 'rural' END AS hukou,
                   {inc} AS inc_now, {inc_6m} AS inc_6m, {inc} - {x("asn.paid_1m")} AS inc_pre,
                   {inner_cols}
            FROM {t["hh"]} h
            {join_sql}
            LEFT JOIN {t["area"]} area ON area.township_code = h.township_code
        ) f
        ORDER BY household_id"""


def _number(params: ParameterSet, name: str, on: date) -> float:
    value = params.get(name, on)
    if isinstance(value, dict):  # a per-category value: take the overall one when there is one
        value = value.get("all", max(value.values()))
    return float(value)


def build_snapshot(con: duckdb.DuckDBPyConnection, as_of: date, params: ParameterSet) -> pa.Table:
    """The household vectors on ``as_of``: one row per household, keys then features.

    Args:
        con: an open warehouse (see :mod:`features.warehouse`); only temp tables are written.
        as_of: the snapshot date; nothing recorded or linked after it is read.
        params: the policy parameters (``dibao.standard_monthly`` and the resident basic
            pension are read on ``as_of``, the pension also 6 months earlier).

    Returns:
        A table with :func:`snapshot_schema`, sorted by ``household_id``.
    """
    standard = _number(params, STANDARD, as_of)
    pension = _number(params, PENSION, as_of)
    pension_6m = _number(params, PENSION, months_before(as_of, 6))
    tag = uuid.uuid4().hex[:10]
    members = membership_as_of(con, as_of, tag)
    q = _Query(as_of, members)
    tables: dict[str, str] = {}
    try:
        for name, sql in q.statements().items():
            tables[name] = f"f_{name}_{tag}"
            con.execute(f"CREATE TEMP TABLE {tables[name]} AS {sql}")
        tables["area"] = f"f_area_{tag}"
        con.execute(f"CREATE TEMP TABLE {tables['area']} AS {_area_sql(tables)}")
        sql = _final_sql(tables, q, standard, pension, pension_6m)
        table = con.sql(sql).to_arrow_table()
    finally:
        for name in [members, *tables.values()]:
            con.execute(f"DROP TABLE IF EXISTS {name}")
    return table.cast(snapshot_schema())


def delivery_ids(con: duckdb.DuckDBPyConnection, as_of: date) -> list[str]:
    """The deliveries holding at least one row recorded by ``as_of`` (sorted)."""
    rows = con.execute(
        "SELECT DISTINCT delivery_id FROM person_records WHERE recorded_date <= ? "
        "ORDER BY delivery_id",
        [as_of],
    ).fetchall()
    return [r[0] for r in rows]


def snapshot_path(out_dir: Path, as_of: date) -> Path:
    """Where the snapshot of ``as_of`` lives: ``out_dir/<YYYY-MM-DD>/features.parquet``."""
    return Path(out_dir) / as_of.isoformat() / "features.parquet"


def write_snapshot(table: pa.Table, out_dir: Path, as_of: date, delivery_ids: list[str]) -> Path:
    """Write a snapshot with its provenance in the Parquet key-value metadata.

    Metadata keys: ``snapshot_id`` (:func:`snapshot_id`), ``feature_set_version``, ``as_of``,
    ``delivery_ids`` (JSON list) and ``registry`` (JSON: each feature's name, dtype, unit, group,
    window, sources). An existing snapshot of the same date is replaced atomically.
    """
    path = snapshot_path(out_dir, as_of)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        b"snapshot_id": snapshot_id(table, as_of, delivery_ids).encode(),
        b"feature_set_version": FEATURE_SET_VERSION.encode(),
        b"as_of": as_of.isoformat().encode(),
        b"delivery_ids": json.dumps(sorted(delivery_ids)).encode(),
        b"registry": json.dumps(registry_json(), ensure_ascii=False).encode(),
    }
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)
    return path


def snapshot_id(table: pa.Table, as_of: date, delivery_ids: list[str]) -> str:
    """``<YYYYMMDD>-<12 hex>``: the date, and a digest of the feature-set version, the deliveries
    used and the vectors themselves. Equal ids mean equal snapshots."""
    digest = hashlib.sha256()
    digest.update(FEATURE_SET_VERSION.encode())
    digest.update(json.dumps(sorted(delivery_ids)).encode())
    sink = pa.BufferOutputStream()
    plain = table.replace_schema_metadata(None)
    with pa.ipc.new_stream(sink, plain.schema) as writer:
        writer.write_table(plain)
    digest.update(sink.getvalue().to_pybytes())
    return f"{as_of:%Y%m%d}-{digest.hexdigest()[:12]}"


def read_snapshot_metadata(path: Path) -> dict:
    """The provenance of a written snapshot (decoded ``write_snapshot`` metadata)."""
    meta = pq.read_schema(path).metadata or {}
    return {
        "snapshot_id": meta[b"snapshot_id"].decode(),
        "feature_set_version": meta[b"feature_set_version"].decode(),
        "as_of": meta[b"as_of"].decode(),
        "delivery_ids": json.loads(meta[b"delivery_ids"]),
        "registry": json.loads(meta[b"registry"]),
    }


def snapshot_report(table: pa.Table) -> dict:
    """Rows, households, and per feature its null share and mean (bools: share true)."""
    rows = table.num_rows
    report: dict = {
        "rows": rows,
        "households": len(pc.unique(table["household_id"])) if rows else 0,
        "features": {},
    }
    for f in FEATURES:
        col = table[f.name]
        nulls = col.null_count / rows if rows else 0.0
        if f.dtype == "category" or rows == col.null_count:
            mean = None
        else:
            values = pc.cast(col, pa.float64()) if f.dtype == "bool" else col
            mean = pc.mean(values).as_py()
        report["features"][f.name] = {"null_share": nulls, "mean": mean}
    return report
