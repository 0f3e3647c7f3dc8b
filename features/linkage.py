"""Record linkage: every accepted record to a person, every person to a household as of a date.

1. **Deterministic**: a record with a usable ID number (valid, or legacy converted) belongs to
   the person whose key is the HMAC of that number (probability 1).
2. **Probabilistic** (Splink, Fellegi-Sunter, DuckDB backend) for records without a usable ID:
   each is compared with the *profiles* of the persons known by ID (their distinct name, birth
   date, sex, village and agency-entity combinations) and with the other unresolved records, on
   the normalized name, birth date, sex, village (and township) code, the agency's entity key
   (case, certificate, employer...) and, for a number that fails its check character, the one
   correction of a single digit that gives a known person (:func:`id_corrections`; found
   through keys, so no ID number is stored). m-probabilities are learned from the
   deterministic links (records with IDs are labelled pairs), u-probabilities by random
   sampling; both are saved with the warehouse so later runs score pairs the same way.
3. A record takes its best-matching person at or above :data:`MATCH_THRESHOLD`; unresolved
   records linked to each other at the threshold form new persons; a record that matches
   nobody becomes its own person (method ``singleton``, flagged), never dropped.

Each link has an ``evidence_date``: the day from which the data that made it was on record
(the later of the record's own recorded date and the first recording of the matched profile).
The feature build uses a link only from that day, so a later record cannot reach back.
"""

from __future__ import annotations

import json
import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from core import idnumber
from features import warehouse
from features.pseudonym import Pseudonymizer

MATCH_THRESHOLD = 0.9
"""A record joins a person when the Fellegi-Sunter match probability is at least this."""
LOW_CONFIDENCE = 0.99
"""Links below this probability are low-confidence: shown, and routed to a person to confirm."""
PREDICT_FLOOR = 0.01
"""Pairs scored below this are not kept (they never decide anything)."""
SEED = 20240101

Progress = Callable[[str], None]


# ------------------------------------------------------------------------- pure helpers
def normalize_name(name: str | None) -> str | None:
    """Compare-ready form of a recorded name: NFKC (full-width to half-width), no whitespace,
    Latin letters lower-cased. Chinese characters are kept as they are.

    >>> normalize_name("王　伟"), normalize_name(" Zhang  Wei ")
    ('王伟', 'zhangwei')
    """
    if name is None:
        return None
    s = "".join(unicodedata.normalize("NFKC", str(name)).split()).casefold()
    return s or None


def id_corrections(raw: str) -> list[str]:
    """Every valid 18-character ID one digit away from ``raw`` that keeps its check character.

    A single mistyped digit changes the weighted sum by a non-multiple of 11, so for each of the
    17 positions at most one digit restores the check: at most 17 candidates, usually one or
    two with a possible birth date.

    >>> "11010519491231002X" in id_corrections("11010519491231012X")
    True
    """
    text = str(raw).strip().upper()
    if len(text) != 18 or not text[:17].isdigit() or text[17] not in idnumber.CHECK_CHARS:
        return []
    digits = [int(c) for c in text[:17]]
    total = sum(w * d for w, d in zip(idnumber.WEIGHTS, digits, strict=True))
    want = idnumber.CHECK_CHARS.index(text[17])  # the remainder the check character stands for
    out = []
    for pos, (w, a) in enumerate(zip(idnumber.WEIGHTS, digits, strict=True)):
        # solve total + w * (d - a) = want (mod 11) for the digit d
        d = (a + (want - total) * pow(w, -1, 11)) % 11
        if d == a or d > 9:
            continue
        cand = text[:pos] + str(d) + text[pos + 1 :]
        if idnumber.normalize(cand).raw_status is idnumber.IdStatus.VALID:
            out.append(cand)
    return out


def pairwise_counts(pred: np.ndarray, truth: np.ndarray, flag: np.ndarray | None = None) -> dict:
    """Pairwise true/predicted/correct pair counts of a clustering against the truth.

    With ``flag`` (one bool per record), only pairs with at least one flagged record count.
    """
    frame = pd.DataFrame({"p": pred, "t": truth, "f": True if flag is None else flag})

    def pairs(groups: list[str]) -> int:
        g = frame.groupby(groups, sort=False)["f"].agg(["size", "sum"])
        n = g["size"].to_numpy(np.int64)
        if flag is None:
            return int((n * (n - 1) // 2).sum())
        a = n - g["sum"].to_numpy(np.int64)  # unflagged
        return int((n * (n - 1) // 2 - a * (a - 1) // 2).sum())

    correct, predicted, true = pairs(["p", "t"]), pairs(["p"]), pairs(["t"])
    return {
        "true_pairs": true,
        "predicted_pairs": predicted,
        "correct_pairs": correct,
        "precision": correct / predicted if predicted else 1.0,
        "recall": correct / true if true else 1.0,
    }


# ------------------------------------------------------------------------- Splink model
def _level(sql: str, label: str, **kw) -> dict:
    return {"sql_condition": sql, "label_for_charts": label, **kw}


def _null(col: str) -> dict:
    return _level(f'"{col}_l" IS NULL OR "{col}_r" IS NULL', "null", is_null_level=True)


def comparisons(fields: set[str]) -> list[dict]:
    """Fellegi-Sunter comparisons of the fields present (Splink settings dicts).

    The m-probabilities given here are starting values, used as they are only where the data
    cannot train them (a small table without IDs); training replaces them.
    """
    out = []
    if "id" in fields:
        has_l = '("person_key_l" IS NOT NULL OR "id_fix_l" IS NOT NULL)'
        has_r = '("person_key_r" IS NOT NULL OR "id_fix_r" IS NOT NULL)'
        out.append(
            {
                "output_column_name": "id",
                "comparison_description": "usable ID numbers, or the single-digit correction "
                "of one failing its check character",
                "comparison_levels": [
                    _level(f"NOT ({has_l} AND {has_r})", "nothing to compare", is_null_level=True),
                    _level(
                        '"person_key_l" = "person_key_r" OR "person_key_l" = "id_fix_r" '
                        'OR "id_fix_l" = "person_key_r" OR "id_fix_l" = "id_fix_r"',
                        "same ID (or corrected ID)",
                        m_probability=0.95,
                        u_probability=1e-7,
                        fix_m_probability=True,
                        fix_u_probability=True,
                    ),
                    _level(
                        "ELSE",
                        "different ID",
                        m_probability=0.05,
                        u_probability=1.0 - 1e-7,
                        fix_m_probability=True,
                        fix_u_probability=True,
                    ),
                ],
            }
        )
    if "name" in fields:
        out.append(
            {
                "output_column_name": "name",
                "comparison_levels": [
                    _null("name_norm"),
                    _level(
                        '"name_norm_l" = "name_norm_r"',
                        "exact",
                        tf_adjustment_column="name_norm",
                        tf_adjustment_weight=1.0,
                        m_probability=0.9,
                    ),
                    _level(
                        'levenshtein("name_norm_l", "name_norm_r") <= 1',
                        "one character",
                        m_probability=0.08,
                    ),
                    _level("ELSE", "different", m_probability=0.02),
                ],
            }
        )
    if "birth_date" in fields:
        out.append(
            {
                "output_column_name": "birth_date",
                "comparison_levels": [
                    _null("birth_date"),
                    _level(
                        '"birth_date_l" = "birth_date_r"',
                        "exact",
                        tf_adjustment_column="birth_date",
                        tf_adjustment_weight=1.0,
                        m_probability=0.95,
                    ),
                    _level(
                        'year("birth_date_l") = year("birth_date_r")',
                        "same year",
                        m_probability=0.03,
                    ),
                    _level("ELSE", "different", m_probability=0.02),
                ],
            }
        )
    if "sex" in fields:
        out.append(
            {
                "output_column_name": "sex",
                "comparison_levels": [
                    _null("sex"),
                    _level('"sex_l" = "sex_r"', "same", m_probability=0.98),
                    _level("ELSE", "different", m_probability=0.02),
                ],
            }
        )
    if "address" in fields:
        out.append(
            {
                "output_column_name": "address",
                "comparison_levels": [
                    _null("address"),
                    _level('"address_l" = "address_r"', "same code", m_probability=0.85),
                    _level(
                        'left("address_l", 9) = left("address_r", 9)',
                        "same township",
                        m_probability=0.1,
                    ),
                    _level("ELSE", "different", m_probability=0.05),
                ],
            }
        )
    if "entity_key" in fields:
        out.append(
            {
                "output_column_name": "entity_key",
                "comparison_levels": [
                    _null("entity_key"),
                    _level(
                        '"entity_key_l" = "entity_key_r"',
                        "same case / certificate",
                        m_probability=0.7,
                    ),
                    _level("ELSE", "different", m_probability=0.3),
                ],
            }
        )
    return out


def blocking_rules(fields: set[str], pair_filter: str = "") -> list[dict]:
    """Blocking rules over the fields present; ``pair_filter`` restricts which pairs count."""
    cand = []
    if "id" in fields:
        cand += [["person_key|id_fix"], ["id_fix"]]
    if {"name", "birth_date"} <= fields:
        cand.append(["name_norm", "birth_date"])
    if {"name", "address"} <= fields:
        cand.append(["name_norm", "address"])
    if {"birth_date", "address"} <= fields:
        cand.append(["birth_date", "address"])
    if {"entity_key", "name"} <= fields:
        cand.append(["entity_key", "surname"])
    if {"birth_date", "sex", "name"} <= fields:
        cand.append(["birth_date", "surname", "sex"])
    if fields == {"name"} or not cand:
        cand.append(["name_norm"])
    rules = []
    for cols in cand:
        parts = []
        for c in cols:
            if "|" in c:
                a, b = c.split("|")
                parts.append(f'l."{a}" = r."{b}"')
            else:
                parts.append(f'l."{c}" = r."{c}"')
        sql = " AND ".join(parts) + (f" AND {pair_filter}" if pair_filter else "")
        rules.append({"blocking_rule": sql, "sql_dialect": "duckdb"})
    return rules


def settings(fields: set[str], prior: float, pair_filter: str = "", retain: list[str] = ()) -> dict:
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": prior,
        "blocking_rules_to_generate_predictions": blocking_rules(fields, pair_filter),
        "comparisons": comparisons(fields),
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": False,
        "additional_columns_to_retain": list(retain),
        "em_convergence": 0.001,
    }


def _quiet_splink() -> None:
    logging.getLogger("splink").setLevel(logging.ERROR)


def _linker(con: duckdb.DuckDBPyConnection, table: str, model: dict):
    from splink import DuckDBAPI, Linker

    db = DuckDBAPI(con)
    return Linker(db.register(con.table(table)), model, log_level=logging.ERROR)


def train_model(
    con: duckdb.DuckDBPyConnection, training_table: str, fields: set[str], prior: float
) -> dict:
    """Learn m from the label column ``person_key`` and u by seeded random sampling.

    Returns the trained Splink settings (JSON-ready).
    """
    _quiet_splink()
    linker = _linker(con, training_table, settings(fields, prior))
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=SEED)
    linker.training.estimate_m_from_label_column("person_key")
    return smooth_m(linker.misc.save_model_to_json())


M_FLOOR = 1e-3
"""No trained m-probability goes below this: a disagreement seen in none of the labelled pairs
(say, two birth dates of one person) is rare, not impossible."""


def smooth_m(model: dict) -> dict:
    """Floor every trained m-probability at :data:`M_FLOOR` and renormalize per comparison."""
    for comp in model["comparisons"]:
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        if any(lv.get("fix_m_probability") for lv in levels):
            continue
        ms = [max(float(lv.get("m_probability") or 0.0), M_FLOOR) for lv in levels]
        total = sum(ms)
        for lv, m in zip(levels, ms, strict=True):
            lv["m_probability"] = m / total
    return model


# --------------------------------------------------------------------------- the run
@dataclass
class LinkReport:
    by_agency_method: dict[str, dict[str, int]] = field(default_factory=dict)
    persons_by_method: dict[str, int] = field(default_factory=dict)
    low_confidence_links: int = 0
    households: int = 0
    households_low_confidence: int = 0
    quality: dict | None = None
    threshold: float = MATCH_THRESHOLD
    low_confidence_below: float = LOW_CONFIDENCE
    model_path: str = ""
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


LINK_FIELDS = {"id", "name", "birth_date", "sex", "address", "entity_key"}


def _name_table(con: duckdb.DuckDBPyConnection) -> None:
    names = con.execute(
        "SELECT DISTINCT name FROM person_records WHERE name IS NOT NULL"
    ).fetchall()
    raw = [n for (n,) in names]
    norm = [normalize_name(n) for n in raw]
    con.register(
        "name_map_src",
        pa.table(
            {
                "name": pa.array(raw, pa.string()),
                "name_norm": pa.array(norm, pa.string()),
                "surname": pa.array([n[:1] if n else None for n in norm], pa.string()),
            }
        ),
    )
    con.execute("CREATE OR REPLACE TEMP TABLE name_map AS SELECT * FROM name_map_src")
    con.unregister("name_map_src")


def _id_fix_table(con: duckdb.DuckDBPyConnection, keys: Pseudonymizer) -> None:
    """``id_fix``: the key of the one known person a failing ID corrects to (else null)."""
    raws = [
        r
        for (r,) in con.execute(
            "SELECT DISTINCT id_invalid FROM person_records WHERE id_invalid IS NOT NULL"
        ).fetchall()
    ]
    known = {
        k
        for (k,) in con.execute(
            "SELECT DISTINCT person_key FROM link_input WHERE kind = 'p'"
        ).fetchall()
    }
    fix = []
    for r in raws:
        hits = {keys.person_key(c) for c in id_corrections(r)} & known
        fix.append(hits.pop() if len(hits) == 1 else None)
    con.register(
        "id_fix_src",
        pa.table({"id_invalid": pa.array(raws, pa.string()), "id_fix": pa.array(fix, pa.string())}),
    )
    con.execute("CREATE OR REPLACE TEMP TABLE id_fix_map AS SELECT * FROM id_fix_src")
    con.unregister("id_fix_src")


def link(
    con: duckdb.DuckDBPyConnection,
    keys: Pseudonymizer,
    model_path: Path,
    retrain: bool = False,
    truth_dir: Path | None = None,
    progress: Progress | None = None,
) -> LinkReport:
    """Rebuild ``links``, ``persons`` and ``memberships`` from ``person_records``."""
    import time

    say = progress or (lambda _msg: None)
    report = LinkReport(model_path=str(model_path))
    t0 = time.perf_counter()
    say("normalizing names and IDs")
    _name_table(con)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE recs AS
        SELECT p.agency, p.record_id, p.recorded_date, p.person_key, p.id_invalid,
               n.name_norm, n.surname, p.birth_date, p.sex, p.village_code AS address,
               p.entity_key
        FROM person_records p LEFT JOIN name_map n USING (name)
        """
    )
    # profiles of persons known by ID, and the unresolved records, in one table
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE link_input AS
        SELECT 'p' || lpad(CAST(row_number() OVER (ORDER BY person_key, name_norm, birth_date,
                       sex, address, entity_key) AS VARCHAR), 12, '0') AS unique_id,
               'p' AS kind, person_key, CAST(NULL AS VARCHAR) AS id_fix, name_norm, surname,
               birth_date, sex, address, entity_key, first_seen
        FROM (SELECT person_key, name_norm, surname, birth_date, sex, address, entity_key,
                     min(recorded_date) AS first_seen
              FROM recs WHERE person_key IS NOT NULL
              GROUP BY ALL)
        """
    )
    _id_fix_table(con, keys)
    con.execute(
        """
        INSERT INTO link_input
        SELECT 'r' || r.agency || ':' || r.record_id, 'r', NULL, f.id_fix, r.name_norm, r.surname,
               r.birth_date, r.sex, r.address, r.entity_key, r.recorded_date
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
                   CAST(NULL AS VARCHAR) AS id_fix, name_norm, surname, birth_date, sex,
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
    _quiet_splink()
    linker = _linker(con, "link_input", model)
    pred = linker.inference.predict(threshold_match_probability=PREDICT_FLOOR)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE pairs AS
            SELECT unique_id_l AS a, unique_id_r AS b, kind_l, kind_r, person_key_l,
                   first_seen_l, first_seen_r, match_probability AS p
            FROM {pred.physical_name}"""
    )
    report.seconds["predict"] = time.perf_counter() - t
    say("assigning records to persons")
    t = time.perf_counter()
    _assign(con)
    report.seconds["assign"] = time.perf_counter() - t
    t = time.perf_counter()
    _write_links(con, keys)
    report.seconds["write"] = time.perf_counter() - t
    _report(con, report)
    if truth_dir is not None and (truth_dir / "records").is_dir():
        say("measuring against the simulator's truth")
        report.quality = evaluate(con, truth_dir)
    report.seconds["total"] = time.perf_counter() - t0
    return report


def _assign(con: duckdb.DuckDBPyConnection) -> None:
    """Resolve every unresolved record (temp table ``resolved``)."""
    th = MATCH_THRESHOLD
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE resolved AS
        WITH per_person AS (  -- a person's best profile for the record, earliest evidence first
            SELECT b AS uid, person_key_l AS person_id, max(p) AS p,
                   min(greatest(first_seen_l, first_seen_r)) FILTER (WHERE p = p_max)
                       AS evidence_date
            FROM (SELECT *, max(p) OVER (PARTITION BY b, person_key_l) AS p_max
                  FROM pairs WHERE kind_l = 'p' AND p >= {th})
            GROUP BY b, person_key_l
        ),
        best AS (
            SELECT *, row_number() OVER (PARTITION BY uid ORDER BY p DESC, person_id) AS rk,
                   count(*) OVER (PARTITION BY uid, p) AS tied
            FROM per_person
        )
        -- two persons equally likely: the record is ambiguous and is left unresolved
        SELECT uid, person_id, p, evidence_date, 'probabilistic' AS method
        FROM best WHERE rk = 1 AND tied = 1
        """
    )
    # unresolved records linked to a resolved one take its person; the rest cluster together
    con.execute(
        f"""
        INSERT INTO resolved
        SELECT uid, person_id, p, evidence_date, 'probabilistic' FROM (
            SELECT u.uid, r.person_id, least(u.p, r.p) AS p,
                   greatest(u.seen, r.evidence_date) AS evidence_date,
                   row_number() OVER (
                       PARTITION BY u.uid
                       ORDER BY least(u.p, r.p) DESC, r.person_id,
                                greatest(u.seen, r.evidence_date), u.other) AS rk
            FROM (SELECT a AS uid, b AS other, p, greatest(first_seen_l, first_seen_r) AS seen
                  FROM pairs WHERE kind_l = 'r' AND p >= {th}
                  UNION ALL
                  SELECT b, a, p, greatest(first_seen_l, first_seen_r)
                  FROM pairs WHERE kind_l = 'r' AND p >= {th}) u
            JOIN resolved r ON r.uid = u.other
            ANTI JOIN resolved done ON done.uid = u.uid
        ) WHERE rk = 1
        """
    )
    rest = con.execute(
        f"""
        SELECT a, b, p FROM pairs
        WHERE kind_l = 'r' AND p >= {th}
          AND a NOT IN (SELECT uid FROM resolved) AND b NOT IN (SELECT uid FROM resolved)
        """
    ).fetchall()
    unresolved = [
        u
        for (u,) in con.execute(
            "SELECT unique_id FROM link_input WHERE kind = 'r' "
            "AND unique_id NOT IN (SELECT uid FROM resolved) ORDER BY unique_id"
        ).fetchall()
    ]
    parent = {u: u for u in unresolved}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    best_p: dict[str, float] = {}
    for a, b, p in rest:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
        best_p[a] = max(best_p.get(a, 0.0), p)
        best_p[b] = max(best_p.get(b, 0.0), p)
    rows = [(u, find(u), best_p.get(u)) for u in unresolved]
    frame = pd.DataFrame(rows, columns=["uid", "root", "p"])
    con.register("clusters_src", frame)
    con.execute(
        """
        INSERT INTO resolved
        SELECT c.uid, 'U' || md5(c.root)[:24], c.p, i.first_seen,
               CASE WHEN c.p IS NULL THEN 'singleton' ELSE 'probabilistic' END
        FROM clusters_src c JOIN link_input i ON i.unique_id = c.uid
        """
    )
    con.unregister("clusters_src")


def _write_links(con: duckdb.DuckDBPyConnection, keys: Pseudonymizer) -> None:
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM links")
        con.execute(
            """
            INSERT INTO links
            SELECT agency, record_id, person_key, 'id', 1.0, recorded_date
            FROM recs WHERE person_key IS NOT NULL
            """
        )
        con.execute(
            """
            INSERT INTO links
            SELECT r.agency, r.record_id, s.person_id, s.method, s.p,
                   greatest(s.evidence_date, r.recorded_date)
            FROM recs r JOIN resolved s ON s.uid = 'r' || r.agency || ':' || r.record_id
            """
        )
        con.execute("DELETE FROM persons")
        con.execute(
            """
            INSERT INTO persons
            WITH r AS (
                SELECT l.person_id, l.method, p.birth_date, p.sex, p.recorded_date
                FROM links l JOIN person_records p USING (agency, record_id)
            ),
            -- the most frequent value; ties go to the smallest, so the result is deterministic
            b AS (
                SELECT person_id, birth_date,
                       row_number() OVER (PARTITION BY person_id
                                          ORDER BY count(*) DESC, birth_date) AS rk
                FROM r WHERE birth_date IS NOT NULL GROUP BY person_id, birth_date
            ),
            s AS (
                SELECT person_id, sex,
                       row_number() OVER (PARTITION BY person_id
                                          ORDER BY count(*) DESC, sex) AS rk
                FROM r WHERE sex IS NOT NULL GROUP BY person_id, sex
            )
            SELECT r.person_id, any_value(b.birth_date), any_value(s.sex),
                   CASE WHEN bool_or(r.method = 'id') THEN 'id'
                        WHEN bool_or(r.method = 'probabilistic') THEN 'probabilistic'
                        ELSE 'singleton' END,
                   count(*), min(r.recorded_date)
            FROM r
            LEFT JOIN b ON b.person_id = r.person_id AND b.rk = 1
            LEFT JOIN s ON s.person_id = r.person_id AND s.rk = 1
            GROUP BY r.person_id
            """
        )
        numbers = [
            n
            for (n,) in con.execute(
                "SELECT DISTINCT registry_household_no FROM rec_civil_registry"
            ).fetchall()
        ]
        hk = keys.household_keys(numbers)
        con.register(
            "hh_src",
            pa.table(
                {
                    "registry_household_no": pa.array(list(hk), pa.string()),
                    "household_id": pa.array(list(hk.values()), pa.string()),
                }
            ),
        )
        con.execute("DELETE FROM memberships")
        con.execute(
            """
            INSERT INTO memberships
            SELECT l.person_id, h.household_id, c.record_id, c.event, c.relation, c.hukou_type,
                   c.village_code, c.event_date, c.recorded_date, l.evidence_date,
                   l.match_probability
            FROM rec_civil_registry c
            JOIN links l ON l.agency = 'civil_registry' AND l.record_id = c.record_id
            JOIN hh_src h USING (registry_household_no)
            """
        )
        con.unregister("hh_src")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _report(con: duckdb.DuckDBPyConnection, report: LinkReport) -> None:
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


def evaluate(con: duckdb.DuckDBPyConnection, truth_dir: Path) -> dict:
    """Pairwise precision and recall of the links against the simulator's truth."""
    pattern = str(truth_dir / "records" / "*" / "*.parquet")
    frame = con.execute(
        f"""
        SELECT l.person_id AS pred, t.person_id AS truth,
               p.person_key IS NULL AS no_id, l.agency
        FROM links l
        JOIN person_records p USING (agency, record_id)
        JOIN (SELECT DISTINCT regexp_extract(filename, 'records/([^/]+)/', 1) AS agency,
                     record_id, person_id
              FROM read_parquet('{pattern}', filename = true)) t USING (agency, record_id)
        """
    ).df()
    pred = frame["pred"].to_numpy(object)
    truth = frame["truth"].to_numpy()
    return {
        "records": len(frame),
        "records_without_usable_id": int(frame["no_id"].sum()),
        "overall": pairwise_counts(pred, truth),
        "without_usable_id": pairwise_counts(pred, truth, frame["no_id"].to_numpy(bool)),
    }


# ------------------------------------------------------------ any person table (onboarding)
TABLE_FIELDS = ("name", "birth_date", "sex", "address", "id")
_SEX = {"m": "M", "male": "M", "男": "M", "1": "M", "f": "F", "female": "F", "女": "F", "2": "F"}


def parse_map(text: str, columns: list[str]) -> dict[str, str]:
    """``name=COL,birth_date=COL,...`` checked against the table's columns.

    Raises:
        ConfigError: an unknown field, a missing column, a field given twice, or no usable field.
    """
    from core.errors import ConfigError

    out: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        field_, sep, col = part.partition("=")
        field_, col = field_.strip(), col.strip()
        if not sep or not col:
            raise ConfigError(f"--map entry '{part}' is not FIELD=COLUMN")
        if field_ not in TABLE_FIELDS:
            raise ConfigError(f"--map field '{field_}' is unknown; use {', '.join(TABLE_FIELDS)}")
        if field_ in out:
            raise ConfigError(f"--map gives '{field_}' twice")
        if col not in columns:
            raise ConfigError(f"--map column '{col}' is not in the table")
        out[field_] = col
    if not out.keys() & {"name", "birth_date", "id"}:
        raise ConfigError("--map needs at least one of name, birth_date, id")
    return out


def _parse_dates(values: pd.Series) -> pd.Series:
    text = values.map(lambda v: None if v is None or v != v else str(v).strip()[:10])
    text = text.str.replace("/", "-", regex=False).str.replace(".", "-", regex=False)
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    compact = pd.to_datetime(text, format="%Y%m%d", errors="coerce")
    return parsed.fillna(compact).dt.date.astype(object).where(parsed.fillna(compact).notna(), None)


def _table_prior(inp: pd.DataFrame) -> float | None:
    """The chance two random rows are the same person, measured on rows with usable IDs (None
    when there are too few to measure)."""
    ids = inp["person_key"].dropna() if "person_key" in inp else pd.Series([], dtype=object)
    if len(ids) < 20:
        return None
    sizes = ids.value_counts().to_numpy(np.int64)
    same = int((sizes * (sizes - 1) // 2).sum())
    total = len(ids) * (len(ids) - 1) // 2
    return min(max(same / total, 1e-9), 0.5)


def link_table(
    frame: pd.DataFrame, mapping: dict[str, str], keys: Pseudonymizer
) -> tuple[pd.DataFrame, dict]:
    """Deduplicate any person table: the input columns plus ``cluster_id`` and
    ``match_probability`` (1.0 for the same usable ID, the best pair probability that joined the
    record to its cluster otherwise, null for a record that matched nobody).

    The model is the same as for agency records: m learned from usable IDs when the table has
    them, else by expectation maximisation; u by seeded random sampling.
    """
    n = len(frame)
    fields = {f for f in mapping if f != "id"} | ({"id"} if "id" in mapping else set())
    inp = pd.DataFrame({"unique_id": np.arange(n, dtype=np.int64)})
    notes: dict = {"rows": n, "fields": sorted(mapping)}
    if "name" in mapping:
        norm = frame[mapping["name"]].map(
            lambda v: None if v is None or v != v else normalize_name(v)
        )
        inp["name_norm"] = norm
        inp["surname"] = norm.map(lambda v: v[:1] if v else None)
    if "birth_date" in mapping:
        inp["birth_date"] = _parse_dates(frame[mapping["birth_date"]])
        notes["unreadable_birth_dates"] = int(
            (inp["birth_date"].isna() & frame[mapping["birth_date"]].notna()).sum()
        )
    if "sex" in mapping:
        inp["sex"] = frame[mapping["sex"]].map(
            lambda v: None if v is None or v != v else _SEX.get(str(v).strip().lower())
        )
    if "address" in mapping:
        inp["address"] = frame[mapping["address"]].map(
            lambda v: None if v is None or v != v else str(v).strip() or None
        )
    if "id" in mapping:
        raw = frame[mapping["id"]]
        nids = raw.map(lambda v: idnumber.normalize(v))
        inp["person_key"] = nids.map(lambda x: keys.person_key(x.value) if x.value else None)
        known = set(inp["person_key"].dropna())
        bad = [
            str(v).strip() if x.raw_status is idnumber.IdStatus.BAD_CHECK else None
            for v, x in zip(raw, nids, strict=True)
        ]
        fix = []
        for b in bad:
            hits = {keys.person_key(c) for c in id_corrections(b)} & known if b else set()
            fix.append(hits.pop() if len(hits) == 1 else None)
        inp["id_fix"] = fix
        notes["usable_ids"] = int(inp["person_key"].notna().sum())
    for col in ("name_norm", "surname", "birth_date", "sex", "address", "entity_key",
                "person_key", "id_fix"):  # fmt: skip
        if col not in inp:
            inp[col] = None
    inp["entity_key"] = None
    fields_present = fields
    con = duckdb.connect()
    try:
        con.register("tbl_src", inp.astype(object).where(inp.notna(), None))
        con.execute(
            "CREATE TABLE tbl AS SELECT unique_id, CAST(name_norm AS VARCHAR) name_norm, "
            "CAST(surname AS VARCHAR) surname, CAST(birth_date AS DATE) birth_date, "
            "CAST(sex AS VARCHAR) sex, CAST(address AS VARCHAR) address, "
            "CAST(entity_key AS VARCHAR) entity_key, CAST(person_key AS VARCHAR) person_key, "
            "CAST(id_fix AS VARCHAR) id_fix FROM tbl_src"
        )
        prior = _table_prior(inp)
        _quiet_splink()
        model = settings(fields_present, prior)
        linker = _linker(con, "tbl", model)
        if prior is None:
            rule = "l.name_norm = r.name_norm" + (
                " AND l.birth_date = r.birth_date" if "birth_date" in fields_present else ""
            )
            if "name" not in fields_present:
                rule = "l.birth_date = r.birth_date AND l.sex = r.sex"
            linker.training.estimate_probability_two_random_records_match([rule], recall=0.8)
        notes["prior_match_probability"] = (
            linker._settings_obj._probability_two_random_records_match
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=SEED)
        trained = "expectation maximisation"
        if notes.get("usable_ids", 0) >= 2:
            linker.training.estimate_m_from_label_column("person_key")
            trained = "labels from usable IDs"
        else:
            for rule in blocking_rules(fields_present)[:2]:
                try:
                    linker.training.estimate_parameters_using_expectation_maximisation(
                        rule["blocking_rule"]
                    )
                except Exception as exc:  # noqa: BLE001 - Splink raises plain exceptions
                    notes.setdefault("training_notes", []).append(str(exc).splitlines()[0])
        notes["m_estimated_by"] = trained
        pred = linker.inference.predict(threshold_match_probability=PREDICT_FLOOR)
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            pred, threshold_match_probability=MATCH_THRESHOLD
        )
        out = con.execute(
            f"""
            WITH e AS (
                SELECT unique_id_l AS u, match_probability AS p FROM {pred.physical_name}
                WHERE match_probability >= {MATCH_THRESHOLD}
                UNION ALL
                SELECT unique_id_r, match_probability FROM {pred.physical_name}
                WHERE match_probability >= {MATCH_THRESHOLD})
            SELECT c.unique_id, any_value(c.cluster_id) AS cluster_id,
                   max(e.p) AS match_probability
            FROM {clusters.physical_name} c LEFT JOIN e ON e.u = c.unique_id
            GROUP BY c.unique_id ORDER BY c.unique_id
            """
        ).df()
    finally:
        con.close()
    result = frame.copy()
    cid = out.set_index("unique_id")["cluster_id"]
    # stable, dense cluster ids in first-appearance order
    order = pd.Series(cid.reindex(range(n)).to_numpy())
    codes = {c: i + 1 for i, c in enumerate(pd.unique(order))}
    result["cluster_id"] = order.map(codes).astype("int64").to_numpy()
    result["match_probability"] = (
        out.set_index("unique_id")["match_probability"].reindex(range(n)).to_numpy()
    )
    notes["clusters"] = int(result["cluster_id"].nunique())
    notes["records_in_multi_record_clusters"] = int(
        result["cluster_id"].duplicated(keep=False).sum()
    )
    notes["threshold"] = MATCH_THRESHOLD
    return result, notes
