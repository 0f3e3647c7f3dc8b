"""Visit priority and visit lists: who a caseworker should see first, and why.

Priority is not risk. A visit is worth most where hardship is likely *and* the household is
missing help it probably qualifies for, so the priority of a household is the expected value
of a visit under a documented, versioned formula (:data:`PRIORITY_VERSION`):

    priority = p_hardship x (1 + gap_value)
    gap_value = sum over program families of max(weight_p x g_p) within the family
    g_p = 1 for "likely qualifies, not receiving", 0.5 for "needs verification, not
          receiving", 0 otherwise

Families group programs that replace each other (a household gets one of 低保, 单人保, 特困 or
低保边缘), so a household is not counted twice for them. A household already receiving what it
qualifies for has gap_value 0 and ranks below an equally risky household that receives nothing it
qualifies for.

Lists are built per jurisdiction (township, or village), sized by caseworker capacity. A share
of each list (default 3 %) is drawn at random from the jurisdiction's households not otherwise
listed and marked as exploration, so that visit outcomes can be used as labels without only
confirming the model's own guesses. Everything here is a pure function of its inputs and a seed.

**Logged listings.** Every entry carries its ``selection_probability``: 1.0 for the ranked and
program-gap entries (deterministic given the scores), and for an exploration entry its inclusion
probability under the sampling design, exactly. The design, per list and month:

1. the number of exploration places ``n`` is ``size x share`` rounded stochastically (down or
   up, so that its expectation is exactly ``size x share``), by a keyed uniform of (seed, month,
   jurisdiction);
2. given ``n``, the pool (the listable households not ranked onto the list) is sampled by simple
   random sampling without replacement: the ``n`` households with the smallest keyed uniforms
   :func:`exploration_uniform` (blake2b of seed, as-of month, jurisdiction code and household key
   -> [0, 1)), so any engine that hashes the same draws the same households, and each month draws
   afresh. Each pool household is included with probability ``n / len(pool)``, which is what an
   exploration entry records (conditional on ``n``, as Horvitz-Thompson weighting needs; its
   expectation over months is ``size x share / len(pool)``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

PRIORITY_VERSION = "1.1"
"""Bumped whenever the formula, the weights, the families or who may be listed change
(1.1: discovery lists hold only the discovery population; enrolled households enter through the
marked program-gap path; :mod:`policies.population`)."""

GAP_CREDIT = {2: 1.0, 1: 0.5, 0: 0.0}
"""Credit per gap kind: 2 likely and not receiving, 1 needs verification and not receiving."""

PROGRAM_WEIGHTS: Mapping[str, float] = {
    "dibao": 1.0,
    "single_person": 1.0,
    "tekun": 1.0,
    "near_dibao": 0.4,
    "orphan_fuc": 1.0,
    "medical_assistance": 0.6,
    "temporary": 0.4,
    "education": 0.3,
    "disability_living": 0.3,
    "disability_care": 0.3,
}
"""Relative value of bringing a program to a household (monthly cash programs weigh most)."""

FAMILIES: Mapping[str, str] = {
    "dibao": "subsistence",
    "single_person": "subsistence",
    "tekun": "subsistence",
    "near_dibao": "subsistence",
}
"""Programs that replace each other; a program not listed is a family of its own."""

PURPOSE = (
    "Proposed visits to offer assistance (主动发现、主动救助). For proposing help only: never "
    "a ground to reduce, suspend or reclaim a benefit."
)
"""The purpose stated with every list and export."""

PROGRAM_GAP_PURPOSE = (
    "Program gap (项目缺口): the household already receives dibao or tekun; proposed visit to "
    "offer a program it likely qualifies for and does not receive. For proposing help only: "
    "never a ground to reduce, suspend or reclaim a benefit."
)
"""The purpose stated with a program-gap entry (it marks the path on the stored list entry)."""

PATHS = ("ranked", "program_gap", "exploration")
"""How an entry reached a list: the discovery ranking, the program-gap path, or the exploration
draw (stored as ``list_entries.path``)."""

SUPPRESS_MONTHS = 6
"""A visit that found no need keeps a household off lists this long, unless a warning fires."""


def gap_value(gap: np.ndarray, programs: Sequence[str]) -> np.ndarray:
    """The eligibility-gap value of each household (see the module docstring).

    Args:
        gap: int8 (households x programs): 2 likely gap, 1 verification gap, 0 none.
        programs: program codes, one per column of ``gap``.
    """
    gap = np.asarray(gap)
    if gap.ndim != 2 or gap.shape[1] != len(programs):
        raise ValueError("gap must have one column per program")
    credit = np.zeros(gap.shape, dtype=float)
    for kind, c in GAP_CREDIT.items():
        credit[gap == kind] = c
    families: dict[str, np.ndarray] = {}
    for j, code in enumerate(programs):
        weighted = credit[:, j] * PROGRAM_WEIGHTS.get(code, 0.0)
        fam = FAMILIES.get(code, code)
        families[fam] = np.maximum(families[fam], weighted) if fam in families else weighted
    total = np.zeros(gap.shape[0], dtype=float)
    for values in families.values():
        total += values
    return total


def priority(score: np.ndarray, gap_values: np.ndarray) -> np.ndarray:
    """Expected value of a visit: ``score x (1 + gap_value)``."""
    return np.asarray(score, dtype=float) * (1.0 + np.asarray(gap_values, dtype=float))


def new_warning(previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Rows where an early-warning rule fires now that did not fire before (bool matrices)."""
    return (np.asarray(current, bool) & ~np.asarray(previous, bool)).any(axis=1)


@dataclass(frozen=True)
class ListSpec:
    """How lists are cut.

    Attributes:
        level: ``township`` (9-digit code) or ``village`` (12-digit code).
        capacity_share: list size as a share of the jurisdiction's households (used when
            ``capacity`` is not set); at least one entry per jurisdiction.
        capacity: a fixed list size per jurisdiction (overrides the share).
        exploration_share: the share of each list drawn at random (exploration).
        seed: the run's seed (with the month, jurisdiction and household keys, it fixes the
            exploration draws).
        ranking: ``model`` (priority from the score and the gaps) or ``rules`` (the
            early-warning rules' score orders the discovery entries; scores are still stored).
    """

    level: str = "township"
    capacity_share: float = 0.05
    capacity: int | None = None
    exploration_share: float = 0.03
    seed: int = 0
    ranking: str = "model"

    def __post_init__(self) -> None:
        if self.level not in ("township", "village"):
            raise ValueError("level must be township or village")
        if not 0 < self.capacity_share <= 1:
            raise ValueError("capacity share must be in (0, 1]")
        if self.capacity is not None and self.capacity < 1:
            raise ValueError("capacity must be at least 1")
        if not 0 <= self.exploration_share < 1:
            raise ValueError("exploration share must be in [0, 1)")
        if self.ranking not in ("model", "rules"):
            raise ValueError("ranking must be model or rules")

    def size(self, n_households: int) -> int:
        """The list size for a jurisdiction of ``n_households``."""
        if self.capacity is not None:
            return min(self.capacity, n_households)
        return min(max(1, int(round(self.capacity_share * n_households))), n_households)

    def as_dict(self) -> dict[str, object]:
        return {
            "level": self.level,
            "capacity_share": self.capacity_share,
            "capacity": self.capacity,
            "exploration_share": self.exploration_share,
            "seed": self.seed,
        } | ({} if self.ranking == "model" else {"ranking": self.ranking})


def exploration_uniform(seed: int, month: str, code: str, key: str) -> float:
    """The keyed uniform in [0, 1) of one draw: blake2b (8 bytes) of ``seed|month|code|key``.

    ``month`` is the as-of month (``YYYY-MM``); ``key`` a household key, or ``"#places"`` for the
    draw of the number of exploration places.

    Example:
        >>> exploration_uniform(0, "2025-12", "330226001", "H" + "0" * 24) == exploration_uniform(
        ...     0, "2025-12", "330226001", "H" + "0" * 24)
        True
    """
    text = f"{seed}|{month}|{code}|{key}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") / 2.0**64


def _uniforms(seed: int, month: str, code: str, keys: np.ndarray) -> np.ndarray:
    return np.fromiter((exploration_uniform(seed, month, code, k) for k in keys), float, len(keys))


def _n_explore(size: int, share: float, u: float) -> int:
    """Stochastic rounding by the uniform ``u``: the expected number is exactly ``size x share``."""
    x = size * share
    return int(np.floor(x) + (u < x - np.floor(x)))


def program_gap_places(size: int, share: float) -> int:
    """The most places of a list of ``size`` that program-gap entries may take."""
    return int(np.floor(size * share + 1e-9))


def build_lists(
    frame: pd.DataFrame,
    spec: ListSpec,
    program_gap_share: float = 0.0,
    as_of: date | None = None,
) -> pd.DataFrame:
    """Visit lists for every jurisdiction.

    Each list of ``size`` places (:meth:`ListSpec.size`) holds, in rank order:

    1. the **discovery** entries: the ``listable`` households by priority (ties by score, then
       household key);
    2. the **program-gap** entries: up to ``floor(size x program_gap_share)`` households with
       ``program_gap`` true, by ``program_gap_value`` (ties by household key); places they do
       not fill go to discovery;
    3. the **exploration** entries: drawn at random from the ``listable`` households not
       otherwise listed (the design in the module docstring).

    Args:
        frame: one row per household with ``household_id``, ``township_code``,
            ``village_code``, ``priority``, ``score`` and ``listable`` (the discovery
            population, not kept off by a recent visit); optionally ``program_gap`` (bool) and
            ``program_gap_value``.
        spec: list sizes and the exploration share.
        program_gap_share: the program-gap path's largest share of each list.
        as_of: the as-of date; its month keys the exploration draws (None: no month, for
            lists that are not of a month).

    Returns:
        One row per list entry: ``jurisdiction_code``, ``household_id``, ``rank`` (1 = visit
        first), ``exploration``, ``capacity``, ``path`` (:data:`PATHS`) and
        ``selection_probability``.
    """
    code_col = f"{spec.level}_code"
    cols = ["jurisdiction_code", "household_id", "rank", "exploration", "capacity", "path",
            "selection_probability"]  # fmt: skip
    month = "" if as_of is None else f"{as_of:%Y-%m}"
    frame = frame.loc[frame[code_col].notna()]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    ids = frame["household_id"].astype(str).to_numpy()
    _, id_rank = np.unique(ids, return_inverse=True)
    code_names, code_of = np.unique(frame[code_col].astype(str).to_numpy(), return_inverse=True)
    prio = frame["priority"].to_numpy(dtype=float)
    score = frame["score"].to_numpy(dtype=float)
    listable = frame["listable"].to_numpy(dtype=bool)
    has_gap = "program_gap" in frame.columns
    gap = frame["program_gap"].to_numpy(dtype=bool) if has_gap else np.zeros(len(ids), bool)
    gap_value = frame["program_gap_value"].to_numpy(dtype=float) if has_gap else np.zeros(len(ids))
    # priority desc, score desc, key asc (NaN last), then stable by jurisdiction
    ranked = np.lexsort((id_rank, -score, -prio))
    ranked = ranked[np.argsort(code_of[ranked], kind="stable")]
    bounds = np.r_[0, np.cumsum(np.bincount(code_of, minlength=len(code_names)))]
    parts = []
    for k, code in enumerate(code_names):
        rows = ranked[bounds[k] : bounds[k + 1]]
        size = spec.size(len(rows))
        places_u = exploration_uniform(spec.seed, month, str(code), "#places")
        n_explore = _n_explore(size, spec.exploration_share, places_u)
        g = rows[gap[rows]]
        g = g[np.lexsort((id_rank[g], -gap_value[g]))]
        g = g[: min(program_gap_places(size, program_gap_share), size - n_explore)]
        candidates = rows[listable[rows]]
        top = candidates[: max(size - n_explore - len(g), 0)]
        rest = candidates[len(top) :]
        rest = rest[np.argsort(id_rank[rest], kind="stable")]
        n_explore = min(n_explore, len(rest))
        u = _uniforms(spec.seed, month, str(code), ids[rest]) if n_explore else np.zeros(0)
        explore = rest[np.sort(np.argsort(u, kind="stable")[:n_explore])]
        p_explore = n_explore / len(rest) if len(rest) else 0.0
        chosen = np.concatenate([top, g, explore])
        n_top, n_gap = len(top), len(g)
        parts.append(
            pd.DataFrame(
                {
                    "jurisdiction_code": str(code),
                    "household_id": ids[chosen],
                    "rank": np.arange(1, len(chosen) + 1, dtype=np.int32),
                    "exploration": np.r_[np.zeros(n_top + n_gap, bool), np.ones(n_explore, bool)],
                    "capacity": np.int32(size),
                    "path": np.r_[
                        np.full(n_top, "ranked", object),
                        np.full(n_gap, "program_gap", object),
                        np.full(n_explore, "exploration", object),
                    ],
                    "selection_probability": np.r_[
                        np.ones(n_top + n_gap), np.full(n_explore, p_explore)
                    ],
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
