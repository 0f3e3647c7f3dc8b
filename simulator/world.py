"""The monthly life of the county: event chains, hardship, help-seeking, programs and visits.

:class:`World` holds the true state. :meth:`World.step` advances one month: township shocks, job
losses, illnesses and disability onsets are drawn from their chains, hardship follows from the
income rule, households decide whether to ask for help, civil affairs decides, caseworkers visit,
and every agency gets the events it would record. The truth of each household-month, including
the exact ``p_onset_6m``, is returned for the truth files.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from simulator import observe, people
from simulator.agencies import Recorder
from simulator.economy import (
    SHOCK_OFF,
    SHOCK_ON,
    Economy,
    effective,
    realized_income,
)
from simulator.population import Population
from simulator.risk import HORIZON, RiskBuffer, next_history
from simulator.streams import Streams

NONE = -1
P_DIBAO, P_TEKUN = 1, 2


def draw_next(rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Next state of a Markov chain, given each household's transition row and a uniform."""
    cum = np.cumsum(rows, axis=1)
    return (u[:, None] >= cum[:, :-1]).sum(axis=1).astype(np.int8)


class World:
    """True state of the county plus the machinery to advance it one month."""

    def __init__(
        self,
        pop: Population,
        economy_of,  # callable month -> Economy
        recorder: Recorder | None,
        streams: Streams,
        last_month: int,
        asset_multiple: float,
        village_codes: np.ndarray,
    ):
        self.pop = pop
        self.economy_of = economy_of
        self.rec = recorder
        self.streams = streams
        self.last_month = last_month
        self.asset_multiple = asset_multiple
        self.village_codes = village_codes
        self.risk_buffer = RiskBuffer(pop.n_households)
        H, P = pop.n_households, pop.n_persons
        n_towns = int(pop.township.max()) + 1
        self.K_town = np.zeros(n_towns, bool)
        self.shock_kind = np.zeros(n_towns, np.int8)  # 1 flood, 2 epidemic
        self.J = np.zeros(H, np.int8)  # 0 employed, 1 cushion, 2 long-term unemployed
        self.I = np.zeros(H, np.int8)  # 0 healthy, 1 diagnosed, 2 treatment, 3 catastrophic
        self.D = np.zeros(H, bool)
        self.history = np.full(H, 3, np.int8)
        self.hardship = np.zeros(H, bool)
        self.y = np.full(H, np.nan)
        self.unemp_pid = np.full(H, NONE, np.int64)
        self.prev_unemp_pid = np.full(H, NONE, np.int64)
        self.unemp_registered = np.zeros(H, bool)
        self.ill_pid = np.full(H, NONE, np.int64)
        self.dis_grade_new = np.zeros(P, np.int8)
        self.dis_type_new = np.zeros(P, np.int8)
        self.dis_onset_month = np.full(P, 32000, np.int16)
        self.certified = (pop.dis_grade0 > 0) & (streams.each(None, "certified", P).random() < 0.75)
        self.living_subsidy = np.zeros(P, bool)
        self.care_subsidy = np.zeros(P, bool)
        # programs
        self.enrolled = np.zeros(H, np.int8)  # 0 none, 1 dibao, 2 tekun
        self.enrol_since = np.full(H, 32000, np.int16)
        self.pending = np.zeros(H, np.int8)
        self.pending_channel = np.zeros(H, np.int8)  # 0 application, 1 visit
        self.decide_month = np.full(H, 32000, np.int16)
        self.last_app = np.full(H, -32000, np.int16)
        self.med_enrolled = np.zeros(H, bool)
        self.monitored = np.zeros(H, bool)
        self.arrears = np.zeros(H, np.int16)
        self.trigger = np.zeros(H, np.int8)  # visit trigger from last month's recorded events
        self.absent = np.zeros(H, np.int16)  # school days missed by the household's children
        self.last_job_loss = np.full(H, -32000, np.int16)
        self.last_ill_start = np.full(H, -32000, np.int16)
        # the twin: households the project's list visits in a month, and what the visits found
        self.list_visits: dict[int, np.ndarray] = {}
        self.list_outcomes: dict[int, dict[str, np.ndarray]] = {}

    # ------------------------------------------------------------------ month
    def step(self, m: int, deliver: bool) -> pa.Table | None:
        """Advance to month m; return the household-month truth when ``deliver``."""
        pop, S = self.pop, self.streams
        e = self.economy_of(m)
        H = pop.n_households
        active = e.n > 0
        new_hh = pop.hh_start == m
        self.history[new_hh] = 0  # three observed months are needed before an onset
        # township shocks
        n_towns = len(self.K_town)
        k_prev = self.K_town.copy()
        u = S.each(m, "township_shock", n_towns).random()
        self.K_town = np.where(k_prev, u >= SHOCK_OFF, u < SHOCK_ON)
        started = self.K_town & ~k_prev
        kind = np.where(S.each(m, "township_shock_kind", n_towns).random() < 0.6, 1, 2)
        self.shock_kind[started] = kind[started]
        Kh = self.K_town[pop.township].astype(np.int64)
        rows = np.arange(H)
        # chains
        J0, I0, D0 = self.J.copy(), self.I.copy(), self.D.copy()
        u_job = S.each(m, "job_chain", H).random()
        u_ill = S.each(m, "illness_chain", H).random()
        u_dis = S.each(m, "disability_onset", H).random()
        self.J = np.where(active, draw_next(e.t_job[rows, Kh, J0], u_job), 0).astype(np.int8)
        self.I = np.where(active, draw_next(e.t_ill[rows, I0], u_ill), 0).astype(np.int8)
        self.D = (D0 | (u_dis < e.h_dis)) & active
        admitted = (S.each(m, "hospital_admission", H).random() < e.q_adm) & active
        eps = S.each(m, "income_noise", H).normal(0.0, e.sigma)
        income, rigid = effective(e, self.J, self.I, self.D, Kh)
        self.y = realized_income(e, income, rigid, eps, admitted)
        self.admitted = admitted
        hardship = active & (self.y < e.standard)
        onset = hardship & (self.history == 3)
        self.onset = onset
        self.history = np.where(active, next_history(self.history, hardship), self.history)
        self.hardship = hardship

        ps = people.month_people(pop, m, e, S)
        events = people.Events(
            job_loss=(self.J == 1) & (J0 == 0),
            job_found=(J0 > 0) & (self.J == 0),
            ill_start=(self.I == 1) & (I0 == 0),
            dis_start=self.D & ~D0,
            admitted=admitted,
            shock_start=started[pop.township] & active,
        )
        self.last_job_loss[events.job_loss] = m
        self.last_ill_start[events.ill_start] = m
        self._people_events(m, e, ps, events)
        if deliver and self.rec is not None:
            observe.emit_month(self, m, e, ps, events)
        self._programs(m, e, ps, events, deliver)
        if not deliver:
            return None
        if self.rec is not None:
            self.rec.flush(m)  # before the risk pass, so their memory peaks do not add up
        return self._truth(m, e, onset, Kh)

    # ------------------------------------------------------------ person level
    def _people_events(self, m, e: Economy, ps, ev) -> None:
        S, P = self.streams, self.pop.n_persons
        # the primary earner loses the job; the spell ends when the chain ends
        self.prev_unemp_pid = self.unemp_pid.copy()
        self.unemp_pid = np.where(ev.job_loss, e.primary, self.unemp_pid)
        self.unemp_pid = np.where(self.J > 0, self.unemp_pid, NONE)
        ill_new = np.flatnonzero(ev.ill_start)
        self.ill_pid[ill_new] = ps.pick_old[ill_new]
        self.ill_pid = np.where(self.I > 0, self.ill_pid, NONE)
        dis_new = np.flatnonzero(ev.dis_start)
        who = ps.pick_old[dis_new]
        who = who[who >= 0]
        grade = S.each(m, "disability_grade", P).choice(4, p=[0.15, 0.25, 0.30, 0.30]) + 1
        dtype = S.each(m, "disability_type", P).choice(
            7, p=[0.14, 0.22, 0.02, 0.36, 0.08, 0.09, 0.09]
        )
        self.dis_grade_new[who] = grade[who]
        self.dis_type_new[who] = dtype[who]
        self.dis_onset_month[who] = m

    # ---------------------------------------------------------------- programs
    def _programs(self, m: int, e: Economy, ps, ev, deliver: bool) -> None:
        from simulator import programs

        programs.run(self, m, e, ps, ev, deliver)

    # ------------------------------------------------------------------- truth
    def risk_at(self, m: int, idx: np.ndarray) -> np.ndarray:
        """Exact p_onset_6m at month m for households ``idx`` (months m+1..m+6 not yet drawn)."""
        months = list(range(m + 1, m + HORIZON + 1))
        for month in months:
            self.risk_buffer.add(self.economy_of(month))
        Kh = self.K_town[self.pop.township[idx]].astype(np.int64)
        return self.risk_buffer.onset_probability(
            months,
            idx,
            self.J[idx].astype(np.int64),
            self.I[idx].astype(np.int64),
            self.D[idx].astype(np.int64),
            Kh,
            self.history[idx].astype(np.int64),
        )

    def _truth(self, m: int, e: Economy, onset: np.ndarray, Kh: np.ndarray) -> pa.Table:
        pop = self.pop
        idx = np.flatnonzero(e.n > 0)
        complete = m + HORIZON <= self.last_month
        p = self.risk_at(m, idx) if complete else np.full(len(idx), np.nan)
        n = e.n[idx]
        enrolled = self.enrolled[idx]
        applied_12m = self.last_app[idx] > m - 12
        hardship = self.hardship[idx]
        per_cap_assets = pop.deposits[idx] / n
        assets_pass = (
            (pop.vehicle_value[idx] < 100_000)
            & (~pop.business[idx])
            & (pop.n_property[idx] <= 1)
            & (per_cap_assets <= self.asset_multiple * 12 * e.standard)
        )
        n_rows = len(idx)
        return pa.table(
            {
                "household_id": idx.astype(np.int64),
                "month": np.full(n_rows, m, np.int16),
                "township_idx": pop.township[idx],
                "village_idx": pop.village[idx],
                "urban": pop.urban[idx],
                "members": n.astype(np.int16),
                "income_per_capita": self.y[idx],
                "standard": np.full(n_rows, e.standard),
                "hardship": hardship,
                "onset": onset[idx],
                "months_since_hardship": self.history[idx],
                "p_onset_6m": p,
                "complete_future": np.full(n_rows, complete),
                "enrolled_dibao": enrolled == P_DIBAO,
                "enrolled_tekun": enrolled == P_TEKUN,
                "applied_12m": applied_12m,
                "silent": hardship & (enrolled == 0) & ~applied_12m,
                # silent and not on the rural monitoring list: the twin's undiscovered need
                "rural_monitored": self.monitored[idx],
                "undiscovered_need": hardship
                & (enrolled == 0)
                & ~applied_12m
                & ~self.monitored[idx],
                "case_pending": self.pending[idx] > 0,
                "job_loss_spell": self.J[idx] > 0,
                "job_state": self.J[idx],
                "serious_illness": self.I[idx] > 0,
                "illness_state": self.I[idx],
                "disability_onset": self.D[idx],
                "months_since_job_loss": np.minimum(m - self.last_job_loss[idx], 999).astype(
                    np.int16
                ),
                "months_since_illness": np.minimum(m - self.last_ill_start[idx], 999).astype(
                    np.int16
                ),
                "township_shock": Kh[idx].astype(bool),
                # 0 none, 1 flood, 2 epidemic
                "township_shock_kind": np.where(
                    Kh[idx] > 0, self.shock_kind[pop.township[idx]], 0
                ).astype(np.int8),
                "hospital_admission": self.admitted[idx],
                "severe_disability_members": e.severe_disabled[idx].astype(np.int16)
                + np.bincount(
                    self._hh_of(m), weights=self.dis_grade_new_severe(m), minlength=len(e.n)
                )[idx].astype(np.int16),
                "elderly_alone": e.elderly_alone[idx],
                "children": e.n_children[idx].astype(np.int16),
                "school_days_absent": self.absent[idx],
                "utility_arrears_months": self.arrears[idx],
                "earnings": e.earnings[idx],
                "rigid_expenses": e.rigid[idx],
                "assets_pass": assets_pass,
                "dibao_eligible": (self.y[idx] < e.standard) & assets_pass,
                "has_supporter": pop.has_supporter[idx],
                "latent_z": pop.z[idx],
            }
        )

    def _hh_of(self, m: int) -> np.ndarray:
        pop = self.pop
        return np.where(pop.present(m), pop.household_at(m), len(pop.village))

    def dis_grade_new_severe(self, m: int) -> np.ndarray:
        return (self.pop.present(m) & np.isin(self.dis_grade_new, [1, 2])).astype(float)
