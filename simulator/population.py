"""People and households of the simulated county, with their demographic schedule.

Demographic events (births, deaths, household splits, migration in and out) are drawn once, at
the start, from monthly hazards, month by month in calendar order; this gives the same
distribution as drawing them month by month during the run. The schedule is part of the true
(latent) state: it makes every household's composition a known function of the month, so the
true risk of hardship can be computed exactly from the state at any month (see ``risk.py``).

Arrays are indexed by person (``P``) or household (``H``) position; months are integers relative
to the first delivered month (0 = the configured start month, negative = burn-in).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.geography import Geography

NEVER = np.int16(32000)

RELATIONS = ("head", "spouse", "child", "parent", "grandchild", "other")
REL = {r: i for i, r in enumerate(RELATIONS)}
HUKOU = ("local_rural", "local_urban", "non_local")
EDUCATION = ("none", "primary", "junior", "senior", "college")
WORK = ("none", "formal", "informal", "farmer", "self_employed")
W_NONE, W_FORMAL, W_INFORMAL, W_FARMER, W_SELF = range(5)
DISABILITY_TYPES = ("visual", "hearing", "speech", "physical", "intellectual", "mental", "multiple")

# household type: (name, share urban, share rural)
HOUSEHOLD_TYPES = (
    ("elderly_single", 0.09, 0.13),
    ("elderly_couple", 0.12, 0.16),
    ("single_adult", 0.19, 0.14),
    ("couple", 0.13, 0.11),
    ("couple_kids", 0.30, 0.24),
    ("three_gen", 0.10, 0.12),
    ("single_parent", 0.05, 0.04),
    ("skipped_gen", 0.02, 0.06),
)
NON_LOCAL_BIRTH_CODES = np.array(
    ["510322", "522121", "411324", "341221", "430524", "362429", "330106", "330205"]
)


@dataclass
class Population:
    """All persons and households that ever live in the county during the run."""

    # persons
    hh0: np.ndarray  # household at entry
    hh1: np.ndarray  # household after the split (-1 if none)
    move_month: np.ndarray  # month the split takes effect (NEVER if none)
    start: np.ndarray  # first month present (birth, arrival, or first burn-in month)
    end: np.ndarray  # first month absent (death or departure; NEVER if none)
    exit_kind: np.ndarray  # 0 none, 1 death, 2 out-migration
    birth: np.ndarray  # true birth date, datetime64[D]
    male: np.ndarray
    relation: np.ndarray
    edu: np.ndarray
    work: np.ndarray
    wage: np.ndarray  # monthly earnings at month 0 prices while working
    formal_pension: np.ndarray  # employee pension once retired (0 = resident pension only)
    chronic: np.ndarray
    dis_grade0: np.ndarray  # disability grade held at entry, 0 = none
    dis_type0: np.ndarray
    school_leave_age: np.ndarray
    # households
    village: np.ndarray
    township: np.ndarray
    urban: np.ndarray
    hukou: np.ndarray
    hh_start: np.ndarray
    z: np.ndarray  # latent resilience (no agency sees it)
    sigma: np.ndarray  # month-to-month income volatility (log scale)
    job_instability: np.ndarray  # latent multiplier of the job-loss hazard
    frailty: np.ndarray  # latent multiplier of the serious-illness hazard
    other_income: np.ndarray  # rent, dividends and other small incomes, CNY/month
    support: np.ndarray  # informal transfers from relatives elsewhere, CNY/month
    illness_oop: np.ndarray  # monthly out-of-pocket cost while a serious illness lasts
    propensity: np.ndarray  # base propensity to apply for assistance
    has_supporter: np.ndarray  # a legal supporter able to pay lives elsewhere
    vehicle_value: np.ndarray
    n_property: np.ndarray
    business: np.ndarray
    deposits: np.ndarray
    relocated: np.ndarray
    origin_village: np.ndarray
    month0: np.datetime64  # the calendar month of month index 0

    @property
    def n_persons(self) -> int:
        return len(self.hh0)

    @property
    def n_households(self) -> int:
        return len(self.village)

    def household_at(self, m: int) -> np.ndarray:
        """Each person's household in month m (meaningful where :meth:`present` holds)."""
        return np.where(m >= self.move_month, self.hh1, self.hh0)

    def present(self, m: int) -> np.ndarray:
        return (self.start <= m) & (m < self.end)

    def age(self, m: int) -> np.ndarray:
        """Age in whole years on the first day of month m."""
        day = (self.month0.astype("datetime64[M]") + m).astype("datetime64[D]")
        return ((day - self.birth).astype(np.int64) // 365.25).astype(np.int16)


def _choice(rng: np.random.Generator, p: np.ndarray, size: int) -> np.ndarray:
    return rng.choice(len(p), size=size, p=p / p.sum())


def _new_households(
    rng: np.random.Generator, geo: Geography, n: int, month: int, month0: np.datetime64
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Draw ``n`` new households and their members as of ``month``."""
    vill = geo.villages
    v_idx = _choice(rng, vill["weight"].to_numpy(), n)
    urban = vill["urban"].to_numpy()[v_idx]
    remote = vill["remoteness"].to_numpy()[v_idx]
    shares = np.array([[u, r] for _, u, r in HOUSEHOLD_TYPES])
    kind = np.where(
        urban,
        _choice(rng, shares[:, 0], n),
        _choice(rng, shares[:, 1], n),
    )
    hk = np.where(
        urban,
        _choice(rng, np.array([0.15, 0.70, 0.15]), n),
        _choice(rng, np.array([0.90, 0.03, 0.07]), n),
    ).astype(np.int8)
    hid = np.arange(n)
    members: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []  # hh, age, male, rel

    def add(mask: np.ndarray, age: np.ndarray, male: np.ndarray, rel: str) -> None:
        members.append((hid[mask], age[mask], male[mask], np.full(mask.sum(), REL[rel])))

    u = rng.random
    k = kind
    head_age = np.select(
        [k == 0, k == 1, k == 2, k == 3, k == 4, k == 5, k == 6, k == 7],
        [
            rng.uniform(65, 96, n),
            rng.uniform(60, 90, n),
            rng.uniform(20, 60, n),
            rng.uniform(22, 60, n),
            rng.uniform(25, 52, n),
            rng.uniform(30, 55, n),
            rng.uniform(25, 52, n),
            rng.uniform(55, 80, n),
        ],
    )
    couple = np.isin(k, [1, 3, 4, 5]) | ((k == 7) & (u(n) < 0.6))
    head_male = np.where(couple, u(n) < 0.9, u(n) < 0.5)
    add(np.ones(n, bool), head_age, head_male, "head")
    spouse_age = np.clip(head_age + rng.normal(-2, 3, n), 18, 99)
    add(couple, spouse_age, ~head_male, "spouse")
    has_kids = np.isin(k, [4, 5, 6])
    n_kids = np.where(has_kids, 1 + (u(n) < 0.45), 0)
    for j in range(2):
        mask = n_kids > j
        age = rng.uniform(0, 1, n) * np.clip(np.minimum(head_age, spouse_age) - 21, 1, 24)
        add(mask, age, u(n) < 0.52, "child")
    n_par = np.where(k == 5, 1 + (u(n) < 0.5), 0)
    for j in range(2):
        mask = n_par > j
        add(mask, np.clip(head_age + rng.uniform(24, 32, n), 50, 99), np.full(n, j == 0), "parent")
    n_gc = np.where(k == 7, 1 + (u(n) < 0.4), 0)
    for j in range(2):
        mask = n_gc > j
        add(mask, rng.uniform(2, 15, n), u(n) < 0.55, "grandchild")

    p_hh = np.concatenate([m[0] for m in members])
    p_age = np.concatenate([m[1] for m in members])
    p_male = np.concatenate([m[2] for m in members])
    p_rel = np.concatenate([m[3] for m in members]).astype(np.int8)
    order = np.lexsort((p_rel, p_hh))
    p_hh, p_age, p_male, p_rel = p_hh[order], p_age[order], p_male[order], p_rel[order]
    P = len(p_hh)
    day0 = (month0.astype("datetime64[M]") + month).astype("datetime64[D]")
    birth = (
        day0
        - (p_age * 365.25).astype("timedelta64[D]")
        - rng.integers(0, 30, P).astype("timedelta64[D]")
    )
    byear = birth.astype("datetime64[Y]").astype(int) + 1970
    p_urban = urban[p_hh]

    # education by cohort and area
    cohort = np.clip((byear - 1930) / 70, 0, 1)
    score = rng.normal(0, 1, P) + 2.2 * cohort + 0.6 * p_urban - 0.3 * (~p_male) * (1 - cohort)
    edu = np.digitize(score, [0.2, 1.0, 1.9, 2.6]).astype(np.int8)

    leave = np.select(
        [u(P) < 0.05, u(P) < 0.35],
        [rng.uniform(13, 16, P), 15.5 + rng.uniform(0, 0.5, P)],
        default=np.where(u(P) < 0.55, 22.0, 18.5),
    )
    # children's eventual schooling decides the work they take up once they leave school
    edu = np.where(p_age < 16, np.digitize(leave, [15.9, 18.4, 21.9]) + 1, edu).astype(np.int8)
    adult = np.ones(P, bool)  # work type as an adult; age decides whether it applies in a month
    r = u(P)
    p_formal = np.clip(0.12 + 0.12 * edu + 0.15 * p_urban, 0, 0.85)
    work = np.select(
        [
            ~adult,
            r < p_formal,
            r < p_formal + 0.08,
            r < p_formal + 0.08 + np.where(p_urban, 0.12, 0.30),
            r < p_formal + 0.08 + np.where(p_urban, 0.12, 0.30) + 0.08 * (~p_male),
        ],
        [W_NONE, W_FORMAL, W_SELF, W_INFORMAL, W_NONE],
        default=W_FARMER,
    ).astype(np.int8)
    work = np.where(adult & (work == W_FARMER) & p_urban, W_INFORMAL, work).astype(np.int8)
    base_wage = np.array([3500, 4200, 5200, 6400, 9000])[edu]
    mult = np.select(
        [work == W_FORMAL, work == W_SELF, work == W_INFORMAL, work == W_FARMER],
        [1.0, 1.15, 0.85, 0.75],
        default=0.0,
    )
    spread = np.where(work == W_FORMAL, 0.30, np.where(work == W_SELF, 0.55, 0.45))
    wage = (
        base_wage
        * mult
        * np.where(p_urban, 1.12, 1.0)
        * np.exp(rng.normal(-(spread**2) / 2, spread))
    )
    # pensions: employee pension for those with a formal work history
    formal_hist = np.where(work == W_FORMAL, True, u(P) < np.where(p_urban, 0.55, 0.12))
    formal_pension = np.where(formal_hist, 3600 * np.exp(rng.normal(-0.045, 0.3, P)), 0.0).astype(
        np.float32
    )

    chronic = u(P) < np.clip(0.02 + 0.006 * np.maximum(p_age - 40, 0), 0, 0.45)
    p_dis = np.clip(0.008 + 0.0011 * np.maximum(p_age - 30, 0), 0, 0.12)
    dis = u(P) < p_dis
    dis_grade = np.where(dis, _choice(rng, np.array([0.12, 0.22, 0.30, 0.36]), P) + 1, 0)
    dis_type = _choice(rng, np.array([0.14, 0.22, 0.02, 0.36, 0.08, 0.09, 0.09]), P)

    # household latent traits
    z = rng.normal(0, 1, n)
    elderly = np.isin(k, [0, 1])
    working0 = (p_age >= 16) & (p_age < 62) & (p_age >= leave)
    vol = ((work == W_FARMER) | (work == W_INFORMAL)) & working0
    farm_share = np.bincount(p_hh, weights=vol, minlength=n)
    earners = np.bincount(p_hh, weights=(work > 0) & working0, minlength=n)
    volatile = np.where(earners > 0, farm_share / np.maximum(earners, 1), 0.0)
    sigma = 0.005 + 0.01 * volatile + 0.005 * u(n)
    # latent vulnerability: some households lose jobs or fall ill far more often than others
    job_instability = np.exp(rng.normal(-0.08, 0.4, n))
    frailty = np.exp(rng.normal(-0.08, 0.4, n))
    # rent, village collective dividends and other small incomes
    other_income = np.where(urban, 200, 350) * np.exp(rng.normal(0, 0.5, n))
    support = np.where(
        elderly | (k == 7),
        np.where(u(n) < 0.85, 1700 * np.exp(rng.normal(0, 0.5, n) + 0.3 * z), 0),
        np.where(u(n) < 0.15, 300 * np.exp(rng.normal(0, 0.5, n)), 0),
    )
    illness_oop = 1200 * np.exp(rng.normal(-0.18, 0.6, n))
    propensity = np.exp(rng.normal(0, 0.5, n)) * (1 - 0.6 * remote)
    has_supporter = np.where(elderly, u(n) < 0.7, True)
    hh_income = np.bincount(p_hh, weights=wage * working0, minlength=n)
    rich = np.log1p(hh_income) + 0.3 * z
    vehicle_value = np.where(
        u(n) < 1 / (1 + np.exp(-(rich - 8.3) * 1.5)), 60000 * np.exp(rng.normal(0, 0.6, n)), 0
    )
    n_property = np.where(u(n) < 0.92, 1, 0) + (u(n) < 1 / (1 + np.exp(-(rich - 9.0) * 1.5)))
    business = np.bincount(p_hh, weights=(work == W_SELF) & working0, minlength=n) > 0
    deposits = np.exp(rng.normal(np.log1p(hh_income) + 1.2 + 0.5 * z, 1.0, n)) * (hh_income > 0)
    deposits = deposits + np.where(elderly, 20000 * np.exp(rng.normal(0, 1, n)), 0)
    relocated = (~urban) & (u(n) < 0.03)
    rural_v = np.flatnonzero(~vill["urban"].to_numpy())
    origin = np.where(relocated, rng.choice(rural_v, n), -1)

    persons = {
        "hh": p_hh,
        "birth": birth,
        "male": p_male,
        "relation": p_rel,
        "edu": edu,
        "work": work,
        "wage": wage.astype(np.float32),
        "formal_pension": formal_pension,
        "chronic": chronic,
        "dis_grade0": dis_grade.astype(np.int8),
        "dis_type0": dis_type.astype(np.int8),
        "school_leave_age": leave.astype(np.float32),
    }
    households = {
        "village": v_idx.astype(np.int32),
        "township": vill["township_idx"].to_numpy()[v_idx].astype(np.int16),
        "urban": urban,
        "hukou": hk,
        "z": z.astype(np.float32),
        "sigma": sigma.astype(np.float32),
        "job_instability": job_instability.astype(np.float32),
        "frailty": frailty.astype(np.float32),
        "other_income": other_income.astype(np.float32),
        "support": support.astype(np.float32),
        "illness_oop": illness_oop.astype(np.float32),
        "propensity": propensity.astype(np.float32),
        "has_supporter": has_supporter,
        "vehicle_value": vehicle_value.astype(np.float32),
        "n_property": n_property.astype(np.int8),
        "business": business,
        "deposits": deposits.astype(np.float32),
        "relocated": relocated,
        "origin_village": origin.astype(np.int32),
    }
    return persons, households


def annual_mortality(age: np.ndarray) -> np.ndarray:
    """Gompertz-like annual death probability by age (roughly a Chinese life table)."""
    return np.clip(np.exp(-10.3 + 0.094 * age) + 0.0004, 0, 0.6)


def build_population(
    geo: Geography,
    households: int,
    first_month: int,
    last_month: int,
    month0: np.datetime64,
    rng: np.random.Generator,
) -> Population:
    """Draw the initial county and its demographic schedule over ``first_month..last_month``."""
    p, h = _new_households(rng, geo, households, first_month, month0)
    H_parts = [h]
    n_h = households
    starts_p = [np.full(len(p["hh"]), first_month, np.int16)]
    starts_h = [np.full(households, first_month, np.int16)]
    # demographic schedule, month by month in calendar order
    hh_cur = p["hh"].copy()
    cat = {k: v for k, v in p.items()}
    start = starts_p[0]
    end = np.full(len(hh_cur), NEVER, np.int16)
    exit_kind = np.zeros(len(hh_cur), np.int8)
    hh1 = np.full(len(hh_cur), -1, np.int32)
    move = np.full(len(hh_cur), NEVER, np.int16)
    hh_gone = np.zeros(n_h, bool)
    for m in range(first_month + 1, last_month + 1):
        alive = (start <= m - 1) & (end == NEVER)
        day = (month0.astype("datetime64[M]") + m).astype("datetime64[D]")
        age = (day - cat["birth"]).astype(np.int64) / 365.25
        # deaths
        q = annual_mortality(age) * np.where(np.isin(cat["dis_grade0"], [1, 2]), 1.8, 1.0)
        q = np.minimum(q * np.where(cat["chronic"], 1.3, 1.0), 0.95)
        die = alive & (rng.random(len(age)) < 1 - (1 - q) ** (1 / 12))
        end[die] = m
        exit_kind[die] = 1
        alive &= ~die
        cur = np.where(m >= move, hh1, cat["hh"])
        # out-migration of whole households
        leave_h = (~hh_gone) & (rng.random(n_h) < 0.0004)
        gone_p = alive & leave_h[cur]
        end[gone_p] = m
        exit_kind[gone_p] = 2
        alive &= ~gone_p
        hh_gone |= leave_h
        hh_gone |= np.bincount(cur[alive], minlength=n_h) == 0
        # splits: unmarried adult children leave to found their own household
        eligible = alive & (cat["relation"] == REL["child"]) & (age >= 22) & (age < 35)
        eligible &= move == NEVER
        split = eligible & (rng.random(len(age)) < 0.004)
        new_ids = n_h + np.arange(split.sum())
        hh1[split] = new_ids
        move[split] = m
        if split.any():
            src = cur[split]
            H_all = _concat(H_parts)
            nh = {k: v[src].copy() for k, v in H_all.items()}
            nh["support"][:] = 0
            nh["other_income"] = (nh["other_income"] * 0.5).astype(np.float32)
            nh["relocated"][:] = False
            nh["origin_village"][:] = -1
            nh["z"] = (0.6 * nh["z"] + 0.8 * rng.normal(0, 1, len(src))).astype(np.float32)
            nh["has_supporter"][:] = True
            nh["vehicle_value"][:] = 0
            nh["n_property"][:] = (rng.random(len(src)) < 0.4).astype(np.int8)
            nh["business"][:] = False
            nh["deposits"] = (nh["deposits"] * 0.1).astype(np.float32)
            H_parts.append(nh)
            starts_h.append(np.full(len(src), m, np.int16))
            n_h += len(src)
            hh_gone = np.concatenate([hh_gone, np.zeros(len(src), bool)])
        # births to couples with the wife aged 20-40
        wife = alive & ~cat["male"] & (age >= 20) & (age < 41)
        wife &= np.isin(cat["relation"], [REL["head"], REL["spouse"]])
        birth_p = wife & (rng.random(len(age)) < 0.0035)
        # in-migration: new households arrive
        n_in = rng.poisson(households * 0.0004)
        if birth_p.any() or n_in:
            nb = int(birth_p.sum())
            mother_hh = cur[birth_p]
            babies = {
                "hh": mother_hh,
                "birth": np.full(nb, day, "datetime64[D]")
                + rng.integers(0, 28, nb).astype("timedelta64[D]"),
                "male": rng.random(nb) < 0.52,
                "relation": np.full(nb, REL["child"], np.int8),
                "edu": np.zeros(nb, np.int8),
                "work": np.zeros(nb, np.int8),
                "wage": np.zeros(nb, np.float32),
                "formal_pension": np.where(rng.random(nb) < 0.4, 3300.0, 0).astype(np.float32),
                "chronic": np.zeros(nb, bool),
                "dis_grade0": np.zeros(nb, np.int8),
                "dis_type0": np.zeros(nb, np.int8),
                "school_leave_age": np.where(rng.random(nb) < 0.6, 22.0, 18.5).astype(np.float32),
            }
            babies["birth"] = np.minimum(babies["birth"], day + np.timedelta64(27, "D"))
            parts = [babies]
            if n_in:
                pi, hi = _new_households(rng, geo, n_in, m, month0)
                pi["hh"] = pi["hh"] + n_h
                parts.append(pi)
                H_parts.append(hi)
                starts_h.append(np.full(n_in, m, np.int16))
                n_h += n_in
                hh_gone = np.concatenate([hh_gone, np.zeros(n_in, bool)])
            for part in parts:
                k_new = len(part["hh"])
                cat = {k: np.concatenate([cat[k], part[k]]) for k in cat}
                start = np.concatenate([start, np.full(k_new, m, np.int16)])
                end = np.concatenate([end, np.full(k_new, NEVER, np.int16)])
                exit_kind = np.concatenate([exit_kind, np.zeros(k_new, np.int8)])
                hh1 = np.concatenate([hh1, np.full(k_new, -1, np.int32)])
                move = np.concatenate([move, np.full(k_new, NEVER, np.int16)])
    H = _concat(H_parts)
    return Population(
        hh0=cat["hh"].astype(np.int32),
        hh1=hh1,
        move_month=move,
        start=start,
        end=end,
        exit_kind=exit_kind,
        birth=cat["birth"],
        male=cat["male"],
        relation=cat["relation"],
        edu=cat["edu"],
        work=cat["work"],
        wage=cat["wage"],
        formal_pension=cat["formal_pension"],
        chronic=cat["chronic"],
        dis_grade0=cat["dis_grade0"],
        dis_type0=cat["dis_type0"],
        school_leave_age=cat["school_leave_age"],
        hh_start=np.concatenate(starts_h),
        month0=month0.astype("datetime64[M]"),
        **H,
    )


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def persons_frame(pop: Population) -> pd.DataFrame:
    """The static person attributes as a table (for the truth files)."""
    return pd.DataFrame(
        {
            "person_id": np.arange(pop.n_persons, dtype=np.int64),
            "household_id_at_entry": pop.hh0,
            "household_id_after_split": pop.hh1,
            "split_month": pop.move_month,
            "first_month": pop.start,
            "end_month": pop.end,
            "exit_kind": pd.Categorical.from_codes(pop.exit_kind, ["none", "death", "emigration"]),
            "birth_date": pop.birth,
            "sex": np.where(pop.male, "M", "F"),
            "relation_at_entry": pd.Categorical.from_codes(pop.relation, RELATIONS),
            "education": pd.Categorical.from_codes(pop.edu, EDUCATION),
            "work": pd.Categorical.from_codes(pop.work, WORK),
            "wage": pop.wage,
            "chronic_condition": pop.chronic,
            "disability_grade_at_entry": pop.dis_grade0,
        }
    )
