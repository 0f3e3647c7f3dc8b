"""What the agencies see each month: the world's events turned into agency records.

Civil-affairs assistance and visit records are emitted by ``programs.py``; everything else here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from core.contracts import CONTRACTS
from simulator.agencies import codes
from simulator.economy import (
    ADMISSION_OOP,
    ILL_CATASTROPHIC_COST,
    ILLNESS_EARLY_SHARE,
    Economy,
    person_state,
)
from simulator.people import Events, People
from simulator.population import (
    DISABILITY_TYPES,
    HUKOU,
    REL,
    RELATIONS,
    W_FORMAL,
    W_SELF,
)

if TYPE_CHECKING:
    from simulator.world import World


def _village_codes(w: World, hid: np.ndarray) -> np.ndarray:
    return w.village_codes[w.pop.village[hid]]


def _registry_no(hid: np.ndarray) -> np.ndarray:
    return codes("HH", hid, 9)


def emit_baseline(w: World, m: int, ps: People) -> None:
    """Baseline extracts of the registers, as they stand at the first delivered month."""
    rec, pop, S = w.rec, w.pop, w.streams
    day0 = rec.month_start(m)

    def past(keys: np.ndarray, max_days: int, purpose: str) -> np.ndarray:
        days = S.draws(m, f"baseline_date_{purpose}", keys).integers(1, max_days)
        return day0 - days.astype("timedelta64[D]")

    # civil registry: everyone present
    p = np.flatnonzero(ps.present)
    hid = ps.hh[p]
    ev = np.maximum(pop.birth[p], past(p, 3650, "civil_registry"))
    rec.emit(
        "civil_registry",
        m,
        p,
        hid,
        {
            "registry_household_no": _registry_no(hid),
            "event": np.full(len(p), "baseline"),
            "relation": np.array(RELATIONS)[ps.relation[p]],
            "hukou_type": np.array(HUKOU)[pop.hukou[hid]],
            "village_code": _village_codes(w, hid),
        },
        event_date=ev,
        recorded_date=ev,
    )
    # disability certificates
    p = np.flatnonzero(ps.present & w.certified)
    hid = ps.hh[p]
    ev = past(p, 3650, "disability_registry")
    rec.emit(
        "disability_registry",
        m,
        p,
        hid,
        {
            "certificate_no": codes("DPF", p, 9),
            "event": np.full(len(p), "baseline"),
            "disability_type": np.array(DISABILITY_TYPES)[pop.dis_type0[p]],
            "disability_grade": pop.dis_grade0[p].astype(np.int32),
            "village_code": _village_codes(w, hid),
        },
        event_date=ev,
        recorded_date=ev,
    )
    # school enrolment
    p = np.flatnonzero(ps.student & (ps.age < 19))
    hid = ps.hh[p]
    ev = past(p, 300, "education")
    rec.emit(
        "education",
        m,
        p,
        hid,
        _school_fields(w, p, ps, "baseline"),
        event_date=ev,
        recorded_date=ev,
    )
    # open unemployment registrations
    h = np.flatnonzero(w.unemp_registered & (w.unemp_pid >= 0))
    p = w.unemp_pid[h]
    ev = past(p, 200, "hr_unemployment")
    _unemployment(w, m, p, h, "baseline", None, event_date=ev, recorded_date=ev)
    # assets: owner is the household head
    head = ps.head
    h = np.flatnonzero((head >= 0) & (pop.vehicle_value > 0))
    ev = past(h, 3000, "vehicle_registry")
    rec.emit(
        "vehicle_registry",
        m,
        head[h],
        h,
        {
            "plate_no": codes("ZB", h, 7),
            "event": np.full(len(h), "baseline"),
            "vehicle_type": np.where(pop.vehicle_value[h] > 150000, "truck", "car"),
            "purchase_value": pop.vehicle_value[h].astype(float),
        },
        event_date=ev,
        recorded_date=ev,
    )
    for k in (1, 2):
        h = np.flatnonzero((head >= 0) & (pop.n_property >= k))
        ev = past(h, 7000, f"property_registry_{k}")
        d = S.draws(m, f"baseline_property_{k}", h)
        rec.emit(
            "property_registry",
            m,
            head[h],
            h,
            {
                "certificate_no": codes(f"RE{k}", h, 9),
                "event": np.full(len(h), "baseline"),
                "property_type": np.where(
                    (k == 2) & (d.random() < 0.3), "commercial", "residential"
                ),
                "area_m2": np.round(d.lognormal(np.log(95), 0.35), 1),
                "village_code": _village_codes(w, h),
            },
            event_date=ev,
            recorded_date=ev,
        )
    p = np.flatnonzero(ps.present & (pop.work == W_SELF) & (ps.age >= 18) & (ps.age < 70))
    ev = past(p, 5000, "business_registry")
    d = S.draws(m, "baseline_business", p)
    rec.emit(
        "business_registry",
        m,
        p,
        ps.hh[p],
        {
            "credit_code": codes("92330226", p, 10),
            "event": np.full(len(p), "baseline"),
            "entity_type": np.where(d.random() < 0.15, "company", "sole_proprietor"),
            "registered_capital": np.round(d.lognormal(np.log(50000), 1.0), -2),
        },
        event_date=ev,
        recorded_date=ev,
    )
    # rural lists
    h = np.flatnonzero((head >= 0) & (pop.relocated | w.monitored))
    lt = np.where(pop.relocated[h], "relocated", "monitored")
    ev = past(h, 1500, "rural_monitoring")
    origin = np.where(pop.origin_village[h] >= 0, pop.origin_village[h], 0)
    rec.emit(
        "rural_monitoring",
        m,
        head[h],
        h,
        {
            "list_type": lt,
            "event": np.full(len(h), "baseline"),
            "household_size": _members(w, m, h),
            "origin_village_code": np.where(pop.relocated[h], w.village_codes[origin], ""),
            "village_code": _village_codes(w, h),
        },
        event_date=ev,
        recorded_date=ev,
    )


def _members(w: World, m: int, h: np.ndarray) -> np.ndarray:
    return np.maximum(w.economy_of(m).n[h], 1).astype(np.int32)


def _school_fields(w: World, p: np.ndarray, ps: People, event: str, absent=None) -> dict:
    age = ps.age[p]
    stage = np.where(age < 12, "primary", np.where(age < 15, "junior", "senior"))
    n = len(p)
    return {
        "student_no": codes("G", p, 12),
        "school_code": codes("S", w.pop.village[ps.hh[p]] // 3, 6),
        "stage": stage,
        "event": np.full(n, event),
        "days_absent": np.full(n, np.nan) if absent is None else absent.astype(float),
        "school_days": np.full(n, np.nan) if absent is None else np.full(n, 21.0),
    }


def emit_month(w: World, m: int, e: Economy, ps: People, ev: Events) -> None:
    """Emit the month's events to every agency but civil assistance and visits."""
    rec, pop, S = w.rec, w.pop, w.streams
    if m == 0:
        emit_baseline(w, m, ps)
    H = pop.n_households
    # ---- civil registry: births, deaths, migration, splits
    starting = pop.start == m
    newborn = (
        starting
        & (pop.relation == REL["child"])
        & (pop.birth >= rec.month_start(m) - np.timedelta64(40, "D"))
    )
    born = np.flatnonzero(newborn)
    arrived = np.flatnonzero(starting & ~newborn)
    died = np.flatnonzero((pop.end == m) & (pop.exit_kind == 1))
    left = np.flatnonzero((pop.end == m) & (pop.exit_kind == 2))
    split = np.flatnonzero(pop.move_month == m)
    left_before = pop.household_at(m - 1)  # the household people died in or left
    parts = [
        (born, "birth"),
        (arrived, "move_in"),
        (died, "death"),
        (left, "move_out"),
        (split, "household_split"),
    ]
    for p, kind in parts:
        if len(p) == 0:
            continue
        hid = left_before[p] if kind in ("death", "move_out") else ps.hh[p]
        ev_date = pop.birth[p] if kind == "birth" else None
        rec.emit(
            "civil_registry",
            m,
            p,
            hid,
            {
                "registry_household_no": _registry_no(hid),
                "event": np.full(len(p), kind),
                "relation": np.array(RELATIONS)[ps.relation[p]],
                "hukou_type": np.array(HUKOU)[pop.hukou[hid]],
                "village_code": _village_codes(w, hid),
            },
            event_date=ev_date,
        )
    # ---- medical claims
    scheme = np.where((pop.work == W_FORMAL) | (pop.formal_pension > 0), "employee", "resident")
    h = np.flatnonzero(ev.admitted)
    p = ps.pick_old[h]
    keep = p >= 0
    h, p = h[keep], p[keep]
    total = np.round(7674 * S.draws(m, "inpatient_cost", h).lognormal(-0.08, 0.4), 2)
    oop = np.round(np.minimum(total, ADMISSION_OOP * total / 7674), 2)
    _claims(w, m, p, h, "inpatient", "acute", scheme, total, oop)
    h = np.flatnonzero((w.I > 0) & (w.ill_pid >= 0))
    p = w.ill_pid[h]
    first = ev.ill_start[h]
    share = np.select([w.I[h] == 1, w.I[h] == 3], [ILLNESS_EARLY_SHARE, ILL_CATASTROPHIC_COST], 1.0)
    noise = S.draws(m, "serious_illness_cost", h).lognormal(-0.02, 0.2)
    oop = np.round(share * pop.illness_oop[h] * noise, 2)
    total = np.round(oop / np.where(scheme[p] == "employee", 0.25, 0.42), 2)
    _claims(
        w,
        m,
        p,
        h,
        np.where(first, "inpatient", "outpatient_serious"),
        "serious_illness",
        scheme,
        total,
        oop,
    )
    u = S.each(m, "chronic_claim", pop.n_persons).random()
    p = np.flatnonzero(ps.present & pop.chronic & (u < 0.5))
    oop = np.round(250 * S.draws(m, "chronic_cost", p).lognormal(-0.1, 0.4), 2)
    _claims(w, m, p, ps.hh[p], "outpatient_chronic", "chronic", scheme, oop * 2.5, oop)
    # ---- disability certificates for new onsets (after an assessment)
    p = np.flatnonzero((w.dis_onset_month == m) & ps.present)
    p = p[S.draws(m, "certification", p).random() < 0.6]
    w.certified[p] = True
    rec.emit(
        "disability_registry",
        m,
        p,
        ps.hh[p],
        {
            "certificate_no": codes("DPF", p, 9),
            "event": np.full(len(p), "issued"),
            "disability_type": np.array(DISABILITY_TYPES)[w.dis_type_new[p]],
            "disability_grade": w.dis_grade_new[p].astype(np.int32),
            "village_code": _village_codes(w, ps.hh[p]),
        },
        event_date=rec.month_start(m)
        + S.draws(m, "certification_date", p).integers(20, 80).astype("timedelta64[D]"),
    )
    p = np.flatnonzero(w.certified & (pop.end == m) & (pop.exit_kind == 1))
    hid = pop.household_at(m - 1)[p]
    grade = np.where(w.dis_grade_new[p] > 0, w.dis_grade_new[p], pop.dis_grade0[p])
    dtype = np.where(w.dis_grade_new[p] > 0, w.dis_type_new[p], pop.dis_type0[p])
    rec.emit(
        "disability_registry",
        m,
        p,
        hid,
        {
            "certificate_no": codes("DPF", p, 9),
            "event": np.full(len(p), "revoked"),
            "disability_type": np.array(DISABILITY_TYPES)[dtype],
            "disability_grade": np.maximum(grade, 1).astype(np.int32),
            "village_code": _village_codes(w, hid),
        },
    )
    # ---- education: attendance, new pupils, leavers
    month_of_year = int((rec.month0 + m).astype(int) % 12) + 1
    students = ps.student & (ps.age < 19)
    h_stress = ((w.J > 0) | (w.I > 0)).astype(float) * 2 + w.hardship * 1.5
    p = np.flatnonzero(students)
    lam = 0.5 * (1 + h_stress[ps.hh[p]]) * np.exp(-0.3 * pop.z[ps.hh[p]])
    absent = np.minimum(S.draws(m, "school_absence", p).poisson(lam, cap=21), 21)
    w.absent = np.bincount(ps.hh[p], weights=absent, minlength=H + 1)[:H].astype(np.int16)
    if month_of_year not in (2, 7, 8):
        rec.emit("education", m, p, ps.hh[p], _school_fields(w, p, ps, "attendance", absent))
    if month_of_year == 9:
        p = np.flatnonzero(students & (ps.age == 6))
        rec.emit("education", m, p, ps.hh[p], _school_fields(w, p, ps, "enrolment"))
    prev = person_state(pop, m - 1)["student"]
    p = np.flatnonzero(prev & ~ps.student & ps.present & (ps.age < 19))
    kind = np.where(pop.school_leave_age[p] < 15.5, "dropout", "graduation")
    f = _school_fields(w, p, ps, "graduation")
    f["event"] = kind
    rec.emit("education", m, p, ps.hh[p], f)
    # ---- unemployment
    h = np.flatnonzero(ev.job_loss & (w.unemp_pid >= 0))
    p = w.unemp_pid[h]
    formal = pop.work[p] == W_FORMAL
    reg = S.draws(m, "unemployment_registration", h).random() < np.where(formal, 0.75, 0.3)
    w.unemp_registered[h] = reg
    h, p = h[reg], p[reg]
    _unemployment(w, m, p, h, "registration", None)
    h = np.flatnonzero((w.J > 0) & w.unemp_registered & (w.unemp_pid >= 0))
    p = w.unemp_pid[h]
    paid = pop.work[p] == W_FORMAL
    h, p = h[paid], p[paid]
    _unemployment(w, m, p, h, "benefit_payment", e.benefit)
    h = np.flatnonzero(ev.job_found & w.unemp_registered)
    p = w.prev_unemp_pid[h]
    ok = p >= 0
    h, p = h[ok], p[ok]
    _unemployment(w, m, p, h, "deregistration", None)
    w.unemp_registered &= w.J > 0
    # ---- contributions of formal workers in work
    unemployed = np.zeros(pop.n_persons, bool)
    unemployed[w.unemp_pid[w.unemp_pid >= 0]] = True
    p = np.flatnonzero(ps.working & (pop.work == W_FORMAL) & ~unemployed)
    growth = 1.04 ** (m / 12)
    rec.emit(
        "hr_contributions",
        m,
        p,
        ps.hh[p],
        {
            "employer_code": codes("91330226", (p * 7919) % 4000, 10),
            "contribution_base": np.round(np.clip(pop.wage[p] * growth, 3000, 25000), 0),
        },
        event_date=np.full(len(p), rec.month_start(m)),
    )
    # ---- assets: a few new vehicles, sales under hardship
    head = ps.head
    rich = (e.income / np.maximum(e.n, 1) > 4000) & (head >= 0)
    h = np.flatnonzero(rich & (S.each(m, "vehicle_purchase", H).random() < 0.002))
    rec.emit(
        "vehicle_registry",
        m,
        head[h],
        h,
        {
            "plate_no": codes("ZB", h + 5_000_000 + m * 10_000_000, 8),
            "event": np.full(len(h), "registered"),
            "vehicle_type": np.full(len(h), "car"),
            "purchase_value": np.round(
                S.draws(m, "vehicle_value", h).lognormal(np.log(120000), 0.4), -2
            ),
        },
    )
    sale = S.each(m, "vehicle_sale", H).random() < 0.03
    h = np.flatnonzero((pop.vehicle_value > 0) & w.hardship & (head >= 0) & sale)
    rec.emit(
        "vehicle_registry",
        m,
        head[h],
        h,
        {
            "plate_no": codes("ZB", h, 7),
            "event": np.full(len(h), "deregistered"),
            "vehicle_type": np.full(len(h), "car"),
            "purchase_value": pop.vehicle_value[h].astype(float),
        },
    )
    # ---- utility arrears (a consequence of low income)
    low = w.hardship | (w.y < 1.2 * e.standard)
    u = S.each(m, "utility_arrears", H).random()
    w.arrears = np.where(
        e.n > 0,
        np.where(low & (u < 0.5), w.arrears + 1, np.where(~low & (u < 0.6), 0, w.arrears)),
        0,
    )
    w.arrears = w.arrears.astype(np.int16)
    h = np.flatnonzero((w.arrears >= 2) & (head >= 0))
    rec.emit(
        "utility_arrears",
        m,
        head[h],
        h,
        {
            "account_no": codes("E", h, 10),
            "months_in_arrears": w.arrears[h].astype(np.int32),
            "amount_due": np.round(
                w.arrears[h] * S.draws(m, "arrears_amount", h).uniform(60, 140), 2
            ),
            "village_code": _village_codes(w, h),
        },
    )


def _unemployment(
    w: World,
    m: int,
    p: np.ndarray,
    h: np.ndarray,
    event: str,
    amount: float | None,
    **dates: np.ndarray,
) -> None:
    w.rec.emit(
        "hr_unemployment",
        m,
        p,
        h,
        {
            "registration_no": codes("UR", h, 9),
            "event": np.full(len(p), event),
            "amount": np.full(len(p), np.nan if amount is None else amount),
            "village_code": _village_codes(w, h),
        },
        **dates,
    )


def _claims(w, m, p, h, claim_type, group, scheme, total, oop) -> None:
    n = len(p)
    if n == 0:
        return
    ct = np.broadcast_to(np.asarray(claim_type), (n,)).copy()
    w.rec.emit(
        "medical_claims",
        m,
        p,
        h,
        {
            "claim_type": ct,
            "diagnosis_group": np.full(n, group),
            "scheme": scheme[p],
            "total_cost": total,
            "fund_paid": np.round(total - oop, 2),
            "out_of_pocket": oop,
        },
    )


assert set(CONTRACTS)  # contracts are the single source of column names
