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

from simulator.economy import (
    SHOCK_OFF,
    SHOCK_ON,
    Economy,
    effective,
    hardship_probability,
    kernel_inputs,
)

HISTORY_STATES = 4  # months since last hardship: 0, 1, 2, 3 or more
HORIZON = 6
CHUNK = 25_000
DTYPE = np.float32

_FIELDS = (
    "n",
    "earnings",
    "income",
    "rigid",
    "primary_wage",
    "primary_formal",
    "shock_share",
    "sigma",
    "illness_oop",
    "q_adm",
)
_B = (slice(None), None, None, None, None)
_J = np.arange(3).reshape(1, 1, 3, 1, 1)
_I = np.arange(4).reshape(1, 1, 1, 4, 1)
_D = np.arange(2).reshape(1, 1, 1, 1, 2)
_K = np.arange(2).reshape(1, 2, 1, 1, 1)


def next_history(s: np.ndarray, hardship: np.ndarray) -> np.ndarray:
    """Months since the last hardship after this month (capped at 3)."""
    return np.where(hardship, 0, np.minimum(s + 1, 3)).astype(np.int8)


def hardship_table(e: Economy, compiled: bool = True) -> np.ndarray:
    """P(hardship) of every household in every chain state, [household, K, J, I, D].

    ``compiled`` runs the fused kernel; otherwise the array functions of ``economy`` (the
    definition the kernel is tested against).
    """
    if not compiled:
        sliced = dataclasses.replace(e, **{f: getattr(e, f)[_B] for f in _FIELDS})
        income, rigid = effective(sliced, _J, _I, _D, _K)
        return hardship_probability(sliced, income, rigid).astype(DTYPE)
    from simulator.risk_kernel import hardship_kernel

    return hardship_kernel(*kernel_inputs(e))


class RiskBuffer:
    """The next six months' transition and hardship tables, for the compiled forward pass.

    A month is added once (when its base economy is first computed) and used by the six windows
    that contain it.
    """

    SLOTS = HORIZON  # months t+1..t+6 fall in distinct slots

    def __init__(self, households: int):
        n = households
        self.tj = np.zeros((self.SLOTS, n, 2, 3, 3), DTYPE)
        self.ti = np.zeros((self.SLOTS, n, 4, 4), DTYPE)
        self.hd = np.zeros((self.SLOTS, n), DTYPE)
        self.h = np.zeros((self.SLOTS, n, 2, 3, 4, 2), DTYPE)
        self.months = np.full(self.SLOTS, -(10**6))

    def add(self, e: Economy) -> None:
        slot = e.month % self.SLOTS
        if self.months[slot] == e.month:
            return
        self.tj[slot] = e.t_job
        self.ti[slot] = e.t_ill
        self.hd[slot] = e.h_dis
        self.h[slot] = hardship_table(e)
        self.months[slot] = e.month

    def onset_probability(
        self,
        months: list[int],
        idx: np.ndarray,
        J: np.ndarray,
        I: np.ndarray,
        D: np.ndarray,
        K: np.ndarray,
        history: np.ndarray,
    ) -> np.ndarray:
        """P(onset in ``months``) for households ``idx`` in the given states (aligned with idx)."""
        from simulator.risk_kernel import onset_kernel

        slots = np.array([m % self.SLOTS for m in months], dtype=np.int64)
        if not all(self.months[s] == m for s, m in zip(slots, months, strict=True)):
            raise RuntimeError("risk buffer does not hold the requested months")
        out = onset_kernel(
            idx.astype(np.int64),
            slots,
            K.astype(np.int64),
            J.astype(np.int64),
            I.astype(np.int64),
            D.astype(np.int64),
            history.astype(np.int64),
            self.tj,
            self.ti,
            self.hd,
            self.h,
            SHOCK_ON,
            SHOCK_OFF,
        )
        return np.clip(out, 0.0, 1.0)


# non-zero transitions of the job (J) and illness (I) chains: (from, to)
_JOB_MOVES = ((0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 0), (2, 2))
_ILL_MOVES = ((0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (1, 3), (2, 0), (2, 2), (3, 0), (3, 3))


def _step(
    mass: np.ndarray, tj: np.ndarray, ti: np.ndarray, hd: np.ndarray, h: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Advance the no-onset mass [K, J, I, D, s, n] by one month; return it and P(onset).

    ``tj`` is [K, from, to, n], ``ti`` [from, to, n], ``hd`` [n], ``h`` [K, J, I, D, n].
    """
    k0 = mass[0] * (1 - SHOCK_ON) + mass[1] * SHOCK_OFF
    k1 = mass[0] * SHOCK_ON + mass[1] * (1 - SHOCK_OFF)
    mass = np.stack([k0, k1])
    job = np.zeros_like(mass)
    for k in (0, 1):
        for a, b in _JOB_MOVES:
            job[k, b] += mass[k, a] * tj[k, a, b]
    ill = np.zeros_like(mass)
    for a, b in _ILL_MOVES:
        ill[:, :, b] += job[:, :, a] * ti[a, b]
    d0 = ill[:, :, :, 0] * (1 - hd)
    d1 = ill[:, :, :, 1] + ill[:, :, :, 0] * hd
    mass = np.stack([d0, d1], axis=3)  # [K, J, I, D, s, n]
    onset = (mass[:, :, :, :, 3] * h).reshape(-1, h.shape[-1]).sum(axis=0, dtype=np.float64)
    stay = 1 - h
    out = np.empty_like(mass)
    out[:, :, :, :, 0] = (mass[:, :, :, :, 0] + mass[:, :, :, :, 1] + mass[:, :, :, :, 2]) * h
    out[:, :, :, :, 1] = mass[:, :, :, :, 0] * stay
    out[:, :, :, :, 2] = mass[:, :, :, :, 1] * stay
    out[:, :, :, :, 3] = (mass[:, :, :, :, 2] + mass[:, :, :, :, 3]) * stay
    return out, onset


def onset_probability_reference(
    future: list[Economy],
    idx: np.ndarray,
    J: np.ndarray,
    I: np.ndarray,
    D: np.ndarray,
    K: np.ndarray,
    history: np.ndarray,
) -> np.ndarray:
    """The same probability with array operations (slower; kept to check the kernel)."""
    tables = [
        np.ascontiguousarray(np.moveaxis(hardship_table(e, compiled=False), 0, -1)) for e in future
    ]
    moves = [
        (
            np.ascontiguousarray(np.moveaxis(e.t_job, 0, -1), dtype=DTYPE),
            np.ascontiguousarray(np.moveaxis(e.t_ill, 0, -1), dtype=DTYPE),
            e.h_dis.astype(DTYPE),
        )
        for e in future
    ]
    out = np.empty(len(idx))

    for lo in range(0, len(idx), CHUNK):
        sl = slice(lo, lo + CHUNK)
        ids = idx[sl]
        n = len(ids)
        mass = np.zeros((2, 3, 4, 2, HISTORY_STATES, n), DTYPE)
        mass[K[sl], J[sl], I[sl], D[sl], history[sl], np.arange(n)] = 1.0
        p = np.zeros(n)
        for (tj, ti, hd), table in zip(moves, tables, strict=True):
            mass, onset = _step(mass, tj[..., ids], ti[..., ids], hd[ids], table[..., ids])
            p += onset
        out[sl] = p
    return np.clip(out, 0.0, 1.0)
