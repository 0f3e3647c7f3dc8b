"""The shared source queries of a snapshot: the rows each feature's SQL aggregates.

Every agency row is read through :meth:`Sources.linked`, which keeps only rows recorded and
happened by ``as_of`` whose link to a person is known by then (``links.evidence_date``); rows
reach households through :func:`features.linkage.households.membership_as_of`; registers take
the latest event per number among those rows (:meth:`Sources.latest`).

:meth:`Sources.rows` gives, per row source of :data:`features.vectors.catalogue.ROW_SOURCES`, a
SELECT with a ``household_id`` column; :data:`HELPERS` are the build's own aggregates over some of
them (the income estimate and the township rates read them). :meth:`Sources.household_sql` is
the base table (keys and member counts) and :func:`area_sql` the township rates.
"""

from __future__ import annotations

from datetime import date

from core.months import add_months
from features.linkage.households import date_literal
from features.vectors.catalogue import declaration as d
from features.vectors.sql import amount_sum, cents, count, in_list, month_index
from features.warehouse import record_table

HOUSEHOLD_PROGRAMS = ("dibao", "tekun", "temporary")
"""Programs whose case belongs to the household: enrolment state per case number."""
PERSON_PROGRAMS = ("medical_assistance", "disability_living_subsidy", "disability_care_subsidy")
"""Programs held by a person: enrolment state per case number and person."""

LOOKBACK = {d.CLAIMS: 15, d.SCHOOL: 12, d.UNEMPLOYMENT: 15, d.CONTRIBUTIONS: 12, d.ARREARS: 12}
LOOKBACK |= {d.SERIOUS: LOOKBACK[d.CLAIMS], d.TOWNSHIP: LOOKBACK[d.UNEMPLOYMENT]}
"""Months of events a row source holds when it is limited (a feature's window must fit in it;
the sources of serious claims and township rates read the claims and unemployment rows)."""

_LATEST_FIRST = "ORDER BY x.event_date DESC, x.recorded_date DESC, x.record_id DESC"
_MONTH6 = "event_date > {ago[7]} AND event_date <= {ago[6]}"  # the month 6 months back

HELPERS: dict[str, dict[str, str]] = {
    d.CLAIMS: {
        "recent": count("claim_type = 'inpatient' AND event_date > {ago[3]}"),
        "usual": count("claim_type = 'inpatient' AND event_date <= {ago[3]}"),
    },
    d.UNEMPLOYMENT: {
        "benefit_1m": amount_sum("amount", "event = 'benefit_payment' AND event_date > {ago[1]}"),
        "benefit_6m": amount_sum("amount", f"event = 'benefit_payment' AND {_MONTH6}"),
        "recent": count("event = 'registration' AND event_date > {ago[3]}"),
        "usual": count("event = 'registration' AND event_date <= {ago[3]}"),
    },
    d.CONTRIBUTIONS: {
        "base_now": f"SUM(CASE WHEN event_date > {{ago[3]}} AND mi = now_mi "
        f"THEN {cents('base')} ELSE 0 END)",
        "base_6m": f"SUM(CASE WHEN event_date <= {{ago[6]}} AND mi = old_mi "
        f"THEN {cents('base')} ELSE 0 END)",
    },
    d.ASSISTANCE: {
        "paid_1m": amount_sum("amount", "event = 'payment' AND event_date > {ago[1]}"),
        "paid_6m": amount_sum("amount", f"event = 'payment' AND {_MONTH6}"),
    },
}
"""Row source -> the build's own aggregates over it (templates like feature SQL)."""


def known_date(alias: str) -> str:
    """SQL of a record's **knowledge time**: the later of its recorded date and the extract date
    of the delivery that brought it (a record recorded in June but delivered with July's
    extract is not known before July's extract date)."""
    return f"greatest({alias}.recorded_date, coalesce({alias}.extract_date, {alias}.recorded_date))"


class Sources:
    """The source queries of one as-of date, over a members table."""

    def __init__(self, as_of: date, members: str) -> None:
        self.as_of = as_of
        self.members = members
        self.A = date_literal(as_of)
        self.ago = {n: date_literal(add_months(as_of, -n)) for n in range(1, 25)}

    def context(self) -> dict[str, object]:
        """The values a feature's SQL template may use (see ``Feature.render_sql``)."""
        return {
            "ago": self.ago,
            "as_of": self.A,
            "as_of_month": self.as_of.year * 12 + self.as_of.month,
        }

    def linked(
        self, agency: str, cols: str, since: int | None = None, attributed: bool = True
    ) -> str:
        """Visible rows of an agency with their person (and household when ``attributed``).

        Visible: known (:func:`known_date`: recorded, and its delivery extracted) and
        happened by as-of, link known by as-of; ``since`` keeps event dates within the last
        ``since`` months.
        """
        low = f" AND r.event_date > {self.ago[since]}" if since else ""
        member = f"JOIN {self.members} m ON m.person_id = l.person_id" if attributed else ""
        hh = "m.household_id, " if attributed else ""
        return f"""
            SELECT {hh}l.person_id, r.record_id, r.event_date, r.recorded_date, {cols}
            FROM {record_table(agency)} r
            JOIN links l ON l.agency = '{agency}' AND l.record_id = r.record_id
            {member}
            WHERE {known_date("r")} <= {self.A} AND r.event_date <= {self.A}
              AND l.evidence_date <= {self.A}{low}"""

    def latest(self, agency: str, cols: str, key: str, where: str = "TRUE") -> str:
        """The latest visible row per register key, in the household of that row's person."""
        return f"""
            SELECT m.household_id, s.*
            FROM (
                SELECT x.*, ROW_NUMBER() OVER (PARTITION BY {key} {_LATEST_FIRST}) AS rn
                FROM ({self.linked(agency, cols, attributed=False)}) x
                WHERE {where}
            ) s
            JOIN {self.members} m ON m.person_id = s.person_id
            WHERE s.rn = 1"""

    def _held(self, agency: str, cols: str, key: str, events: tuple[str, ...]) -> str:
        """Register entries whose latest event is one of ``events``."""
        return (
            f"SELECT * FROM ({self.latest(agency, cols, key)}) s WHERE event IN {in_list(events)}"
        )

    def household_sql(self) -> str:
        """One row per household: its keys and the member counts the income estimate reads."""
        M = self.members
        cut60_6m = date_literal(add_months(add_months(self.as_of, -6), -12 * 60))
        return f"""
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
                       {count("age >= 60")} AS elderly,
                       {count(f"birth_date <= {cut60_6m}")} AS elderly_6m
                FROM {M} GROUP BY household_id)
            SELECT a.*, COALESCE(h.village_code, v.village_code) AS village_code,
                   SUBSTRING(COALESCE(h.village_code, v.village_code), 1, 9) AS township_code,
                   h.sex AS head_sex, h.age AS head_age, h.hukou_type AS head_hukou
            FROM agg a
            JOIN ranked h ON h.household_id = a.household_id AND h.rn = 1
            LEFT JOIN vill v ON v.household_id = a.household_id AND v.rn = 1"""

    def rows(self, tables: dict[str, str]) -> dict[str, str]:
        """Row source -> SELECT with ``household_id``, in build order (``tables`` names the
        temp tables built so far: the household table ``hh`` and, for the township rates,
        ``area``)."""
        A, M = self.A, self.members
        med = self.linked("medical_claims", "r.claim_type, r.diagnosis_group, r.out_of_pocket",
                          LOOKBACK[d.CLAIMS])  # fmt: skip
        contrib = self.linked("hr_contributions", "r.contribution_base", LOOKBACK[d.CONTRIBUTIONS])
        c = f"""SELECT household_id, person_id, event_date, contribution_base AS base,
                       {month_index("event_date")} AS mi
                FROM ({contrib}) x"""
        assist_key = (
            f"x.program, x.case_no, CASE WHEN x.program IN {in_list(PERSON_PROGRAMS)} "
            "THEN x.person_id ELSE '' END"
        )
        held = ("baseline", "registered")
        out = {
            d.MEMBERS: f"SELECT * FROM {M}",
            d.DEATHS: f"""
                SELECT household_id, person_id, event_date
                FROM memberships
                WHERE event = 'death' AND event_date <= {A}
                  AND recorded_date <= {A} AND evidence_date <= {A}""",
            d.CLAIMS: med,
            d.SERIOUS: f"""
                SELECT s.*, MIN(s.mi) OVER (PARTITION BY s.household_id) AS first_mi,
                       MAX(s.mi) OVER (PARTITION BY s.household_id) AS last_mi
                FROM (
                    SELECT household_id, event_date, {cents("out_of_pocket")} AS oop,
                           {month_index("event_date")} AS mi
                    FROM ({med}) x
                    WHERE diagnosis_group = 'serious_illness') s""",
            d.CERTIFICATES: self._held(
                "disability_registry",
                "r.event, r.disability_grade, r.certificate_no",
                "x.certificate_no",
                ("baseline", "issued"),
            ),
            d.STUDENTS: f"""
                SELECT * FROM ({
                self.latest("education", "r.event, r.student_no, r.stage", "x.student_no")
            }) s
                WHERE event NOT IN ('dropout', 'graduation')""",
            d.SCHOOL: self.linked(
                "education", "r.event, r.days_absent, r.school_days", LOOKBACK[d.SCHOOL]
            ),
            d.REGISTRATIONS: f"""
                SELECT * FROM ({
                self.latest(
                    "hr_unemployment",
                    "r.event, r.registration_no",
                    "x.registration_no",
                    "x.event <> 'benefit_payment'",
                )
            }) s
                WHERE event IN ('baseline', 'registration')""",
            d.UNEMPLOYMENT: self.linked(
                "hr_unemployment", "r.event, r.amount", LOOKBACK[d.UNEMPLOYMENT]
            ),
            d.CONTRIBUTIONS: f"""
                SELECT c.*, n.mi AS now_mi, o.mi AS old_mi, k.n AS peak
                FROM ({c}) c
                LEFT JOIN (SELECT household_id, MAX(mi) AS mi FROM ({c}) c
                           WHERE event_date > {self.ago[3]} GROUP BY household_id) n
                       ON n.household_id = c.household_id
                LEFT JOIN (SELECT household_id, MAX(mi) AS mi FROM ({c}) c
                           WHERE event_date <= {self.ago[6]} AND event_date > {self.ago[9]}
                           GROUP BY household_id) o
                       ON o.household_id = c.household_id
                LEFT JOIN (SELECT household_id, MAX(n) AS n
                           FROM (SELECT household_id, mi, COUNT(DISTINCT person_id) AS n
                                 FROM ({c}) c GROUP BY household_id, mi) p
                           GROUP BY household_id) k
                       ON k.household_id = c.household_id""",
            d.CASES: self.latest(
                "civil_assistance",
                "r.event, r.program, r.case_no",
                assist_key,
                "x.event IN ('enrolment_start', 'enrolment_end')",
            ),
            d.ASSISTANCE: self.linked("civil_assistance", "r.event, r.program, r.amount"),
            d.RURAL: f"""
                SELECT * FROM (
                    SELECT x.*, ROW_NUMBER() OVER (
                               PARTITION BY x.household_id, x.list_type {_LATEST_FIRST}) AS rn
                    FROM ({self.linked("rural_monitoring", "r.event, r.list_type")}) x
                ) s
                WHERE rn = 1""",
            d.VISITS: f"""
                SELECT x.*, ROW_NUMBER() OVER (PARTITION BY x.household_id {_LATEST_FIRST}) AS rn
                FROM ({self.linked("visits", "r.outcome")}) x""",
            d.ARREARS: self.linked(
                "utility_arrears", "r.months_in_arrears, r.amount_due", LOOKBACK[d.ARREARS]
            ),
            d.VEHICLES: self._held(
                "vehicle_registry", "r.event, r.plate_no, r.purchase_value", "x.plate_no", held
            ),
            d.PROPERTIES: self._held(
                "property_registry",
                "r.event, r.certificate_no, r.property_type, r.area_m2",
                "x.certificate_no",
                held,
            ),
            d.BUSINESSES: self._held(
                "business_registry", "r.event, r.credit_code", "x.credit_code", held
            ),
            d.LINKS: f"""
                SELECT m.household_id, l.match_probability AS p
                FROM links l JOIN {M} m ON m.person_id = l.person_id
                WHERE l.evidence_date <= {A}
                UNION ALL
                SELECT household_id, match_probability AS p FROM {M}""",
        }
        if "area" in tables:
            out[d.TOWNSHIP] = f"""
                SELECT h.household_id, a.unemp_shock, a.adm_shock
                FROM {tables["hh"]} h
                JOIN {tables["area"]} a ON a.township_code = h.township_code"""
        return out


def area_sql(tables: dict[str, str]) -> str:
    """Per township: new unemployment registrations and admissions of the last 3 months against
    the 12 before, over the township's households (the helpers of both row sources)."""
    rate = (
        "((SUM(COALESCE({x}.recent, 0)) + 0.25) / 3.0) / ((SUM(COALESCE({x}.usual, 0)) + 1) / 12.0)"
    )
    return f"""
        SELECT h.township_code, {rate.format(x="u")} AS unemp_shock,
               {rate.format(x="md")} AS adm_shock
        FROM {tables["hh"]} h
        LEFT JOIN {tables[d.UNEMPLOYMENT]} u ON u.household_id = h.household_id
        LEFT JOIN {tables[d.CLAIMS]} md ON md.household_id = h.household_id
        GROUP BY h.township_code"""
