"""Compiled forward pass for ``p_onset_6m`` (numba): the same arithmetic as ``risk._step``.

One household at a time, all 192 chain-and-history states in registers and cache, households in
parallel; only the moves the chains allow are multiplied (``economy.month_economy`` builds the
transition matrices with zeros elsewhere, and the test against the array version would catch a
new move). ``risk.onset_probability_reference`` keeps the array version; a test checks that the
two agree.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def onset_kernel(
    households: np.ndarray,  # [n] household positions in the tables
    slots: np.ndarray,  # [6] table slots of months t+1..t+6, in order
    k0: np.ndarray,  # [n] shock state at t
    j0: np.ndarray,  # [n] job state
    i0: np.ndarray,  # [n] illness state
    d0: np.ndarray,  # [n] disability onset
    s0: np.ndarray,  # [n] months since hardship (0..3)
    tj: np.ndarray,  # [slot, H, K, 3, 3] job transitions given the new shock state
    ti: np.ndarray,  # [slot, H, 4, 4] illness transitions
    hd: np.ndarray,  # [slot, H] disability-onset hazard
    h: np.ndarray,  # [slot, H, K, J, I, D] probability of hardship
    shock_on: float,
    shock_off: float,
) -> np.ndarray:
    n = k0.shape[0]
    out = np.zeros(n)
    tk = np.array([[1 - shock_on, shock_on], [shock_off, 1 - shock_off]])
    for r in prange(n):
        x = households[r]
        mass = np.zeros((2, 3, 4, 2, 4))
        a = np.zeros((2, 3, 4, 2, 4))
        mass[k0[r], j0[r], i0[r], d0[r], s0[r]] = 1.0
        p = 0.0
        for m in slots:
            # township shock
            for k2 in range(2):
                for j in range(3):
                    for i in range(4):
                        for d in range(2):
                            for s in range(4):
                                a[k2, j, i, d, s] = (
                                    mass[0, j, i, d, s] * tk[0, k2]
                                    + mass[1, j, i, d, s] * tk[1, k2]
                                )
            # job chain given the new shock state (only the possible moves)
            for k in range(2):
                t00, t01 = tj[m, x, k, 0, 0], tj[m, x, k, 0, 1]
                t10, t11, t12 = tj[m, x, k, 1, 0], tj[m, x, k, 1, 1], tj[m, x, k, 1, 2]
                t20, t22 = tj[m, x, k, 2, 0], tj[m, x, k, 2, 2]
                for i in range(4):
                    for d in range(2):
                        for s in range(4):
                            a0 = a[k, 0, i, d, s]
                            a1 = a[k, 1, i, d, s]
                            a2 = a[k, 2, i, d, s]
                            mass[k, 0, i, d, s] = a0 * t00 + a1 * t10 + a2 * t20
                            mass[k, 1, i, d, s] = a0 * t01 + a1 * t11
                            mass[k, 2, i, d, s] = a1 * t12 + a2 * t22
            # illness chain (only the possible moves)
            u00, u01 = ti[m, x, 0, 0], ti[m, x, 0, 1]
            u10, u11, u12, u13 = ti[m, x, 1, 0], ti[m, x, 1, 1], ti[m, x, 1, 2], ti[m, x, 1, 3]
            u20, u22, u30, u33 = ti[m, x, 2, 0], ti[m, x, 2, 2], ti[m, x, 3, 0], ti[m, x, 3, 3]
            for k in range(2):
                for j in range(3):
                    for d in range(2):
                        for s in range(4):
                            b0 = mass[k, j, 0, d, s]
                            b1 = mass[k, j, 1, d, s]
                            b2 = mass[k, j, 2, d, s]
                            b3 = mass[k, j, 3, d, s]
                            a[k, j, 0, d, s] = b0 * u00 + b1 * u10 + b2 * u20 + b3 * u30
                            a[k, j, 1, d, s] = b0 * u01 + b1 * u11
                            a[k, j, 2, d, s] = b1 * u12 + b2 * u22
                            a[k, j, 3, d, s] = b1 * u13 + b3 * u33
            # disability onset (absorbing), hardship and history
            q = hd[m, x]
            for k in range(2):
                for j in range(3):
                    for i in range(4):
                        for d2 in range(2):
                            if d2 == 0:
                                w0, w1 = 1.0 - q, 0.0
                            else:
                                w0, w1 = q, 1.0
                            v0 = a[k, j, i, 0, 0] * w0 + a[k, j, i, 1, 0] * w1
                            v1 = a[k, j, i, 0, 1] * w0 + a[k, j, i, 1, 1] * w1
                            v2 = a[k, j, i, 0, 2] * w0 + a[k, j, i, 1, 2] * w1
                            v3 = a[k, j, i, 0, 3] * w0 + a[k, j, i, 1, 3] * w1
                            hh = h[m, x, k, j, i, d2]
                            p += v3 * hh
                            stay = 1.0 - hh
                            mass[k, j, i, d2, 0] = (v0 + v1 + v2) * hh
                            mass[k, j, i, d2, 1] = v0 * stay
                            mass[k, j, i, d2, 2] = v1 * stay
                            mass[k, j, i, d2, 3] = (v2 + v3) * stay
        out[r] = p
    return out


@njit(cache=True, parallel=True)
def hardship_kernel(
    base: np.ndarray,  # [n, 10]: members, earnings, income, rigid, primary_wage, primary_formal,
    #                   shock_share, illness_oop, sigma, q_adm
    consts: np.ndarray,  # see economy.kernel_constants()
) -> np.ndarray:
    """``economy.effective`` + ``economy.hardship_probability`` for all 48 chain states, fused.

    Returns P(hardship) as [n, K, J, I, D]. A test checks it against the array version.
    """
    (
        standard,
        benefit,
        cushion_loss,
        ill_loss,
        dis_wage_loss,
        early_share,
        cat_cost,
        cat_income_share,
        dis_cost,
        admission_cost,
    ) = (
        consts[0],
        consts[1],
        consts[2],
        consts[3],
        consts[4],
        consts[5],
        consts[6],
        consts[7],
        consts[8],
        consts[9],
    )
    n = base.shape[0]
    out = np.zeros((n, 2, 3, 4, 2), np.float32)
    root2 = math.sqrt(2.0)
    for x in prange(n):
        members = base[x, 0]
        if members <= 0:
            continue
        earn, income0, rigid0, pw = base[x, 1], base[x, 2], base[x, 3], base[x, 4]
        formal, shock, oop, sg, q = base[x, 5], base[x, 6], base[x, 7], base[x, 8], base[x, 9]
        half_var = sg * sg / 2
        for k in range(2):
            for j in range(3):
                for i in range(4):
                    for d in range(2):
                        loss = 0.0
                        if j == 1:
                            loss += cushion_loss * pw
                        elif j == 2:
                            loss += pw
                        if i >= 2:
                            loss += ill_loss * earn
                        loss += d * dis_wage_loss * pw + k * shock * earn
                        if loss > earn:
                            loss = earn
                        income = income0 - loss
                        if j == 2 and formal > 0:
                            income += benefit
                        cost = 0.0
                        if i == 1:
                            cost = early_share
                        elif i == 2:
                            cost = 1.0
                        elif i == 3:
                            cost = cat_cost
                        rigid = rigid0 + cost * oop + d * dis_cost
                        if i == 3:
                            rigid += cat_income_share * income0
                        if income <= 0:
                            out[x, k, j, i, d] = 1.0
                            continue
                        need = standard * members + rigid
                        z0 = (math.log(need / income) + half_var) / sg
                        z1 = (math.log((need + admission_cost) / income) + half_var) / sg
                        p0 = 0.5 * math.erfc(-z0 / root2)
                        p1 = 0.5 * math.erfc(-z1 / root2)
                        out[x, k, j, i, d] = (1 - q) * p0 + q * p1
    return out
