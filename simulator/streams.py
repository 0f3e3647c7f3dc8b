"""Common random numbers: every draw of the world is keyed by (seed, month, purpose, entity).

A policy that visits one household must change nothing else in the county but what that visit
causes. With one sequential generator, any draw whose size depends on the state (the applicants
of a month, the records of an agency) shifts every later draw, so one extra visit would re-roll
every other household's job losses, illnesses and recording defects. Here a draw is a pure
function of its key instead: a counter-based generator (SplitMix64 finalizer over the key
words) turns (seed, month, purpose, call, entity) into a uniform. Two runs that differ by one
visit then give every other household the same draws, whatever order or subset they are asked
for in.

- :meth:`Streams.draws` gives a :class:`Draws` over explicit entity keys (household or person
  indices, record keys). Each method call on it is a new, independent sub-stream.
- Whole-county draws ask for every household or person (``keys=np.arange(H)``) and index the
  subset they need, so a subset never changes anyone else's values.
- :class:`Draws` offers the few ``numpy.random.Generator`` methods the simulator uses, with the
  same argument shapes, so helpers written for a Generator (``core.idnumber.mistype_ids``,
  ``simulator.names.name_variants``) take one unchanged.

Example:
    >>> s = Streams(0)
    >>> a = s.draws(5, "income", np.arange(4)).random()
    >>> b = s.draws(5, "income", np.array([2, 3])).random()
    >>> bool((a[2:] == b).all())
    True
"""

from __future__ import annotations

import hashlib

import numpy as np
from scipy.special import ndtri

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_TO_UNIT = 1.0 / float(1 << 53)


def mix64(x: np.ndarray) -> np.ndarray:
    """The SplitMix64 finalizer: a bijective avalanche of 64-bit words (wrapping arithmetic)."""
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def word(text: str) -> int:
    """A stable 64-bit word for a purpose name (the same on every machine and Python)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def combine(*words: np.ndarray | int) -> np.ndarray:
    """One key word from several (order matters); arrays broadcast."""
    acc = np.uint64(0x243F6A8885A308D3)
    with np.errstate(over="ignore"):
        for w in words:
            acc = mix64(np.asarray(acc, np.uint64) ^ np.asarray(w, dtype=np.uint64))
    return acc


class Draws:
    """Keyed draws for a fixed set of entities; each method call is a new sub-stream.

    Args:
        base: the key word of (seed, month, purpose).
        keys: one uint64-convertible key per entity (the same entity always gets the same key).
    """

    def __init__(self, base: int, keys: np.ndarray):
        self.base = np.uint64(base)
        self.keys = mix64(np.asarray(keys).astype(np.uint64, copy=False) ^ self.base)
        self.calls = 0

    def __len__(self) -> int:
        return len(self.keys)

    def _bits(self, size) -> np.ndarray:
        self.calls += 1
        call = mix64(self.base ^ np.uint64(self.calls))
        n = len(self.keys)
        shape = (n,) if size is None else ((size,) if np.isscalar(size) else tuple(size))
        if shape[0] != n:
            raise ValueError(f"keyed draws come one per entity: asked for {shape}, have {n}")
        if len(shape) == 1:
            return mix64(self.keys ^ call)
        extra = int(np.prod(shape[1:]))
        lanes = mix64(call + np.arange(extra, dtype=np.uint64))
        return mix64(self.keys[:, None] ^ lanes[None, :]).reshape(shape)

    def random(self, size=None) -> np.ndarray:
        """Uniforms on [0, 1), one per entity (or ``(n, k)`` for a tuple size)."""
        return (self._bits(size) >> np.uint64(11)).astype(np.float64) * _TO_UNIT

    def uniform(self, low=0.0, high=1.0, size=None) -> np.ndarray:
        return low + (np.asarray(high) - low) * self.random(size)

    def integers(self, low, high=None, size=None) -> np.ndarray:
        """Integers in [low, high) (or [0, low) with one bound), like ``Generator.integers``."""
        if high is None:
            low, high = 0, low
        span = np.asarray(high, np.int64) - np.asarray(low, np.int64)
        return (np.asarray(low, np.int64) + np.floor(self.random(size) * span)).astype(np.int64)

    def normal(self, loc=0.0, scale=1.0, size=None) -> np.ndarray:
        u = np.clip(self.random(size), 1e-16, 1 - 1e-16)
        return np.asarray(loc) + np.asarray(scale) * ndtri(u)

    def lognormal(self, mean=0.0, sigma=1.0, size=None) -> np.ndarray:
        return np.exp(self.normal(mean, sigma, size))

    def exponential(self, scale=1.0, size=None) -> np.ndarray:
        return -np.asarray(scale) * np.log1p(-self.random(size))

    def poisson(self, lam, size=None, cap: int = 200) -> np.ndarray:
        """Poisson counts by inversion (small means; counts stop at ``cap``)."""
        u = self.random(size)
        lam = np.broadcast_to(np.asarray(lam, float), u.shape)
        k = np.zeros(u.shape, np.int64)
        p = np.exp(-lam)
        cdf = p.copy()
        for i in range(1, cap + 1):
            more = u > cdf
            if not more.any():
                break
            k += more
            p = p * lam / i
            cdf = cdf + p
        return k

    def choice(self, a: int, size=None, p=None) -> np.ndarray:
        """Indices in [0, a) with probabilities ``p`` (uniform without)."""
        if p is None:
            return self.integers(0, a, size)
        cdf = np.cumsum(np.asarray(p, float))
        cdf /= cdf[-1]
        return np.minimum(np.searchsorted(cdf, self.random(size), side="right"), a - 1)


class Streams:
    """The world's keyed random streams for one seed.

    Month numbers are the simulator's (negative in the burn-in); ``m=None`` keys draws that
    belong to no month (the delivery calendar).
    """

    def __init__(self, seed: int):
        self.seed = int(seed)

    def base(self, m: int | None, purpose: str) -> int:
        month = (1 << 40) if m is None else int(m) + (1 << 20)
        return int(combine(self.seed, month, word(purpose)))

    def draws(self, m: int | None, purpose: str, keys: np.ndarray) -> Draws:
        """Draws for ``keys`` (household or person indices, record keys) in month ``m``."""
        return Draws(self.base(m, purpose), keys)

    def each(self, m: int | None, purpose: str, n: int) -> Draws:
        """Draws for entities ``0 .. n-1`` (every household, every person, every township)."""
        return Draws(self.base(m, purpose), np.arange(n, dtype=np.uint64))
