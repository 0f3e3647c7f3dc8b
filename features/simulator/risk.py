"""True risk: the exact probability of a hardship onset in the next six months.

For a household at month t, ``p_onset_6m`` is the probability that an onset (hardship in a month
and in none of the three before) happens in months t+1..t+6, given its full true state at t: the
four event chains (job loss J with three states, illness I with four, disability D,
township shock K), the months since its
last hardship, its latent traits and its demographic schedule. It is computed *before* months
t+1..t+6 are drawn, by a forward pass over the joint chain state (2x3x4x2) times the hardship
history (4 states), using the same hazards and the same closed-form monthly hardship probability
that the simulation then draws from. It defines the oracle: the best ranking any model can reach.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from features.simulator.economy import (
    SHOCK_OFF,
    SHOCK_ON,
    Economy,
    effective,
    hardship_probability,
)

HISTORY_STATES = 4  # months since last hardship: 0, 1, 2, 3 or more
HORIZON = 6
CHUNK = 50_000

_FIELDS = (
    "n", "earnings", "income", "rigid", "primary_wage", "primary_formal", "shock_share",
    "sigma", "illness_oop", "q_adm",
)
_B = (slice(None), None, None, None, None)
_J = np.arange(3).reshape(1, 1, 3, 1, 1)
_I = np.arange(4).reshape(1, 1, 1, 4, 1)
_D = np.arange(2).reshape(1, 1, 1, 1, 2)
_K = np.arange(2).reshape(1, 2, 1, 1, 1)
_TK = np.array([[1 - SHOCK_ON, SHOCK_ON], [SHOCK_OFF, 1 - SHOCK_OFF]])


def next_history(s: np.ndarray, hardship: np.ndarray) -> np.ndarray:
    """Months since the last hardship after this month (capped at 3)."""
    return np.where(hardship, 0, np.minimum(s + 1, 3)).astype(np.int8)


def _slice(e: Economy, idx: np.ndarray) -> Economy:
    return dataclasses.replace(e, **{f: getattr(e, f)[idx][_B] for f in _FIELDS})


def _step(mass: np.ndarray, e: Economy, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Advance the no-onset mass by one month; return it and this month's onset probability."""
    n = len(idx)
    mass = np.einsum("nkjids,kl->nljids", mass, _TK)  # township shock
    mass = np.einsum("nkjids,nkjl->nklids", mass, e.t_job[idx])  # job chain, given the shock
    mass = np.einsum("nkjids,nim->nkjmds", mass, e.t_ill[idx])
    hd = e.h_dis[idx]
    td = np.stack([np.stack([1 - hd, hd], 1), np.stack([np.zeros(n), np.ones(n)], 1)], 1)
    mass = np.einsum("nkjids,ndm->nkjims", mass, td)
    es = _slice(e, idx)
    income, rigid = effective(es, _J, _I, _D, _K)
    h = hardship_probability(es, income, rigid)  # (n, K, J, I, D)
    onset = np.einsum("nkjid,nkjid->n", mass[..., 3], h)
    new = np.empty_like(mass)
    stay = 1 - h
    new[..., 0] = (mass[..., 0] + mass[..., 1] + mass[..., 2]) * h
    new[..., 1] = mass[..., 0] * stay
    new[..., 2] = mass[..., 1] * stay
    new[..., 3] = (mass[..., 2] + mass[..., 3]) * stay
    return new, onset


def onset_probability(
    future: list[Economy],
    idx: np.ndarray,
    J: np.ndarray,
    I: np.ndarray,
    D: np.ndarray,
    K: np.ndarray,
    history: np.ndarray,
) -> np.ndarray:
    """P(onset in the months of ``future``) for households ``idx`` in the given states at t.

    ``J, I, D, K, history`` are the states at t of the households in ``idx`` (aligned with it);
    ``future`` holds the base economies of months t+1..t+6.
    """
    out = np.empty(len(idx))
    for lo in range(0, len(idx), CHUNK):
        sl = slice(lo, lo + CHUNK)
        ids = idx[sl]
        n = len(ids)
        mass = np.zeros((n, 2, 3, 4, 2, HISTORY_STATES))
        mass[np.arange(n), K[sl], J[sl], I[sl], D[sl], history[sl]] = 1.0
        p = np.zeros(n)
        for e in future:
            mass, onset = _step(mass, e, ids)
            p += onset
        out[sl] = p
    return np.clip(out, 0.0, 1.0)
