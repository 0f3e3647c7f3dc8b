"""The month's people: who is present, their ages and roles, and the events of the month.

Built once a month by the world (:mod:`simulator.world`) and read by what the agencies see
(:mod:`simulator.observe`) and by the programs (:mod:`simulator.programs`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.economy import Economy, person_state
from simulator.population import REL, Population
from simulator.streams import Streams


@dataclass
class Events:
    job_loss: np.ndarray
    job_found: np.ndarray
    ill_start: np.ndarray
    dis_start: np.ndarray
    admitted: np.ndarray
    shock_start: np.ndarray


@dataclass
class People:
    """Per-person view of a month plus per-household picks."""

    present: np.ndarray
    hh: np.ndarray  # household (dump bin H where absent)
    age: np.ndarray
    working: np.ndarray
    student: np.ndarray
    relation: np.ndarray
    head: np.ndarray  # per household: person index of the head (-1 if none)
    pick_old: np.ndarray  # per household: a member drawn with weight rising with age
    pick_any: np.ndarray  # per household: a member drawn uniformly


def month_people(pop: Population, m: int, e: Economy, streams: Streams) -> People:
    ps = person_state(pop, m)
    H = pop.n_households
    hh = np.where(ps["present"], ps["hh"], H)
    relation = np.where(m >= pop.move_month, REL["head"], pop.relation)
    groups = e.groups
    # the head: registered head first, then spouse, ...; the oldest within a relation
    head = groups.argmax(-(relation.astype(np.int64) * 1000 - ps["age"]))
    pick_old = groups.pick(
        np.exp(0.04 * np.clip(ps["age"], 0, 100)), streams.each(m, "pick_older_member", H)
    )
    pick_any = groups.pick(np.ones(len(hh)), streams.each(m, "pick_any_member", H))
    return People(
        present=ps["present"],
        hh=hh,
        age=ps["age"],
        working=ps["working"],
        student=ps["student"],
        relation=relation,
        head=head,
        pick_old=pick_old,
        pick_any=pick_any,
    )
