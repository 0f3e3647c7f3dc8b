"""A steppable county: the world one month at a time, answering the project's visit lists.

The twin (``outreach twin``) runs the pipeline against this county month after month. The county
owns the true state; between months it takes the list of households the project will visit in
the next month, and in that month it visits them with its own visit model (not found, in need,
not in need, with the world's sensitivity and false-positive rate), starts a case through the
visit channel for every household found in need, and decides it with its own means test.

Layout: deliveries go to ``<raw>/agencies/<agency>/<YYYY-MM>.parquet`` exactly as
``outreach simulate`` writes them; the truth goes to a folder of its own (``truth_dir``,
outside the pipeline's raw folder): ``household_months/<YYYY-MM>.parquet``, ``records/``,
``list_visits/<YYYY-MM>.parquet`` (what each list visit found) and, at every checkpoint,
``persons``, ``households`` and ``geography``.

With no lists, the deliveries are byte-identical to ``outreach simulate`` of the same config
(``tests/unit/test_county.py``): the county is the simulation's own ``World``, stepped by hand.
All randomness comes from keyed streams (:mod:`simulator.streams`), so a list visit changes
only what that visit causes (common random numbers).

Example:
    >>> county = County.start(build_config(400, 24, 7), params, raw, truth)  # doctest: +SKIP
    >>> county.advance_to(11)                       # months -24 .. 11 (burn-in included)
    >>> county.visit(12, np.array([3, 17]))         # the list for month 12
    >>> county.advance_to(12).list_visits           # what the visits found
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from core.errors import ConfigError
from policies.parameters import ParameterSet
from simulator.agencies import PARQUET_OPTS, codes
from simulator.config import SimulationConfig
from simulator.simulation import SIMULATOR_VERSION, build_world, write_static_truth

CHECKPOINT_VERSION = 1


@dataclass(frozen=True)
class MonthResult:
    """What one simulated month produced."""

    month: int
    label: str
    list_visits: pa.Table
    """One row per list visit: ``household_id, outcome, visit_day, hardship``."""


class County:
    """The world of ``config``, advanced month by month into ``raw`` and ``truth_dir``."""

    def __init__(self, config: SimulationConfig, world, pop, geo, raw: Path, truth_dir: Path):
        self.config = config
        self.world = world
        self.pop = pop
        self.geo = geo
        self.raw = Path(raw)
        self.truth_dir = Path(truth_dir)
        self.next_month = -config.burn_in_months
        self.month0 = np.datetime64(config.start_month, "M")
        self._retarget()

    # ------------------------------------------------------------------ build
    @classmethod
    def start(
        cls, config: SimulationConfig, params: ParameterSet, raw: Path, truth_dir: Path
    ) -> County:
        """A new county at its first burn-in month (nothing simulated yet)."""
        Path(raw).mkdir(parents=True, exist_ok=True)
        Path(truth_dir).mkdir(parents=True, exist_ok=True)
        world, pop, geo = build_world(config, params, Path(raw))
        return cls(config, world, pop, geo, raw, truth_dir)

    def _retarget(self) -> None:
        self.world.rec.out = self.raw
        self.world.rec.truth_out = self.truth_dir

    # --------------------------------------------------------------- geography
    @property
    def last_month(self) -> int:
        return self.config.months - 1

    def label(self, m: int) -> str:
        """``YYYY-MM`` of month ``m``."""
        return str(self.month0 + m)

    def month_of(self, label: str) -> int:
        """Month number of ``YYYY-MM`` (ConfigError when it is not one)."""
        try:
            return int((np.datetime64(label, "M") - self.month0).astype(int))
        except ValueError:
            raise ConfigError(f"not a month: {label!r} (expected YYYY-MM)") from None

    def township_codes(self) -> np.ndarray:
        return self.geo.townships["township_code"].to_numpy().astype(str)

    def registry_numbers(self) -> np.ndarray:
        """The civil registry's household number of every household (``HH`` + 9 digits)."""
        return np.char.decode(codes("HH", np.arange(self.pop.n_households), 9), "ascii")

    # ------------------------------------------------------------------ lists
    def visit(self, m: int, households: np.ndarray) -> None:
        """The project's list for month ``m``: these true households are visited in ``m``.

        Raises:
            ConfigError: ``m`` is already simulated or not the next month, it lies outside
                the county's months, or a household index does not exist.
        """
        if m < self.next_month:
            raise ConfigError(
                f"a list for {self.label(m)}, a month already simulated "
                f"(the next month is {self.label(self.next_month)})"
            )
        if m != self.next_month or m < 0 or m > self.last_month:
            raise ConfigError(
                f"a list can only be given for the next month to simulate "
                f"({self.label(self.next_month)}), not {self.label(m)}"
            )
        h = np.unique(np.asarray(households, dtype=np.int64))
        if len(h) and (h.min() < 0 or h.max() >= self.pop.n_households):
            raise ConfigError("a listed household does not exist in this county")
        self.world.list_visits[m] = h

    # --------------------------------------------------------------- stepping
    def step(self) -> MonthResult | None:
        """Simulate the next month; its deliveries and truth are written when it is delivered."""
        m = self.next_month
        if m > self.last_month:
            raise ConfigError(f"the county's last month {self.label(self.last_month)} is done")
        deliver = m >= 0
        table = self.world.step(m, deliver)
        self.world.economy_of.forget_before(m)
        self.next_month = m + 1
        if not deliver:
            return None
        hm = self.truth_dir / "household_months" / f"{self.label(m)}.parquet"
        hm.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, hm, **PARQUET_OPTS)
        found = self.world.list_outcomes.pop(m, None)
        visits = _visits_table(found)
        if found is not None:
            path = self.truth_dir / "list_visits" / f"{self.label(m)}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(visits, path, **PARQUET_OPTS)
        self.world.rec.wait()
        return MonthResult(m, self.label(m), visits)

    def advance_to(self, m: int) -> MonthResult | None:
        """Simulate every month up to and including ``m``; the last month's result."""
        result = None
        while self.next_month <= m:
            result = self.step()
        return result

    # ------------------------------------------------------------- checkpoints
    def write_static_truth(self) -> None:
        write_static_truth(self.truth_dir, self.pop, self.world, self.geo)

    def save(self, path: Path) -> None:
        """A checkpoint of the whole county (atomic); the static truth is written beside it."""
        self.world.rec.wait()
        self.write_static_truth()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".partial")
        state = {
            "checkpoint_version": CHECKPOINT_VERSION,
            "simulator_version": SIMULATOR_VERSION,
            "county": self,
        }
        with tmp.open("wb") as f:
            pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, raw: Path, truth_dir: Path) -> County:
        """A county from a checkpoint, writing from now on into ``raw`` and ``truth_dir``.

        Raises:
            ConfigError: the file is not a county checkpoint of this simulator version.
        """
        try:
            with Path(path).open("rb") as f:
                state = pickle.load(f)  # noqa: S301 (the project's own checkpoint file)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError) as exc:
            raise ConfigError(f"cannot read the county checkpoint {path}: {exc}") from None
        if (
            not isinstance(state, dict)
            or state.get("checkpoint_version") != CHECKPOINT_VERSION
            or state.get("simulator_version") != SIMULATOR_VERSION
        ):
            raise ConfigError(f"{path} is not a county checkpoint of simulator {SIMULATOR_VERSION}")
        county: County = state["county"]
        county.raw, county.truth_dir = Path(raw), Path(truth_dir)
        county._retarget()
        return county

    def __getstate__(self) -> dict:
        return self.__dict__.copy()


def _visits_table(found: dict[str, np.ndarray] | None) -> pa.Table:
    if found is None:
        found = {
            "household_id": np.zeros(0, np.int64),
            "outcome": np.zeros(0, str),
            "day": np.zeros(0, np.int64),
            "hardship": np.zeros(0, bool),
        }
    return pa.table(
        {
            "household_id": pa.array(found["household_id"], pa.int64()),
            "outcome": pa.array(found["outcome"].astype(str), pa.string()),
            "visit_day": pa.array(found["day"].astype(np.int32) + 1, pa.int32()),
            "hardship": pa.array(found["hardship"], pa.bool_()),
        }
    )
