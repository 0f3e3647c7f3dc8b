"""Run a simulation: build the county, live through the months, write deliveries and truth.

Output layout (``DIR``)::

    agencies/<agency>/<YYYY-MM>.parquet    monthly deliveries (see docs/data-contracts.md)
    truth/persons.parquet                  every person who ever lived in the county
    truth/households.parquet               static household traits (incl. latent ones)
    truth/household_months.parquet         hardship, onset, p_onset_6m, silent, ... per month
    truth/records/<agency>/<YYYY-MM>.parquet  true person and injected defects of every record
    truth/geography.parquet                townships and villages
    manifest.json                          seed, the parameters read (PARAMETERS_READ) and their
                                           fingerprint, row counts, schema versions, checksums

Files are written to a sibling temporary folder and moved into place at the end, so a failed
run leaves nothing half-written.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from importlib import metadata
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from core import idnumber
from core.contracts import AGENCIES, CONTRACTS, SCHEMA_VERSION
from core.errors import ConfigError, OutputExistsError
from policies.parameters import ParameterSet
from simulator import names as namegen
from simulator.agencies import PARQUET_OPTS, PersonBook, Recorder
from simulator.config import SimulationConfig
from simulator.defects_hard import HardDefects
from simulator.economy import Economy, Prices, month_economy
from simulator.geography import build_geography
from simulator.population import Population, build_population, persons_frame
from simulator.risk import HORIZON
from simulator.streams import Streams
from simulator.world import World

SIMULATOR_VERSION = "2.0.0"
"""2.0: common random numbers (keyed draws, simulator/streams.py); a case started by a visit
counts as an application in the truth; the world answers list visits (the twin)."""
MANIFEST = "manifest.json"

Progress = Callable[[str, int, int], None]

PARAMETERS_READ: tuple[str, ...] = (
    "dibao.asset_limit_multiple_of_annual_standard",
    "dibao.standard_monthly",
    "economy.minimum_wage_monthly",
    "economy.resident_basic_pension_monthly",
    "unemployment.benefit_share_of_minimum_wage",
)
"""Every policy parameter the simulator reads: the only ones in its manifest and fingerprint.

Adding, changing or moving any other parameter leaves every existing manifest valid. A
simulator change that reads another parameter adds it here (reading one not listed fails, and
``tests/unit/test_simulator_fingerprint.py`` checks the list is exactly what a run reads).
"""


def simulator_parameters(params: ParameterSet) -> ParameterSet:
    """The parameters the simulator reads (:data:`PARAMETERS_READ`), and nothing else.

    Raises:
        ParameterError: one of them is missing from ``params``.
    """
    return params.select(PARAMETERS_READ)


class EconomyCache:
    """Base economies by month, computed once each; months behind the run are forgotten."""

    def __init__(self, pop: Population, prices: Callable[[int], Prices]):
        self.pop = pop
        self.prices = prices
        self.cache: dict[int, Economy] = {}

    def __call__(self, m: int) -> Economy:
        if m not in self.cache:
            self.cache[m] = month_economy(self.pop, m, self.prices(m))
        return self.cache[m]

    def forget_before(self, m: int) -> None:
        for old in [k for k in self.cache if k < m]:
            del self.cache[old]


@dataclass(frozen=True)
class SimulationResult:
    out: Path
    manifest: dict
    reused: bool


def _month0(config: SimulationConfig) -> np.datetime64:
    return np.datetime64(config.start_month, "M")


def _prices(params: ParameterSet, month0: np.datetime64, m: int) -> Prices:
    day = (month0 + m).astype("datetime64[D]").astype(date)
    min_wage = float(params.get("economy.minimum_wage_monthly", day))
    return Prices(
        standard=float(params.get("dibao.standard_monthly", day)),
        resident_pension=float(params.get("economy.resident_basic_pension_monthly", day)),
        unemployment_benefit=min_wage
        * float(params.get("unemployment.benefit_share_of_minimum_wage", day)),
    )


@dataclass(frozen=True)
class PriceSchedule:
    """The prices of month m from the dated parameters (a picklable callable: checkpoints)."""

    params: ParameterSet
    month0: np.datetime64

    def __call__(self, m: int) -> Prices:
        return _prices(self.params, self.month0, m)


def _person_book(pop: Population, county: str, rng: np.random.Generator) -> PersonBook:
    birth_year = pop.birth.astype("datetime64[Y]").astype(int) + 1970
    reg_birth = namegen.registered_birth_dates(rng, pop.birth, birth_year)
    # address code of the place of first registration: the county for most, elsewhere for some
    hukou = pop.hukou[pop.hh0]
    elsewhere = (hukou == 2) | (rng.random(pop.n_persons) < 0.04)
    addr = np.where(
        elsewhere,
        rng.choice(
            np.array(["510322", "522121", "411324", "341221", "430524", "330205"]), pop.n_persons
        ),
        county,
    )
    addr, seq = _sequence_numbers(addr, reg_birth, pop.male, rng)
    ids = idnumber.make_ids(addr, reg_birth, seq)
    # clan villages: a share of rural people carry their village's clan surname
    clans = namegen.draw_surnames(rng, int(pop.village.max()) + 1).astype(object)
    clan = np.where(pop.urban[pop.hh0], None, clans[pop.village[pop.hh0]])
    names = namegen.draw_names(rng, pop.male, birth_year, clan_surname=clan, clan_share=0.5)
    return PersonBook(ids=ids, names=names, reg_birth=reg_birth, male=pop.male)


# neighbouring county codes used when a county's 500 sequence numbers of a sex on one registered
# birth date run out (large worlds with heaped birth dates)
NEIGHBOUR_CODES = ("330225", "330282", "330212", "331023", "330206", "330211")


def _sequence_numbers(
    addr: np.ndarray, birth: np.ndarray, male: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Unique (address, birth date, sequence) triples; sequence parity follows sex.

    Within each (address, date, sex) group people are ranked at random and numbered from a random
    offset; beyond 500 in a group the next neighbouring county's code is used.
    """
    n = len(addr)
    sex = male.astype(np.int64)
    day = birth.astype("datetime64[D]").astype(np.int64)
    group = (addr.astype(np.int64) * 100_000 + (day - day.min())) * 2 + sex
    order = np.lexsort((rng.random(n), group))
    g = group[order]
    first = np.ones(n, bool)
    first[1:] = g[1:] != g[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n) - start
    offset = rng.integers(0, 500, n)  # per person; made per group below
    offset[order] = offset[order][start]
    seq = ((rank + offset) % 500) * 2 + sex
    overflow = rank // 500
    if overflow.max() > len(NEIGHBOUR_CODES):
        raise ConfigError("too many households: ID sequence numbers run out; simulate fewer")
    codes = np.array(("",) + NEIGHBOUR_CODES)
    addr = np.where(overflow > 0, codes[np.minimum(overflow, len(NEIGHBOUR_CODES))], addr)
    key = (addr.astype(np.int64) * 100_000 + (day - day.min())) * 1000 + seq
    if len(np.unique(key)) != n:  # overflow from two codes into one neighbour on one date
        raise ConfigError("too many households: ID numbers would repeat; simulate fewer")
    return addr, seq


def check_output(out: Path, config: SimulationConfig, fingerprint: str, force: bool) -> bool:
    """Refuse to overwrite data silently. Return True when ``out`` already holds this world."""
    manifest = out / MANIFEST
    if out.exists() and not out.is_dir():
        raise ConfigError(f"output path {out} exists and is not a folder")
    if manifest.exists():
        try:
            old = json.loads(manifest.read_text())
        except (OSError, ValueError):
            old = {}
        same = (
            old.get("config") == config.model_dump(mode="json")
            and old.get("parameters_fingerprint") == fingerprint
            and old.get("simulator_version") == SIMULATOR_VERSION
        )
        if same and not force:
            return True
        if not force:
            cfg = old.get("config", {})
            raise OutputExistsError(
                f"{out} already holds a different simulation (seed {cfg.get('seed')}, "
                f"{cfg.get('households')} households); use another --out or --force to replace it"
            )
    elif out.exists() and any(out.iterdir()) and not force:
        raise OutputExistsError(
            f"{out} is not empty and holds no simulation; use an empty folder or --force"
        )
    # writability: the parent must accept a temporary folder
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        probe = tempfile.mkdtemp(prefix=".outreach-probe-", dir=parent)
        Path(probe).rmdir()
    except OSError as exc:
        raise ConfigError(f"cannot write to {parent}: {exc.strerror or exc}") from None
    return False


def simulate(
    config: SimulationConfig,
    params: ParameterSet,
    out: Path,
    force: bool = False,
    progress: Progress | None = None,
) -> SimulationResult:
    """Simulate the world described by ``config`` into ``out``.

    Only the parameters of :data:`PARAMETERS_READ` are read, recorded in the manifest and
    fingerprinted, so an existing world is reused whatever other parameters change.
    """
    out = out.absolute()
    params = simulator_parameters(params)
    if check_output(out, config, params.fingerprint(), force):
        return SimulationResult(out, json.loads((out / MANIFEST).read_text()), reused=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        manifest = _run(config, params, tmp, progress)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return SimulationResult(out, manifest, reused=False)


def build_world(
    config: SimulationConfig, params: ParameterSet, out: Path | None = None
) -> tuple[World, Population, object]:
    """The county at the first burn-in month, with a recorder writing under ``out`` (if given)."""
    params = simulator_parameters(params)
    ss = np.random.SeedSequence(config.seed)
    # the county's make-up comes from sequential generators (drawn once, before any month);
    # everything that happens in the months comes from keyed streams (simulator/streams.py)
    rng_geo, rng_pop, rng_book, _, _ = (np.random.default_rng(s) for s in ss.spawn(5))
    streams = Streams(config.seed)
    month0 = _month0(config)
    first, last = -config.burn_in_months, config.months - 1
    geo = build_geography(config.county_code, config.households, rng_geo)
    pop = build_population(geo, config.households, first, last + HORIZON, month0, rng_pop)
    economy_of = EconomyCache(pop, PriceSchedule(params, month0))

    rec = None
    if out is not None:
        book = _person_book(pop, config.county_code, rng_book)
    village_codes = geo.villages["village_code"].to_numpy().astype("U12")
    if out is not None:
        hard = None
        if config.defect_profile == "hard":
            hard = HardDefects(streams, village_codes, pop.village, pop.origin_village)
        rec = Recorder(out, book, config.defects, month0, config.months, streams, hard)
    asset_multiple = float(
        params.get(
            "dibao.asset_limit_multiple_of_annual_standard",
            month0.astype("datetime64[D]").astype(date),
        )
    )
    world = World(pop, economy_of, rec, streams, last, asset_multiple, village_codes)
    return world, pop, geo


def _run(
    config: SimulationConfig, params: ParameterSet, out: Path, progress: Progress | None
) -> dict:
    world, pop, geo = build_world(config, params, out)
    rec = world.rec
    first, last = -config.burn_in_months, config.months - 1
    truth_dir = out / "truth"
    truth_dir.mkdir(parents=True)
    writer: pq.ParquetWriter | None = None
    hm_rows = 0
    total = last - first + 1
    for step, m in enumerate(range(first, last + 1)):
        deliver = m >= 0
        table = world.step(m, deliver)
        world.economy_of.forget_before(m)
        if deliver:
            if writer is None:
                writer = pq.ParquetWriter(
                    truth_dir / "household_months.parquet", table.schema, **PARQUET_OPTS
                )
            writer.write_table(table)
            hm_rows += table.num_rows
        if progress:
            progress("months", step + 1, total)
    if writer is not None:
        writer.close()
    rec.close()
    # the month caches are large at scale: free them before the static files and the summary
    world.economy_of.cache.clear()
    world.risk_buffer = None
    write_static_truth(out / "truth", pop, world, geo)
    return _manifest(out, config, params, rec, hm_rows, pop, summarize(out))


def write_static_truth(truth: Path, pop: Population, world: World, geo) -> None:
    """The truth files that are not monthly: persons, households, geography (into ``truth``)."""
    truth.mkdir(parents=True, exist_ok=True)
    persons = persons_frame(pop)
    persons["disability_grade_onset"] = world.dis_grade_new
    persons["disability_onset_month"] = np.where(
        world.dis_onset_month < 32000, world.dis_onset_month, -1
    ).astype(np.int16)
    persons["certified_disabled"] = world.certified
    if world.rec is not None:  # identity as registered: what agencies copy, before defects
        persons["id_number"] = world.rec.book.ids
        persons["name"] = world.rec.book.names
        persons["registered_birth_date"] = world.rec.book.reg_birth
    _write_frame(persons, truth / "persons.parquet")
    hh = {
        "household_id": np.arange(pop.n_households, dtype=np.int64),
        "first_month": pop.hh_start,
        "village_code": geo.villages["village_code"].to_numpy()[pop.village],
        "township_code": geo.townships["township_code"].to_numpy()[pop.township],
        "urban": pop.urban,
        "hukou": pop.hukou,
        "latent_z": pop.z,
        "income_volatility": pop.sigma,
        "informal_support": pop.support,
        "illness_oop_monthly": pop.illness_oop,
        "apply_propensity": pop.propensity,
        "has_supporter": pop.has_supporter,
        "vehicle_value": pop.vehicle_value,
        "properties": pop.n_property,
        "business": pop.business,
        "deposits": pop.deposits,
        "relocated": pop.relocated,
    }
    _write_frame(pa.table(hh), truth / "households.parquet")
    vill = geo.villages.merge(
        geo.townships[["township_code", "name_zh", "name_en", "kind"]], on="township_code"
    )
    _write_frame(vill, truth / "geography.parquet")


def _write_frame(frame, path: Path) -> None:
    table = (
        frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    )
    pq.write_table(table.replace_schema_metadata(None), path, **PARQUET_OPTS)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _manifest(
    out: Path,
    config: SimulationConfig,
    params: ParameterSet,
    rec: Recorder,
    hm_rows: int,
    pop: Population,
    summary: dict,
) -> dict:
    files = sorted(p for p in out.rglob("*.parquet"))
    month0 = _month0(config)
    manifest = {
        "simulator_version": SIMULATOR_VERSION,
        "config": config.model_dump(mode="json"),
        "parameters_fingerprint": params.fingerprint(),
        "parameters": params.snapshot(month0.astype("datetime64[D]").astype(date)),
        "schema_version": SCHEMA_VERSION,
        "schemas": {a: CONTRACTS[a].schema_version for a in AGENCIES},
        "months": [str(month0 + m) for m in range(config.months)],
        "counts": {
            "households_ever": pop.n_households,
            "persons_ever": pop.n_persons,
            "household_months": hm_rows,
            "records_by_agency": rec.truth_rows,
            "records_recorded_after_cutoff": rec.after_cutoff,
            "missing_deliveries": {
                a: sorted(str(month0 + m) for m in ms) for a, ms in rec.missing.items()
            },
        },
        "files": {
            str(p.relative_to(out)): {
                "sha256": _sha256(p),
                "rows": pq.ParquetFile(p).metadata.num_rows,
            }
            for p in files
        },
        "summary": summary,
        "software": {pkg: metadata.version(pkg) for pkg in ("numpy", "pyarrow", "pandas")},
    }
    (out / MANIFEST).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    )
    return manifest


def summarize(out: Path) -> dict:
    """Headline figures of a simulated world, aggregated from its truth file by DuckDB."""
    path = str(out / "truth" / "household_months.parquet").replace("'", "''")
    con = duckdb.connect()
    try:
        row = con.execute(
            f"""
            SELECT count(DISTINCT month), count(*),
                   avg(hardship::INT), avg(onset::INT),
                   sum(silent::INT) / greatest(sum(hardship::INT), 1),
                   avg((enrolled_dibao OR enrolled_tekun)::INT),
                   avg(p_onset_6m) FILTER (WHERE complete_future)
            FROM read_parquet('{path}')
            """
        ).fetchone()
    finally:
        con.close()
    months, rows, hardship, onset, silent, enrolled, risk = row
    return {
        "months": int(months),
        "household_months": int(rows),
        "households_per_month": round(rows / max(months, 1), 1),
        "hardship_share": round(float(hardship), 4),
        "onset_share": round(float(onset), 4),
        "silent_share_of_hardship": round(float(silent), 4),
        "enrolled_share": round(float(enrolled), 4),
        "mean_p_onset_6m": None if risk is None else round(float(risk), 4),
    }
