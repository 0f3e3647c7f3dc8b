"""The household economy: income, rigid expenses and the hazards of the events that drive hardship.

A household is in **hardship** in a month exactly when its disposable income per person after
rigid expenses (medical out-of-pocket, schooling), before any social assistance, is below the
minimum-living standard S in force that month:

    y = (income_eff * exp(eps) - rigid_eff - admission * admission_oop) / n  <  S

``income_eff`` and ``rigid_eff`` depend on the household's *base* economy (a pure function of the
demographic schedule and the month, :func:`month_economy`) and on four Markov chains:
J (an earner's job-loss spell), I (a serious-illness episode), D (disability onset, absorbing) and
K (a township-wide shock: flood or epidemic). ``eps`` is month-to-month income noise and
``admission`` an ordinary hospital admission; both are independent each month. Because all
randomness still to come is in these chains, the noise and the admissions, the probability of
hardship in any future month given the state now has a closed form (:func:`hardship_probability`),
which ``risk.py`` chains into the exact onset probability.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from simulator.population import W_FARMER, W_FORMAL, W_INFORMAL, Population

WAGE_GROWTH_PER_YEAR = 0.04
ADMISSION_OOP = 400.0  # out-of-pocket cost of an ordinary admission after insurance
DISABILITY_COST = 600.0  # monthly extra cost after a disability onset
ILLNESS_EARNINGS_LOSS = 0.35  # share of household earnings lost to care during treatment
ILLNESS_EARLY_SHARE = 0.1  # share of the treatment cost paid in the month(s) of diagnosis
JOB_CUSHION_LOSS = 0.25  # share of the primary wage lost while the cushion lasts
DISABILITY_WAGE_LOSS = 0.6  # share of the primary wage lost after a disability onset
SHOCK_LOSS_RURAL, SHOCK_LOSS_URBAN = 0.30, 0.12  # share of earnings lost in a township shock
SHOCK_ON, SHOCK_OFF = 0.004, 0.30  # township shock monthly start and end probabilities
LATENT_EARNINGS = 0.12  # log-earnings loading on the latent factor z
JOB_CUSHION_END = 0.07  # monthly probability that the cushion after a job loss runs out
ILL_TREATMENT_START = 0.12  # monthly probability that a diagnosed illness enters treatment
ILL_EARLY_RECOVER = 0.06
ILL_RECOVER = 0.11
ILL_CATASTROPHIC_SHARE = 0.5  # share of treatments that turn catastrophic (drawn per episode)
ILL_CATASTROPHIC_COST = 5.0  # cost multiple of a catastrophic treatment
ILL_CATASTROPHIC_RECOVER = 0.08
ILL_CATASTROPHIC_INCOME_SHARE = 0.7  # extra spending as a share of income while catastrophic


@dataclass(frozen=True)
class Prices:
    """Parameters in force in a month, read from the dated policy files."""

    standard: float  # S, CNY per person per month
    resident_pension: float  # monthly basic pension of the residents' scheme
    unemployment_benefit: float  # monthly benefit for formally employed job losers


@dataclass
class Economy:
    """Per-household base economy of one month (index = household position)."""

    month: int
    n: np.ndarray  # members present
    earnings: np.ndarray
    income: np.ndarray  # earnings + pensions + informal support
    rigid: np.ndarray  # baseline rigid expenses (schooling, chronic care, disability)
    primary_wage: np.ndarray
    primary_formal: np.ndarray
    shock_share: np.ndarray
    t_job: np.ndarray  # job chain transitions [household, shock state, from, to]
    t_ill: np.ndarray  # illness chain transitions [household, from, to]
    h_dis: np.ndarray  # disability-onset hazard
    q_adm: np.ndarray  # probability of an ordinary admission this month
    sigma: np.ndarray
    illness_oop: np.ndarray
    benefit: float
    standard: float
    # observation helpers
    oldest: np.ndarray
    elderly_alone: np.ndarray
    n_children: np.ndarray
    severe_disabled: np.ndarray  # members with grade 1-2 at entry
    primary: np.ndarray  # person index of the primary earner (-1 if none)
    pop: Population  # a reference, to rebuild the grouping on demand
    _groups: Groups | None = None

    @property
    def groups(self) -> Groups:
        """Persons present, grouped by household (rebuilt on demand: cached months stay small)."""
        if self._groups is None:
            ps = person_state(self.pop, self.month)
            H = self.pop.n_households
            self._groups = Groups(np.where(ps["present"], ps["hh"], H), H)
        return self._groups


class Groups:
    """Persons grouped by household for one month: one sort, reused by every per-household op.

    ``group`` holds each person's household, or ``H`` (a dump bin) for people not present.
    """

    def __init__(self, group: np.ndarray, H: int):
        self.H = H
        self.group = group
        self.order = np.argsort(group, kind="stable")
        bounds = np.searchsorted(group[self.order], np.arange(H + 1))
        self.starts, self.ends = bounds[:-1], bounds[1:]
        self.valid = self.order[: bounds[-1]]  # present people, sorted by household
        self.nonempty = self.ends > self.starts

    def max(self, values: np.ndarray, empty: float = 0) -> np.ndarray:
        """Per-household maximum (``empty`` for households with nobody present)."""
        out = np.full(self.H, empty, dtype=np.result_type(values, type(empty)))
        if len(self.valid):
            out[self.nonempty] = np.maximum.reduceat(values[self.valid], self.starts[self.nonempty])
        return out

    def argmax(self, values: np.ndarray) -> np.ndarray:
        """Per household, the first member (in person order) with the largest value; -1 if none."""
        best = self.max(values.astype(float), empty=-np.inf)
        cand = self.valid[values[self.valid] == best[self.group[self.valid]]]
        g = self.group[cand]
        first = np.ones(len(cand), bool)
        first[1:] = g[1:] != g[:-1]
        out = np.full(self.H, -1, np.int64)
        out[g[first]] = cand[first]
        return out

    def pick(self, weight: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One member per household drawn with probability proportional to ``weight``."""
        cw = np.cumsum(weight[self.valid])
        starts, ends = self.starts, self.ends
        before = np.where(starts > 0, cw[np.maximum(starts - 1, 0)], 0.0) if len(cw) else 0.0
        last = np.maximum(ends - 1, 0)
        total = (
            np.where(self.nonempty, cw[np.minimum(last, len(cw) - 1)] - before, 0.0)
            if len(cw)
            else np.zeros(self.H)
        )
        target = before + rng.random(self.H) * total
        pos = np.minimum(np.searchsorted(cw, target, side="right"), last)
        return (
            np.where(self.nonempty, self.valid[np.minimum(pos, len(cw) - 1)], -1)
            if len(cw)
            else np.full(self.H, -1)
        )


def person_state(pop: Population, m: int) -> dict[str, np.ndarray]:
    """Per-person quantities in month m that follow from the schedule alone."""
    present = pop.present(m)
    hh = pop.household_at(m)
    age = pop.age(m)
    retire = np.select(
        [pop.work == W_FORMAL, pop.work == W_FARMER], [np.where(pop.male, 60, 55), 72], default=66
    )
    working = (
        present & (pop.work > 0) & (age >= 16) & (age < retire) & (age >= pop.school_leave_age)
    )
    student = present & (age >= 6) & (age < pop.school_leave_age)
    return {
        "present": present,
        "hh": hh,
        "age": age,
        "working": working,
        "student": student,
        "retired": present & (age >= retire),
    }


def month_economy(pop: Population, m: int, prices: Prices) -> Economy:
    """The base economy of every household in month m (a pure function of the schedule)."""
    ps = person_state(pop, m)
    present, hh, age, working, student = (
        ps["present"],
        ps["hh"],
        ps["age"],
        ps["working"],
        ps["student"],
    )
    H = pop.n_households
    hh_p = np.where(present, hh, H)  # absent persons go to a dump bin
    growth = (1 + WAGE_GROWTH_PER_YEAR) ** (m / 12)
    earn = np.where(working, pop.wage * growth, 0.0) * np.exp(LATENT_EARNINGS * pop.z[hh])
    pension = np.where(
        ps["retired"] & (pop.formal_pension > 0),
        pop.formal_pension * growth,
        np.where(present & (age >= 60), prices.resident_pension, 0.0),
    )
    # rural elders still grow much of their own food (counted as in-kind income)
    in_kind = np.where(present & (age >= 60) & (age < 85) & ~pop.urban[hh], 450.0, 0.0)
    pension = pension + in_kind
    school = np.where(student, np.where(age < 15, 120.0, np.where(age < 18, 450.0, 1500.0)), 0.0)
    severe = present & np.isin(pop.dis_grade0, [1, 2])
    care = np.where(present & pop.chronic, 250.0, 0.0) + np.where(
        severe, 700.0, np.where(present & (pop.dis_grade0 > 0), 150.0, 0.0)
    )
    adm_rate = np.where(present, np.minimum(0.12 * np.exp(0.02 * (age - 40)), 0.6), 0.0)

    def hsum(w: np.ndarray) -> np.ndarray:
        return np.bincount(hh_p, weights=w, minlength=H + 1)[:H]

    n = hsum(present.astype(float))
    earnings = hsum(earn)
    income = earnings + hsum(pension) + np.where(n > 0, pop.support + pop.other_income, 0.0)
    rigid = hsum(school + care)
    # primary earner: the highest earner of the household
    groups = Groups(hh_p, H)
    primary = np.where(groups.max(earn) > 0, groups.argmax(earn), -1)
    has = primary >= 0
    primary_wage = np.where(has, earn[np.maximum(primary, 0)], 0.0)
    pw = pop.work[np.maximum(primary, 0)]
    primary_formal = has & (pw == W_FORMAL)
    low_edu = has & (pop.edu[np.maximum(primary, 0)] <= 1)
    insecure = has & ((pw == W_INFORMAL) | (pw == W_FARMER))
    oldest = groups.max(np.where(present, age, 0).astype(np.int64))
    z = pop.z.astype(float)
    base_job = np.where(
        has,
        0.015 * pop.job_instability * np.exp(0.35 * low_edu + 0.35 * insecure - 0.3 * z),
        0.0,
    )
    base_job = np.minimum(base_job, 0.2)
    chronic_any = hsum((present & pop.chronic).astype(float)) > 0
    h_ill = np.minimum(
        0.006
        * pop.frailty
        * np.exp(0.04 * (oldest - 50))
        * (1 + 0.8 * chronic_any)
        * np.exp(-0.2 * z),
        0.08,
    )
    h_dis = np.minimum(0.0003 * np.exp(0.035 * (oldest - 50)), 0.01)
    alive = n > 0
    h_ill = np.where(alive, h_ill, 0.0)
    # job chain per shock state: [household, K, from, to]
    r_job = 0.15 * np.exp(0.2 * z)
    t_job = np.zeros((H, 2, 3, 3), np.float32)
    for k, (hazard, reemploy) in enumerate(((base_job, r_job), (base_job * 2.5, r_job * 0.6))):
        t_job[:, k, 0, 1] = hazard
        t_job[:, k, 0, 0] = 1 - hazard
        t_job[:, k, 1, 0] = reemploy
        t_job[:, k, 1, 2] = JOB_CUSHION_END
        t_job[:, k, 1, 1] = 1 - reemploy - JOB_CUSHION_END
        t_job[:, k, 2, 0] = reemploy * 0.7
        t_job[:, k, 2, 2] = 1 - reemploy * 0.7
    t_ill = np.zeros((H, 4, 4), np.float32)
    t_ill[:, 0, 1] = h_ill
    t_ill[:, 0, 0] = 1 - h_ill
    t_ill[:, 1, 0] = ILL_EARLY_RECOVER
    t_ill[:, 1, 2] = ILL_TREATMENT_START * (1 - ILL_CATASTROPHIC_SHARE)
    t_ill[:, 1, 3] = ILL_TREATMENT_START * ILL_CATASTROPHIC_SHARE
    t_ill[:, 1, 1] = 1 - ILL_EARLY_RECOVER - ILL_TREATMENT_START
    t_ill[:, 2, 0] = ILL_RECOVER
    t_ill[:, 2, 2] = 1 - ILL_RECOVER
    t_ill[:, 3, 0] = ILL_CATASTROPHIC_RECOVER
    t_ill[:, 3, 3] = 1 - ILL_CATASTROPHIC_RECOVER
    q_adm = 1 - np.exp(-hsum(adm_rate) / 12)
    return Economy(
        month=m,
        n=n,
        earnings=earnings,
        income=income,
        rigid=rigid,
        primary_wage=primary_wage,
        primary_formal=primary_formal,
        shock_share=np.where(pop.urban, SHOCK_LOSS_URBAN, SHOCK_LOSS_RURAL),
        t_job=t_job,
        t_ill=t_ill,
        h_dis=np.where(alive, h_dis, 0.0),
        q_adm=q_adm,
        sigma=pop.sigma.astype(float),
        illness_oop=pop.illness_oop.astype(float),
        benefit=prices.unemployment_benefit,
        standard=prices.standard,
        oldest=oldest,
        elderly_alone=(n == 1) & (oldest >= 65),
        n_children=hsum((present & (age < 18)).astype(float)),
        severe_disabled=hsum(severe.astype(float)),
        primary=primary,
        pop=pop,
    )


def effective(
    e: Economy, J: np.ndarray, I: np.ndarray, D: np.ndarray, K: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Income and rigid expenses given chain states (arrays broadcastable against ``e``'s).

    J: 0 employed, 1 recently unemployed (a cushion of severance, savings or odd jobs covers part
    of the lost wage), 2 long-term unemployed (the wage is gone; formal workers keep the benefit).
    I: 0 healthy, 1 diagnosed (first costs), 2 in treatment (full costs and care burden),
    3 catastrophic treatment (several times the cost; whether a treatment turns catastrophic is
    drawn when it starts, so nobody can know it in advance).
    D: disability onset (absorbing). K: township shock.
    """
    earn = e.earnings
    pw = e.primary_wage
    j1, j2 = J == 1, J == 2
    i1, i2, i3 = I == 1, I == 2, I == 3
    loss = (
        j1 * JOB_CUSHION_LOSS * pw
        + j2 * pw
        + (i2 | i3) * ILLNESS_EARNINGS_LOSS * earn
        + D * DISABILITY_WAGE_LOSS * pw
        + K * e.shock_share * earn
    )
    loss = np.minimum(loss, earn)
    income = e.income - loss + j2 * np.where(e.primary_formal, e.benefit, 0.0)
    cost = i1 * ILLNESS_EARLY_SHARE + i2 + i3 * ILL_CATASTROPHIC_COST
    # catastrophic spending grows with what the household can pay (better hospitals, longer
    # treatment, travel): WHO's catastrophic health expenditure is relative to capacity to pay
    rigid = (
        e.rigid
        + cost * e.illness_oop
        + i3 * ILL_CATASTROPHIC_INCOME_SHARE * e.income
        + D * DISABILITY_COST
    )
    return income, rigid


def kernel_inputs(e: Economy) -> tuple[np.ndarray, np.ndarray]:
    """The per-household columns and constants that ``risk_kernel.hardship_kernel`` reads."""
    base = np.stack(
        [
            e.n,
            e.earnings,
            e.income,
            e.rigid,
            e.primary_wage,
            e.primary_formal.astype(float),
            e.shock_share,
            e.illness_oop,
            e.sigma,
            e.q_adm,
        ],
        axis=1,
    ).astype(np.float64)
    consts = np.array(
        [
            e.standard,
            e.benefit,
            JOB_CUSHION_LOSS,
            ILLNESS_EARNINGS_LOSS,
            DISABILITY_WAGE_LOSS,
            ILLNESS_EARLY_SHARE,
            ILL_CATASTROPHIC_COST,
            ILL_CATASTROPHIC_INCOME_SHARE,
            DISABILITY_COST,
            ADMISSION_OOP,
        ],
        dtype=np.float64,
    )
    return base, consts


def hardship_probability(
    e: Economy, income: np.ndarray, rigid: np.ndarray, idx=slice(None)
) -> np.ndarray:
    """P(y < S) over this month's income noise and admission, in closed form."""
    n = e.n[idx]
    sigma = e.sigma[idx]
    q = e.q_adm[idx]
    need = e.standard * n + rigid
    with np.errstate(divide="ignore", invalid="ignore"):
        safe = np.maximum(income, 1e-9)
        p0 = ndtr((np.log(need / safe) + sigma**2 / 2) / sigma)
        p1 = ndtr((np.log((need + ADMISSION_OOP) / safe) + sigma**2 / 2) / sigma)
    p0 = np.where(income <= 0, 1.0, p0)
    p1 = np.where(income <= 0, 1.0, p1)
    p = (1 - q) * p0 + q * p1
    return np.where(n > 0, p, 0.0)


def realized_income(
    e: Economy,
    income: np.ndarray,
    rigid: np.ndarray,
    eps: np.ndarray,
    admitted: np.ndarray,
) -> np.ndarray:
    """Disposable income per person after rigid expenses, for drawn noise and admissions."""
    total = income * np.exp(eps - e.sigma**2 / 2) - rigid - admitted * ADMISSION_OOP
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(e.n > 0, total / np.maximum(e.n, 1), np.nan)
