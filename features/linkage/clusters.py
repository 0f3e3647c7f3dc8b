"""Records to persons, and persons to households: the unresolved records given a person (their
best match, else a cluster of their own), and the ``links``, ``persons`` and ``memberships``
tables written from the result.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa

from features.linkage.model import MATCH_THRESHOLD
from features.pseudonym import Pseudonymizer


def assign_records(con: duckdb.DuckDBPyConnection) -> None:
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


def write_links(con: duckdb.DuckDBPyConnection, keys: Pseudonymizer) -> None:
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
