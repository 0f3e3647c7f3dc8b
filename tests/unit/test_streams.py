"""Keyed random streams (simulator/streams.py): draws are functions of their keys."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.streams import Streams


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=50, unique=True), st.integers(0, 99))
def test_a_subset_of_entities_gets_the_same_draws(subset, month):
    s = Streams(11)
    everyone = s.each(month, "income_noise", 10_001)
    full = (everyone.random(), everyone.normal(0, 2), everyone.integers(0, 17))
    some = s.draws(month, "income_noise", np.array(subset))
    part = (some.random(), some.normal(0, 2), some.integers(0, 17))
    for f, p in zip(full, part, strict=True):
        np.testing.assert_array_equal(f[subset], p)


def test_purposes_months_and_seeds_are_independent_streams():
    a = Streams(0).each(3, "apply", 50_000).random()
    for other in (
        Streams(0).each(3, "visit", 50_000).random(),
        Streams(0).each(4, "apply", 50_000).random(),
        Streams(1).each(3, "apply", 50_000).random(),
    ):
        assert abs(np.corrcoef(a, other)[0, 1]) < 0.02


def test_draws_have_their_distributions():
    d = Streams(5).each(0, "check", 200_000)
    u = d.random()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.005
    z = d.normal(1.0, 2.0)
    assert abs(z.mean() - 1.0) < 0.02 and abs(z.std() - 2.0) < 0.02
    k = d.poisson(np.full(200_000, 1.7))
    assert abs(k.mean() - 1.7) < 0.02 and abs(k.var() - 1.7) < 0.04
    e = d.exponential(3.0)
    assert abs(e.mean() - 3.0) < 0.05
    c = d.choice(4, p=[0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(np.bincount(c) / len(c), [0.1, 0.2, 0.3, 0.4], atol=0.005)
    i = d.integers(1, 10)
    assert i.min() == 1 and i.max() == 9


def test_two_calls_are_two_streams_and_a_new_object_repeats_them():
    s = Streams(2)
    first = s.each(0, "x", 1000)
    a, b = first.random(), first.random()
    assert not np.array_equal(a, b)
    again = s.each(0, "x", 1000)
    np.testing.assert_array_equal(again.random(), a)
    assert again.random((1000, 2)).shape == (1000, 2)
