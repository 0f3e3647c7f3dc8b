"""Mistyped IDs corrected to known persons, computed once per raw ID (incremental linkage).

An ID that fails its check (``person_records.id_invalid``) may be one mistyped digit away from a
valid ID; :func:`features.linkage.comparisons.id_corrections` lists those valid IDs, and their
person keys (HMAC of the ID) are kept in the warehouse table ``id_candidates``. Each raw ID is
expanded once: a month's link expands only the raw IDs new that month. Measured on the
100,000-household twin, expanding all of them took 32 s of a 65 s link every month (135k raw
IDs, 1.46M candidates); kept, a month expands about a fiftieth of them.

What is *not* kept is the decision: ``id_fix`` (the one known person a raw ID corrects to, else
null) is taken again by every link from the candidates and the persons known by ID at that
time, because a person seen for the first time this month can make an earlier correction
possible, or ambiguous (two known persons one digit away: no correction). Rows of raw IDs no
longer in ``person_records`` (purged) are dropped, so the table never outlives its records.
The candidates are kept for one version of the corrections (:data:`CORRECTIONS_VERSION`, in
``meta``): when :func:`~features.linkage.comparisons.id_corrections` changes, bump it and the
next link expands every raw ID again.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from features.linkage.comparisons import id_corrections
from features.pseudonym import Pseudonymizer

CORRECTIONS_VERSION = "1"
"""Version of :func:`id_corrections` the kept candidates were made with (``meta``)."""


def expand_new_ids(con: duckdb.DuckDBPyConnection, keys: Pseudonymizer) -> int:
    """Add the candidates of raw IDs not expanded yet; drop those of raw IDs gone. Returns how
    many raw IDs were expanded."""
    held = con.execute("SELECT value FROM meta WHERE key = 'id_candidates_version'").fetchall()
    if held != [(CORRECTIONS_VERSION,)]:
        con.execute("DELETE FROM id_candidates")
        con.execute("DELETE FROM meta WHERE key = 'id_candidates_version'")
        con.execute("INSERT INTO meta VALUES ('id_candidates_version', ?)", [CORRECTIONS_VERSION])
    con.execute(
        "DELETE FROM id_candidates WHERE id_invalid NOT IN "
        "(SELECT id_invalid FROM person_records WHERE id_invalid IS NOT NULL)"
    )
    new = [
        r
        for (r,) in con.execute(
            """SELECT DISTINCT id_invalid FROM person_records WHERE id_invalid IS NOT NULL
               AND id_invalid NOT IN (SELECT id_invalid FROM id_candidates)"""
        ).fetchall()
    ]
    raw_col: list[str] = []
    key_col: list[str | None] = []
    for r in new:
        found = sorted({keys.person_key(c) for c in id_corrections(r)}) or [None]
        raw_col += [r] * len(found)
        key_col += found
    if new:
        src = pa.table({"id_invalid": pa.array(raw_col, pa.string()),
                        "candidate_key": pa.array(key_col, pa.string())})  # fmt: skip
        con.register("id_candidates_src", src)
        con.execute("INSERT INTO id_candidates SELECT * FROM id_candidates_src")
        con.unregister("id_candidates_src")
    return len(new)


def id_fix_table(con: duckdb.DuckDBPyConnection, keys: Pseudonymizer) -> int:
    """Temp table ``id_fix_map`` (``id_invalid``, ``id_fix``): the key of the one person known
    by ID (``link_input`` profiles) that a raw ID corrects to, else null. Returns how many raw
    IDs were expanded by this call (:func:`expand_new_ids`)."""
    expanded = expand_new_ids(con, keys)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE id_fix_map AS
        SELECT c.id_invalid,
               CASE WHEN count(DISTINCT k.person_key) = 1 THEN min(k.person_key) END AS id_fix
        FROM id_candidates c
        LEFT JOIN (SELECT DISTINCT person_key FROM link_input WHERE kind = 'p') k
               ON k.person_key = c.candidate_key
        GROUP BY c.id_invalid
        """
    )
    return expanded
