"""p_onset_6m is exact: it matches Monte-Carlo replays of the simulator's own months."""

from __future__ import annotations

import copy

import numpy as np

from simulator.config import build_config
from simulator.risk import HORIZON
from simulator.simulation import build_world
from simulator.streams import Streams


def test_p_onset_matches_replays_of_the_next_six_months(params):
    config = build_config(households=250, months=12, seed=11)
    world, pop, _ = build_world(config, params)
    t = 1
    for m in range(-config.burn_in_months, t + 1):
        world.step(m, deliver=False)
    idx = np.flatnonzero(world.economy_of(t).n > 0)
    p = world.risk_at(t, idx)
    replays = 400
    hits = np.zeros(len(idx))
    for r in range(replays):
        w = copy.deepcopy(world)
        w.streams = Streams(10_000 + r)  # another future from the same state
        any_onset = np.zeros(pop.n_households, bool)
        for k in range(1, HORIZON + 1):
            w.step(t + k, deliver=False)
            any_onset |= w.onset
        hits += any_onset[idx]
    freq = hits / replays
    # aggregate: the mean risk is reproduced within 3 standard errors
    se = np.sqrt((p * (1 - p)).sum()) / replays / len(idx) * np.sqrt(replays)
    assert abs(freq.mean() - p.mean()) < 3 * se + 1e-4
    # per household: standardized differences behave like N(0, 1)
    sd = np.sqrt(np.maximum(p * (1 - p), 1e-4) / replays)
    zscores = (freq - p) / sd
    assert np.mean(np.abs(zscores) > 3.5) < 0.01
    assert np.sqrt(np.mean(zscores**2)) < 1.3
    # and the risk actually varies: the test is not passing on all-zero probabilities
    assert p.max() > 0.3 and (p > 0.05).sum() > 10


def test_compiled_kernel_equals_the_array_reference(params):
    from simulator.risk import onset_probability_reference

    config = build_config(households=200, months=12, seed=4)
    world, pop, _ = build_world(config, params)
    for m in range(-config.burn_in_months, 3):
        world.step(m, deliver=False)
    idx = np.flatnonzero(world.economy_of(2).n > 0)
    fast = world.risk_at(2, idx)
    future = [world.economy_of(2 + k) for k in range(1, HORIZON + 1)]
    states = [
        world.J[idx],
        world.I[idx],
        world.D[idx],
        world.K_town[pop.township[idx]],
        world.history[idx],
    ]
    slow = onset_probability_reference(future, idx, *[s.astype(np.int64) for s in states])
    assert np.abs(fast - slow).max() < 1e-5
    assert slow.max() > 0.05


def test_fused_hardship_table_equals_the_economy_functions(params):
    from simulator.risk import hardship_table

    config = build_config(households=300, months=12, seed=2)
    world, _, _ = build_world(config, params)
    for m in range(-config.burn_in_months, 1):
        world.step(m, deliver=False)
    e = world.economy_of(1)
    fast, slow = hardship_table(e), hardship_table(e, compiled=False)
    assert fast.shape == slow.shape
    assert fast.shape[1:] == (2, 3, 4, 2)
    assert np.abs(fast - slow).max() < 1e-6
    assert slow.max() == 1.0 and 0.0 < slow[:, 0, 0, 0, 0].mean() < 0.3
