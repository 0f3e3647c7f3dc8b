"""One policy's run of the twin: a shared checkpoint, then the monthly loop.

Layout under ``--out`` (one world per seed and size)::

    seed-<S>-households-<H>/
      base/                     built once, shared by every policy of this world
        county.pkl              the county after 2025-12 (month 35)
        truth/                  the world's truth up to then (never under workspace/)
        workspace/              the pipeline's workspace: data/raw holds only deliveries;
                                ingested, linked, vectors 2023-06..2025-12, trained, scored
                                2025-12-31; outreach.toml holds the twin's [scoring]
        base.json
      <policy>/                 a copy of base/, then the policy's months 2026-01 ..
        county.pkl  truth/  workspace/
        lists/<YYYY-MM>.parquet the logged list each month (key, true household, township,
                                rank, exploration, run, what the visit found)
        state.json              the months completed (a killed run resumes after the last)
        results.json            what the policy did for people (:mod:`outreach.twin.outcomes`)

A loop month ``m`` (2026-01 first): the list made from month ``m - 1`` is resolved to true
households and handed to the county; the county lives through ``m`` (its deliveries land in
``workspace/data/raw``); the list visits' outcomes are recorded through the service's write
path (:mod:`outreach.twin.visits`) and exported as a visits delivery (``outreach outcomes
export``); then ``outreach month --as-of <end of m>`` (:mod:`outreach.month`: ingest, link,
features, train on schedule, score) makes the list of ``m + 1``. Policies without pipeline lists
(``status-quo``, ``oracle``) skip the pipeline: nothing they do depends on it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from core.errors import ConfigError
from core.months import month_end, monthly_dates
from core.settings import Settings, load_settings
from outreach.twin.oracle import RELIST_MONTHS, oracle_list
from outreach.twin.policies import Policy, get_policy
from outreach.twin.visits import record_list_visits, twin_token
from simulator.config import build_config
from simulator.county import County

FORK_MONTH = 35
"""The checkpoint every policy forks from: the end of 2025-12 (month 35 of the world)."""
FEATURES_FROM = date(2023, 6, 30)
STATE = "state.json"
Say = Callable[[str], None]


@dataclass(frozen=True)
class TwinOptions:
    """What ``outreach twin run`` runs.

    Attributes:
        policy: the policy's name (:mod:`outreach.twin.policies`).
        months: loop months after the checkpoint (2026-01 on).
        seed: the world's seed.
        households: the world's households at the start.
        capacity: list size as a share of each township's households.
        exploration: the share of each pipeline list drawn at random.
        retrain_every: retrain the model every N loop months (0: never; the champion of the
            checkpoint stays).
        out: the twin's folder.
    """

    policy: str
    out: Path
    months: int = 12
    seed: int = 0
    households: int = 20_000
    capacity: float = 0.05
    exploration: float = 0.03
    retrain_every: int = 0

    def __post_init__(self) -> None:
        get_policy(self.policy)
        if not 1 <= self.months <= 120 - FORK_MONTH - 1:
            raise ConfigError(f"--months must be 1 to {120 - FORK_MONTH - 1}, not {self.months}")
        if not 0 < self.capacity <= 1:
            raise ConfigError(f"--capacity must be above 0 and at most 1, not {self.capacity}")
        if not 0 <= self.exploration < 1:
            raise ConfigError(f"--exploration must be in [0, 1), not {self.exploration}")
        if self.households < 50:
            raise ConfigError("--households must be at least 50")
        if self.retrain_every < 0:
            raise ConfigError("--retrain-every must be 0 (never) or more")

    @property
    def world_dir(self) -> Path:
        return Path(self.out) / f"seed-{self.seed}-households-{self.households}"

    def world_key(self) -> dict[str, Any]:
        """What makes two policies' worlds the same (they share the checkpoint)."""
        return {
            "seed": self.seed,
            "households": self.households,
            "world_months": FORK_MONTH + 1 + self.months,
            "capacity": self.capacity,
            "exploration": self.exploration,
        }


@dataclass
class TwinRunReport:
    policy: str
    policy_version: str
    folder: Path
    months: list[str]
    seconds: dict[str, float]
    results: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "folder": str(self.folder)}


# ------------------------------------------------------------------ workspaces
def _settings(workspace: Path) -> Settings:
    """A twin workspace's settings: its own files only (no database or MLflow URL from the
    environment, so policies never share a store)."""
    return load_settings(workspace, environ={})


def _write_config(workspace: Path, options: TwinOptions, ranking: str) -> None:
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "outreach.toml").write_text(
        "# written by outreach twin: the lists every policy of this world gets\n"
        "[scoring]\n"
        f"capacity_share = {options.capacity!r}\n"
        f"exploration_share = {options.exploration!r}\n"
        f"seed = {options.seed}\n"
        f'ranking = "{ranking}"\n',
        encoding="utf-8",
    )


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".partial")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str), encoding="utf-8")
    tmp.replace(path)


def ensure_base(options: TwinOptions, params, say: Say) -> Path:
    """The world's shared checkpoint (built once): the county after month 35 and the
    pipeline run on its deliveries through scoring 2025-12-31."""
    base = options.world_dir / "base"
    done = _read_json(base / "base.json")
    if done.get("world") == options.world_key() and done.get("complete"):
        return base
    if base.exists():
        shutil.rmtree(base)
    workspace = base / "workspace"
    _write_config(workspace, options, "model")
    settings = _settings(workspace)
    config = build_config(options.households, FORK_MONTH + 1 + options.months, options.seed)
    say(f"base: simulating {options.households:,} households to 2025-12")
    county = County.start(config, params, settings.raw_dir, base / "truth")
    county.advance_to(FORK_MONTH)
    county.save(base / "county.pkl")
    _base_pipeline(settings, say)
    _write_json(base / "base.json", {"world": options.world_key(), "complete": True})
    return base


def _base_pipeline(settings: Settings, say: Say) -> None:
    from features.ingest.stage import IngestOptions
    from features.ingest.stage import run as ingest
    from features.linkage.stage import LinkOptions
    from features.linkage.stage import run as link
    from features.vectors.stage import FeaturesOptions
    from features.vectors.stage import run as build_features
    from serving.batch.stage import ScoreOptions
    from serving.batch.stage import run as score
    from training.stage import TrainOptions
    from training.stage import run as train

    as_of = month_end(2025, 12)
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("ingest", lambda: ingest(settings, IngestOptions())),
        ("link", lambda: link(settings, LinkOptions())),
        (
            "features",
            lambda: build_features(settings, FeaturesOptions(monthly_dates(FEATURES_FROM, as_of))),
        ),
        ("train", lambda: train(settings, TrainOptions())),
        ("score", lambda: score(settings, ScoreOptions(as_of))),
    ]
    for name, call in steps:
        say(f"base: {name}")
        result = call()
        failure = getattr(result, "failure", None)
        if failure is not None:
            raise ConfigError(f"the twin's base stopped at {name}: {failure}")


def _fork(base: Path, folder: Path, options: TwinOptions, policy: Policy) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    tmp = folder.with_name(folder.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    shutil.copytree(base, tmp)
    (tmp / "base.json").unlink()
    (tmp / "lists").mkdir()
    if policy.runs_pipeline:
        _write_config(tmp / "workspace", options, policy.ranking)
    tmp.rename(folder)
    _write_json(folder / STATE, {"options": _options_key(options), "months_done": []})


def _options_key(options: TwinOptions) -> dict[str, Any]:
    return {**options.world_key(), "policy": options.policy, "months": options.months,
            "retrain_every": options.retrain_every}  # fmt: skip


# ----------------------------------------------------------------------- lists
def pipeline_entries(settings: Settings, as_of: date) -> pd.DataFrame:
    """The list entries of the newest complete scoring run of ``as_of`` in the service DB."""
    from serving.store import db
    from serving.store.tables import list_entries, score_runs

    engine = db.make_engine(settings.service_db_url)
    try:
        r, e = score_runs.c, list_entries.c
        with engine.connect() as conn:
            run = conn.execute(
                sa.select(r.run_id)
                .where(r.as_of == as_of, r.status == "complete")
                .order_by(r.finished_at.desc())
                .limit(1)
            ).scalar_one_or_none()
            if run is None:
                raise ConfigError(f"no complete scoring run of {as_of.isoformat()} to list from")
            rows = conn.execute(
                sa.select(e.household_id, e.jurisdiction_code, e.rank, e.exploration,
                          e.run_id, e.model_version)
                .where(e.run_id == run)
                .order_by(e.jurisdiction_code, e.rank)
            ).mappings().all()  # fmt: skip
    finally:
        engine.dispose()
    return pd.DataFrame(
        rows,
        columns=["household_id", "jurisdiction_code", "rank", "exploration", "run_id",
                 "model_version"],
    ).rename(columns={"household_id": "household_key"})  # fmt: skip


def resolve(entries: pd.DataFrame, county: County, settings: Settings) -> pd.DataFrame:
    """Each entry's true household: the world resolves our household key through the civil
    registry's household number it issued (an unknown key stays -1: a ``not_found`` visit).

    Raises:
        ConfigError: a list names a township the world does not have.
    """
    from features.pseudonym import pseudonymizer_for

    towns = set(county.township_codes())
    unknown = sorted(set(entries["jurisdiction_code"].astype(str)) - towns)
    if unknown:
        raise ConfigError(f"the list names {len(unknown)} townships this world does not have")
    keys = pseudonymizer_for(settings).household_keys(county.registry_numbers().tolist())
    by_key = {key: int(number[2:]) for number, key in keys.items()}
    out = entries.copy()
    out["true_household"] = out["household_key"].map(by_key).fillna(-1).astype(np.int64)
    return out


def oracle_entries(county: County, m: int, recent: set[int], options: TwinOptions) -> pd.DataFrame:
    from serving.batch.priority import ListSpec

    truth = pd.read_parquet(
        county.truth_dir / "household_months" / f"{county.label(m - 1)}.parquet"
    )
    spec = ListSpec(capacity_share=options.capacity)
    chosen = oracle_list(truth, county.township_codes(), spec, recent)
    return pd.DataFrame(
        {
            "household_key": "",
            "jurisdiction_code": chosen["township_code"].astype(str),
            "rank": chosen["rank"].astype(np.int32),
            "exploration": False,
            "run_id": "oracle",
            "model_version": "",
            "true_household": chosen["household_id"].astype(np.int64),
        }
    )


def _recently_listed(folder: Path, county: County, m: int) -> set[int]:
    out: set[int] = set()
    for k in range(max(m - RELIST_MONTHS, 0), m):
        path = folder / "lists" / f"{county.label(k)}.parquet"
        if path.exists():
            out |= set(pq.read_table(path, columns=["true_household"]).column(0).to_pylist())
    return out


# ------------------------------------------------------------------------ loop
def run_policy(options: TwinOptions, params, say: Say | None = None) -> TwinRunReport:
    """Run one policy for ``options.months`` loop months (resuming a killed run)."""
    import time

    from outreach.month import MonthOptions, due_for_retraining
    from outreach.month import run as run_month
    from outreach.twin.outcomes import evaluate_policy
    from serving.feedback.export import export_outcomes

    say = say or (lambda _msg: None)
    policy = get_policy(options.policy)
    timer = {"base": 0.0, "world": 0.0, "pipeline": 0.0, "outcomes": 0.0}
    t0 = time.perf_counter()
    base = ensure_base(options, params, say)
    timer["base"] = time.perf_counter() - t0
    folder = options.world_dir / policy.name
    state = _read_json(folder / STATE)
    if state.get("options") != _options_key(options):
        _fork(base, folder, options, policy)
        state = _read_json(folder / STATE)
    county = County.load(folder / "county.pkl", folder / "workspace" / "data" / "raw",
                         folder / "truth")  # fmt: skip
    settings = _settings(folder / "workspace")
    done: list[str] = list(state.get("months_done", []))
    loop = list(range(FORK_MONTH + 1, FORK_MONTH + 1 + options.months))
    for k, m in enumerate(loop, start=1):
        label = county.label(m)
        if label in done:
            continue
        say(f"{policy.name}: {label} ({k}/{len(loop)})")
        t = time.perf_counter()
        list_path = folder / "lists" / f"{label}.parquet"
        if county.next_month == m:  # the world has not lived through m yet
            entries = _entries(policy, county, m, folder, settings, options)
            county.visit(m, entries.loc[entries["true_household"] >= 0, "true_household"])
            result = county.step()
            entries = _with_outcomes(entries, result.list_visits, county, m)
            pq.write_table(pa.Table.from_pandas(entries, preserve_index=False), list_path)
            county.save(folder / "county.pkl")
        timer["world"] += time.perf_counter() - t
        if policy.runs_pipeline:
            t = time.perf_counter()
            entries = pd.read_parquet(list_path)
            token = twin_token(settings, folder, county.config.county_code)
            year, month = _year_month(county, m)
            record_list_visits(settings, entries, token, month_end(year, month))
            nxt = m + 1
            export_outcomes(settings, label, None, today=date(*_year_month(county, nxt), 1))
            timer["outcomes"] += time.perf_counter() - t
            if m < loop[-1]:  # the last month's list would never be visited
                t = time.perf_counter()
                year, month = _year_month(county, m)
                retrain = due_for_retraining(k, options.retrain_every)
                run_month(settings, MonthOptions(month_end(year, month), retrain))
                timer["pipeline"] += time.perf_counter() - t
        done.append(label)
        _write_json(folder / STATE, {**state, "months_done": done})
    county.world.rec.close()
    results = evaluate_policy(folder, [county.label(m) for m in loop])
    _write_json(folder / "results.json", results)
    return TwinRunReport(policy.name, policy.version, folder,
                         [county.label(m) for m in loop],
                         {k: round(v, 1) for k, v in timer.items()}, results)  # fmt: skip


def _year_month(county: County, m: int) -> tuple[int, int]:
    year, month = county.label(m).split("-")
    return int(year), int(month)


def _entries(
    policy: Policy, county: County, m: int, folder: Path, settings: Settings, options: TwinOptions
) -> pd.DataFrame:
    if policy.lists == "none":
        return pd.DataFrame(
            {
                "household_key": pd.Series([], dtype=str),
                "jurisdiction_code": pd.Series([], dtype=str),
                "rank": pd.Series([], dtype=np.int32),
                "exploration": pd.Series([], dtype=bool),
                "run_id": pd.Series([], dtype=str),
                "model_version": pd.Series([], dtype=str),
                "true_household": pd.Series([], dtype=np.int64),
            }
        )
    if policy.lists == "oracle":
        return oracle_entries(county, m, _recently_listed(folder, county, m), options)
    year, month = _year_month(county, m - 1)
    return resolve(pipeline_entries(settings, month_end(year, month)), county, settings)


def _with_outcomes(entries: pd.DataFrame, visits: pa.Table, county: County, m: int) -> pd.DataFrame:
    """Entries with what their visit found (unresolved entries: ``not_found``) and its date."""
    v = visits.to_pandas().drop_duplicates("household_id")
    out = entries.merge(
        v.rename(columns={"household_id": "true_household"}), on="true_household", how="left"
    )
    out["outcome"] = out["outcome"].fillna("not_found")
    day = out["visit_day"].fillna(1).astype(int)
    year, month = _year_month(county, m)
    out["visit_date"] = [date(year, month, int(d)) for d in day]
    out["hardship"] = out["hardship"].fillna(False).astype(bool)
    return out.drop(columns=["visit_day"])
