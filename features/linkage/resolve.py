"""The linkage run over the warehouse: ``person_records`` to ``links``, ``persons`` and
``memberships`` (see :mod:`features.linkage` for the method), with its report.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from features import warehouse
from features.linkage.clusters import assign_records, write_links
from features.linkage.comparisons import blocking_rules, normalize_name
from features.linkage.evaluate import evaluate_against_truth
from features.linkage.id_fix import id_fix_table
from features.linkage.model import (
    LOW_CONFIDENCE,
    MATCH_THRESHOLD,
    PREDICT_FLOOR,
    SEED,
    make_linker,
    quiet_splink,
    train_model,
)
from features.linkage.names import name_pinyin
from features.linkage.pair import save_run
from features.pseudonym import Pseudonymizer

Progress = Callable[[str], None]
"""Called with a short description of each step of the run."""


@dataclass
class LinkReport:
    """What a linkage run made (``reports/link/``).

    Attributes:
        by_agency_method: links per agency and method (``id``, ``probabilistic``,
            ``singleton``).
        persons_by_method: persons per method (the best method among their links).
        low_confidence_links: links below :data:`LOW_CONFIDENCE`.
        households: households in ``memberships``.
        households_low_confidence: households with a membership link below
            :data:`LOW_CONFIDENCE`.
        quality: pairwise precision and recall against the simulator's truth, when measured.
        threshold: :data:`MATCH_THRESHOLD`.
        low_confidence_below: :data:`LOW_CONFIDENCE`.
        model_path: the saved match model.
        id_candidates_computed: raw invalid IDs whose one-digit corrections were computed by
            this run (the others were kept from earlier runs, ``id_candidates``).
        seconds: time taken by each step.
    """

    by_agency_method: dict[str, dict[str, int]] = field(default_factory=dict)
    persons_by_method: dict[str, int] = field(default_factory=dict)
    low_confidence_links: int = 0
    households: int = 0
    households_low_confidence: int = 0
    quality: dict | None = None
    threshold: float = MATCH_THRESHOLD
    low_confidence_below: float = LOW_CONFIDENCE
    model_path: str = ""
    id_candidates_computed: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The report as written to JSON."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


LINK_FIELDS = {"id", "name", "birth_date", "sex", "address", "entity_key"}
"""The fields agency records are compared on."""


def _name_table(con: duckdb.DuckDBPyConnection) -> None:
    names = con.execute(
        "SELECT DISTINCT name FROM person_records WHERE name IS NOT NULL"
    ).fetchall()
    raw = [n for (n,) in names]
    norm = [normalize_name(n) for n in raw]
    py = [name_pinyin(n) for n in norm]
    con.register(
        "name_map_src",
        pa.table(
            {
                "name": pa.array(raw, pa.string()),
                "name_norm": pa.array(norm, pa.string()),
                "surname": pa.array([n[:1] if n else None for n in norm], pa.string()),
                "name_py": pa.array(py, pa.string()),
            }
        ),
    )
    con.execute("CREATE OR REPLACE TEMP TABLE name_map AS SELECT * FROM name_map_src")
    con.unregister("name_map_src")


def link(
    con: duckdb.DuckDBPyConnection,
    keys: Pseudonymizer,
    model_path: Path,
    retrain: bool = False,
    truth_dir: Path | None = None,
    progress: Progress | None = None,
) -> LinkReport:
    """Rebuild ``links``, ``persons`` and ``memberships`` from ``person_records``."""
    say = progress or (lambda _msg: None)
    report = LinkReport(model_path=str(model_path))
    t0 = time.perf_counter()
    say("normalizing names and IDs")
    _name_table(con)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE recs AS
        SELECT p.agency, p.record_id,
               -- knowledge time: a record is known once recorded and delivered
               greatest(p.recorded_date, coalesce(d.extract_date, p.recorded_date))
                   AS recorded_date,
               p.person_key, p.id_invalid,
               n.name_norm, n.surname, n.name_py, p.birth_date, p.sex, p.village_code AS address,
               p.entity_key
        FROM person_records p LEFT JOIN name_map n USING (name)
        LEFT JOIN (SELECT delivery_id, max(extract_date) AS extract_date
                   FROM deliveries GROUP BY delivery_id) d USING (delivery_id)
        """
    )
    # profiles of persons known by ID, and the unresolved records, in one table
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE link_input AS
        SELECT 'p' || lpad(CAST(row_number() OVER (ORDER BY person_key, name_norm, birth_date,
                       sex, address, entity_key) AS VARCHAR), 12, '0') AS unique_id,
               'p' AS kind, person_key, CAST(NULL AS VARCHAR) AS id_fix, name_norm, surname,
               name_py, birth_date, sex, address, entity_key, first_seen
        FROM (SELECT person_key, name_norm, surname, name_py, birth_date, sex, address,
                     entity_key,
                     min(recorded_date) AS first_seen
              FROM recs WHERE person_key IS NOT NULL
              GROUP BY ALL)
        """
    )
    report.id_candidates_computed = id_fix_table(con, keys)
    con.execute(
        """
        INSERT INTO link_input
        SELECT 'r' || r.agency || ':' || r.record_id, 'r', NULL, f.id_fix, r.name_norm, r.surname,
               r.name_py, r.birth_date, r.sex, r.address, r.entity_key, r.recorded_date
        FROM recs r LEFT JOIN id_fix_map f USING (id_invalid)
        WHERE r.person_key IS NULL
        """
    )
    report.seconds["prepare"] = time.perf_counter() - t0
    n_persons = warehouse.fetch_one(con, "SELECT count(DISTINCT person_key) FROM recs")[0] or 1
    prior = 1.0 / max(n_persons, 2)
    # the model: learned once from records with IDs, kept beside the warehouse
    if retrain or not model_path.exists():
        say("training the match model on records with IDs")
        t = time.perf_counter()
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE link_train AS
            SELECT agency || ':' || record_id AS unique_id, person_key,
                   CAST(NULL AS VARCHAR) AS id_fix, name_norm, surname, name_py, birth_date, sex,
                   address, entity_key
            FROM recs WHERE person_key IS NOT NULL
            ORDER BY hash(agency || ':' || record_id || '{SEED}') LIMIT 300000
            """
        )
        # trained on its own connection: Splink caches term-frequency tables per connection, and
        # those of the training sample must not leak into the scoring below
        sample = con.sql("SELECT * FROM link_train").to_arrow_table()
        with duckdb.connect() as train_con:
            train_con.register("sample", sample)
            train_con.execute("CREATE TABLE link_train AS SELECT * FROM sample")
            model = train_model(train_con, "link_train", LINK_FIELDS, prior)
        model_path.parent.mkdir(parents=True, exist_ok=True)
        model_path.write_text(json.dumps(model, indent=1), encoding="utf-8")
        report.seconds["train"] = time.perf_counter() - t
    model = json.loads(model_path.read_text(encoding="utf-8"))
    model["probability_two_random_records_match"] = prior
    model["blocking_rules_to_generate_predictions"] = blocking_rules(LINK_FIELDS, "r.kind = 'r'")
    model["additional_columns_to_retain"] = ["kind", "person_key", "first_seen"]
    say("scoring candidate pairs")
    t = time.perf_counter()
    quiet_splink()
    linker = make_linker(con, "link_input", model)
    pred = linker.inference.predict(threshold_match_probability=PREDICT_FLOOR)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE pairs AS
            SELECT unique_id_l AS a, unique_id_r AS b, kind_l, kind_r, person_key_l,
                   first_seen_l, first_seen_r, match_probability AS p
            FROM {pred.physical_name}"""
    )
    save_run(con, model, linker)  # the model and term frequencies, for the auditor's waterfall
    report.seconds["predict"] = time.perf_counter() - t
    say("assigning records to persons")
    t = time.perf_counter()
    assign_records(con)
    report.seconds["assign"] = time.perf_counter() - t
    t = time.perf_counter()
    write_links(con, keys)
    report.seconds["write"] = time.perf_counter() - t
    _count_results(con, report)
    if truth_dir is not None and (truth_dir / "records").is_dir():
        say("measuring against the simulator's truth")
        report.quality = evaluate_against_truth(con, truth_dir)
    drop_splink_tables(con)
    report.seconds["total"] = time.perf_counter() - t0
    return report


def drop_splink_tables(con: duckdb.DuckDBPyConnection) -> int:
    """Drop Splink's working tables and views (``__splink__*``) from the connection's
    databases, so the warehouse keeps only its own tables; returns how many were dropped."""
    found = con.execute(
        r"""SELECT database_name, schema_name, table_name, 'TABLE' FROM duckdb_tables()
            WHERE table_name LIKE '\_\_splink\_\_%' ESCAPE '\'
            UNION ALL
            SELECT database_name, schema_name, view_name, 'VIEW' FROM duckdb_views()
            WHERE view_name LIKE '\_\_splink\_\_%' ESCAPE '\' AND NOT internal"""
    ).fetchall()
    for db, schema, name, kind in found:
        con.execute(f'DROP {kind} IF EXISTS "{db}"."{schema}"."{name}"')
    return len(found)


def _count_results(con: duckdb.DuckDBPyConnection, report: LinkReport) -> None:
    for agency, method, n in con.execute(
        "SELECT agency, method, count(*) FROM links GROUP BY ALL ORDER BY ALL"
    ).fetchall():
        report.by_agency_method.setdefault(agency, {})[method] = n
    report.persons_by_method = dict(
        con.execute("SELECT method, count(*) FROM persons GROUP BY ALL ORDER BY ALL").fetchall()
    )
    report.low_confidence_links = warehouse.fetch_one(
        con, f"SELECT count(*) FROM links WHERE match_probability < {LOW_CONFIDENCE}"
    )[0]
    report.households, report.households_low_confidence = warehouse.fetch_one(
        con,
        f"""SELECT count(DISTINCT household_id),
                   count(DISTINCT household_id) FILTER (WHERE match_probability < {LOW_CONFIDENCE})
            FROM memberships""",
    )
