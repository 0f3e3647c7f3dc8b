"""Help-seeking, civil-affairs decisions, enrolments, payments and grassroots visits.

Enrolment follows a means test and happens only for households that apply or are found on a
visit. Households differ in their propensity to apply: lower for the elderly living alone,
people with severe disability, low education and remote villages. Programs never change a
household's income in the truth: hardship is measured before social assistance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from core.contracts import CONTRACTS
from simulator.agencies import codes
from simulator.economy import Economy

if TYPE_CHECKING:
    from simulator.people import Events, People
    from simulator.world import World

P_DIBAO, P_TEKUN = 1, 2
CHANNEL = ("application", "visit", "automatic")

TRIG_NONE, TRIG_HOSP, TRIG_DIS, TRIG_UNEMP = 0, 1, 2, 3
TRIGGER_LABELS = np.array(
    ["elderly_alone", "hospitalization", "disability", "unemployment"],
)
# case numbers encode the program: its position among the contract's programs, sorted
PROGRAMS_SORTED = np.array(sorted(CONTRACTS["civil_assistance"].column("program").allowed))


def _apply_propensity(w: World, e: Economy, ps: People) -> np.ndarray:
    pop = w.pop
    adults = ps.present & (ps.age >= 18)
    low_edu = e.groups.max(np.where(adults, pop.edu, 0).astype(np.int64)) <= 1
    mult = (
        np.where(e.elderly_alone, 0.35, 1.0)
        * np.where(e.severe_disabled > 0, 0.5, 1.0)
        * np.where(low_edu, 0.7, 1.0)
        * np.where(w.I > 0, 1.6, 1.0)
    )
    return pop.propensity * mult


VISIT_NOT_FOUND = 0.04
"""Share of visits that find nobody at home (or the wrong address)."""
VISIT_SENSITIVITY = 0.85
"""P(a visit reports need | the household is in hardship and was found)."""
VISIT_FALSE_NEED = 0.04
"""P(a visit reports need | the household is not in hardship and was found)."""


def visit_outcome(hardship: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(found, reported in need) of visits, from one uniform each: the world's visit model.

    The same model answers the world's own visits and the project's list visits (the twin).
    """
    found = r >= VISIT_NOT_FOUND
    in_need = found & np.where(
        hardship, r < VISIT_SENSITIVITY + VISIT_NOT_FOUND, r < VISIT_FALSE_NEED + VISIT_NOT_FOUND
    )
    return found, in_need


def _start_visit_cases(w: World, m: int, h: np.ndarray, tekun_case: np.ndarray) -> None:
    """A visit that finds need starts a case (decided next month); it counts as an application."""
    start = h[(w.enrolled[h] == 0) & (w.pending[h] == 0)]
    w.pending[start] = np.where(tekun_case[start], P_TEKUN, P_DIBAO)
    w.pending_channel[start] = 1
    w.decide_month[start] = m + 1
    w.last_app[start] = m


def run(w: World, m: int, e: Economy, ps: People, ev: Events, deliver: bool) -> None:
    pop, S = w.pop, w.streams
    H, P = pop.n_households, pop.n_persons
    active = e.n > 0
    std = e.standard
    y = np.where(active, w.y, np.inf)
    y_obs = y * S.each(m, "means_test_error", H).lognormal(
        0, 0.12
    )  # the means test sees income with error
    per_cap_assets = pop.deposits / np.maximum(e.n, 1)
    assets_pass = (
        (pop.vehicle_value < 100_000)
        & (~pop.business)
        & (pop.n_property <= 1)
        & (per_cap_assets <= w.asset_multiple * 12 * std)
    )
    emit = deliver and w.rec is not None
    head = ps.head

    def assist(h: np.ndarray, program, event: str, channel, amount=None, who=None) -> None:
        if not emit or len(h) == 0:
            return
        p = head[h] if who is None else who
        ok = p >= 0
        h, p = h[ok], p[ok]
        n = len(h)
        prog = np.broadcast_to(np.asarray(program), (len(ok),))[ok]
        chan = np.broadcast_to(np.asarray(channel), (len(ok),))[ok]
        amt = np.full(n, np.nan) if amount is None else np.broadcast_to(amount, (len(ok),))[ok]
        w.rec.emit(
            "civil_assistance",
            m,
            p,
            h,
            {
                "case_no": codes("MZ", h * 8 + np.searchsorted(PROGRAMS_SORTED, prog), 10),
                "program": prog,
                "event": np.full(n, event),
                "channel": chan,
                "household_size": np.maximum(e.n[h], 1).astype(np.int32),
                "amount": np.round(amt.astype(float), 2),
                "village_code": w.village_codes[pop.village[h]],
            },
        )

    # ---- households that dissolved leave their programs
    gone = (w.enrolled > 0) & ~active
    if gone.any():
        h = np.flatnonzero(gone)
        w.enrolled[h] = 0
    # ---- decisions on pending cases
    due = (w.pending > 0) & (w.decide_month <= m)
    h = np.flatnonzero(due & active)
    approve = (y_obs[h] < std) & assets_pass[h]
    prog = w.pending[h]
    chan = np.array(CHANNEL)[w.pending_channel[h]]
    names = np.array(["", "dibao", "tekun"])[prog]
    assist(h[approve], names[approve], "approval", chan[approve])
    assist(h[~approve], names[~approve], "rejection", chan[~approve])
    ha = h[approve]
    w.enrolled[ha] = prog[approve]
    w.enrol_since[ha] = m
    assist(ha, names[approve], "enrolment_start", chan[approve])
    w.pending[due] = 0
    w.decide_month[due] = 32000
    # ---- reviews: yearly; exit when the means test is passed
    review = (w.enrolled > 0) & active & (m > w.enrol_since) & ((m - w.enrol_since) % 12 == 0)
    h = np.flatnonzero(review & (y_obs >= std * 1.05))
    assist(h, np.array(["", "dibao", "tekun"])[w.enrolled[h]], "enrolment_end", "application")
    w.enrolled[h] = 0
    # ---- payments
    h = np.flatnonzero(w.enrolled > 0)
    amount = np.where(
        w.enrolled[h] == P_TEKUN,
        1.3 * std,
        np.maximum(std - np.clip(y_obs[h], 0, std), 0.1 * std) * e.n[h],
    )
    assist(h, np.array(["", "dibao", "tekun"])[w.enrolled[h]], "payment", "application", amount)
    # ---- new applications
    prop = _apply_propensity(w, e, ps)
    base = np.where(w.hardship, 0.07, np.where(y < 1.5 * std, 0.006, 0.0004))
    free = active & (w.enrolled == 0) & (w.pending == 0)
    apply = free & (S.each(m, "apply", H).random() < np.clip(base * prop, 0, 0.9))
    tekun_case = (e.n == 1) & (e.oldest >= 60) & ~pop.has_supporter
    h = np.flatnonzero(apply)
    w.pending[h] = np.where(tekun_case[h], P_TEKUN, P_DIBAO)
    w.pending_channel[h] = 0
    w.decide_month[h] = m + 1 + (S.each(m, "decision_delay", H).random()[h] < 0.5)
    w.last_app[h] = m
    assist(h, np.array(["", "dibao", "tekun"])[w.pending[h]], "application", "application")
    # ---- visits: yesterday's recorded triggers and routine visits
    u = S.each(m, "visit", H).random()
    p_visit = np.select(
        [w.trigger == TRIG_HOSP, w.trigger == TRIG_DIS, w.trigger == TRIG_UNEMP],
        [0.20, 0.25, 0.08],
        default=0.0,
    )
    routine = np.where(e.elderly_alone, 0.06, 0.0) + np.where(w.monitored, 0.12, 0.0)
    visit = active & (head >= 0) & (u < p_visit + routine)
    trig = np.where(
        u < p_visit,
        TRIGGER_LABELS[w.trigger],
        np.where(w.monitored, "monitoring", "elderly_alone"),
    )
    h = np.flatnonzero(visit)
    r = S.each(m, "visit_outcome", H).random()[h]
    found, in_need = visit_outcome(w.hardship[h], r)
    outcome = np.where(~found, "not_found", np.where(in_need, "in_need", "not_in_need"))
    if emit and len(h):
        w.rec.emit(
            "visits",
            m,
            head[h],
            h,
            {
                "visit_id": codes("V", m * 10_000_000 + h, 12),
                "trigger": trig[h],
                "outcome": outcome,
                "village_code": w.village_codes[pop.village[h]],
            },
        )
    _start_visit_cases(w, m, h[in_need], tekun_case)
    # ---- list visits (the twin): the project's list, answered by the same visit model
    h = np.asarray(w.list_visits.pop(m, np.zeros(0, np.int64)), np.int64)
    r = S.each(m, "list_visit_outcome", H).random()[h]
    found, in_need = visit_outcome(w.hardship[h], r)
    gone = ~(active[h] & (head[h] >= 0))  # dissolved or moved away: nobody to find
    found, in_need = found & ~gone, in_need & ~gone
    w.list_outcomes[m] = {
        "household_id": h,
        "outcome": np.where(~found, "not_found", np.where(in_need, "in_need", "not_in_need")),
        "day": S.each(m, "list_visit_day", H).integers(0, 28)[h],
        "hardship": w.hardship[h].copy(),
    }
    _start_visit_cases(w, m, h[in_need], tekun_case)
    # next month's triggers: events that agencies recorded this month
    w.trigger = np.select(
        [ev.ill_start, ev.dis_start, ev.job_loss & w.unemp_registered],
        [TRIG_HOSP, TRIG_DIS, TRIG_UNEMP],
        default=TRIG_NONE,
    ).astype(np.int8)
    # ---- temporary assistance after a sudden event
    sudden = ev.ill_start | ev.dis_start | ev.shock_start | ev.job_loss
    h = np.flatnonzero(
        sudden & active & (y < 1.3 * std) & (S.each(m, "temporary", H).random() < 0.3 * prop)
    )
    assist(h, "temporary", "application", "application")
    assist(h, "temporary", "approval", "application")
    assist(h, "temporary", "payment", "application", np.full(len(h), 3 * std))
    w.last_app[h] = m
    # ---- medical assistance for the seriously ill in enrolled or near-poor households
    ill = (w.I > 0) & (w.ill_pid >= 0)
    u_med = S.each(m, "medical_assistance", H).random()
    eligible = ill & ((w.enrolled > 0) | ((y < 1.5 * std) & (u_med < 0.1 * prop)))
    h = np.flatnonzero(eligible)
    first = ~w.med_enrolled[h]
    assist(h[first], "medical_assistance", "enrolment_start", "automatic", who=w.ill_pid[h[first]])
    w.med_enrolled[h] = True
    assist(
        h,
        "medical_assistance",
        "payment",
        "automatic",
        np.round(0.7 * pop.illness_oop[h], 2),
        who=w.ill_pid[h],
    )
    w.med_enrolled &= w.I > 0
    # ---- disability subsidies
    present = ps.present
    hh_enrolled = np.append(w.enrolled > 0, False)[ps.hh]
    new_living = present & w.certified & hh_enrolled & ~w.living_subsidy
    p = np.flatnonzero(new_living)
    assist(ps.hh[p], "disability_living_subsidy", "enrolment_start", "automatic", who=p)
    w.living_subsidy |= new_living
    ended = w.living_subsidy & ~(present & hh_enrolled)
    p = np.flatnonzero(ended & present)
    assist(ps.hh[p], "disability_living_subsidy", "enrolment_end", "automatic", who=p)
    w.living_subsidy &= ~ended
    grade = np.where(w.dis_grade_new > 0, w.dis_grade_new, pop.dis_grade0)
    severe = present & w.certified & np.isin(grade, [1, 2]) & ~w.care_subsidy
    hp = np.append(prop, 0.0)[ps.hh]
    p = np.flatnonzero(severe & (S.each(m, "care_subsidy", P).random() < 0.04 * hp))
    assist(ps.hh[p], "disability_care_subsidy", "application", "application", who=p)
    assist(ps.hh[p], "disability_care_subsidy", "enrolment_start", "application", who=p)
    w.care_subsidy[p] = True
    w.care_subsidy &= present
    p = np.flatnonzero(w.living_subsidy | w.care_subsidy)
    kind = np.where(w.care_subsidy[p], "disability_care_subsidy", "disability_living_subsidy")
    assist(
        ps.hh[p],
        kind,
        "payment",
        "automatic",
        np.where(w.care_subsidy[p], 0.2 * std, 0.15 * std),
        who=p,
    )
    # ---- rural monitoring list (防止返贫监测): added by village surveys, removed on recovery
    rural = ~pop.urban & active & (head >= 0)
    u_add = S.each(m, "monitoring_added", H).random()
    u_remove = S.each(m, "monitoring_removed", H).random()
    add = rural & ~w.monitored & w.hardship & (w.enrolled == 0) & (u_add < 0.05)
    remove = w.monitored & ((~active) | ((w.history == 3) & (u_remove < 0.15)))
    if emit:
        for mask, kind in ((add, "added"), (remove & (head >= 0), "removed")):
            h = np.flatnonzero(mask)
            w.rec.emit(
                "rural_monitoring",
                m,
                head[h],
                h,
                {
                    "list_type": np.full(len(h), "monitored"),
                    "event": np.full(len(h), kind),
                    "household_size": np.maximum(e.n[h], 1).astype(np.int32),
                    "origin_village_code": np.full(len(h), ""),
                    "village_code": w.village_codes[pop.village[h]],
                },
            )
    w.monitored = (w.monitored | add) & ~remove
