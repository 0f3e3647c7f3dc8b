"""Incremental ID corrections: each raw invalid ID is expanded once and kept; the correction
itself is decided again by every link, from the persons known by ID at that time."""

from __future__ import annotations

import duckdb

from core import idnumber
from features import warehouse
from features.linkage.comparisons import id_corrections
from features.linkage.id_fix import id_fix_table
from features.pseudonym import Pseudonymizer

KEYS = Pseudonymizer(b"a test secret of at least 32 characters")


def _id(body: str) -> str:
    return body + idnumber.check_char(body)


GOOD = _id("33022619800101123")
BAD = GOOD[:10] + str((int(GOOD[10]) + 3) % 10) + GOOD[11:]  # one mistyped digit
OTHER = _id("33022619751231004")
OTHER_BAD = OTHER[:6] + "0" + OTHER[7:] if OTHER[6] != "0" else OTHER[:6] + "1" + OTHER[7:]


def _ambiguous() -> str:
    """A mistyped ID one digit away from two or more valid IDs (the first found)."""
    for pos in range(17):
        for d in "0123456789":
            raw = GOOD[:pos] + d + GOOD[pos + 1 :]
            if raw != GOOD and len(id_corrections(raw)) >= 2:
                return raw
    raise AssertionError("no ambiguous mistyping of GOOD")


AMBIGUOUS = _ambiguous()


def _warehouse(tmp_path) -> duckdb.DuckDBPyConnection:
    return warehouse.connect(tmp_path / "warehouse.duckdb")


def _records(con, invalid: list[str], known: list[str]) -> None:
    con.execute("DELETE FROM person_records")
    for i, raw in enumerate(invalid):
        con.execute("INSERT INTO person_records (agency, record_id, id_invalid) VALUES "
                    "('medical_claims', ?, ?)", [f"r{i}", raw])  # fmt: skip
    con.execute("CREATE OR REPLACE TEMP TABLE link_input (kind VARCHAR, person_key VARCHAR)")
    for k in known:
        con.execute("INSERT INTO link_input VALUES ('p', ?)", [KEYS.person_key(k)])


def _fixes(con) -> dict[str, str | None]:
    return dict(con.execute("SELECT id_invalid, id_fix FROM id_fix_map").fetchall())


def test_a_raw_id_is_expanded_once_and_corrected_once_its_person_is_known(tmp_path) -> None:
    assert idnumber.normalize(BAD).raw_status is idnumber.IdStatus.BAD_CHECK
    con = _warehouse(tmp_path)
    _records(con, [BAD], known=[])
    assert id_fix_table(con, KEYS) == 1
    assert _fixes(con) == {BAD: None}  # nobody known by ID yet
    _records(con, [BAD], known=[GOOD])  # the person is seen with a valid ID a month later
    assert id_fix_table(con, KEYS) == 0  # nothing expanded again
    assert _fixes(con) == {BAD: KEYS.person_key(GOOD)}


def _direct(raw: str, known: list[str]) -> str | None:
    """The correction decided from scratch: the one known person one digit away."""
    hits = {KEYS.person_key(c) for c in id_corrections(raw)} & {KEYS.person_key(k) for k in known}
    return hits.pop() if len(hits) == 1 else None


def test_kept_candidates_decide_as_a_fresh_expansion_would(tmp_path) -> None:
    con = _warehouse(tmp_path)
    raws = [BAD, OTHER_BAD, AMBIGUOUS, "12345"]
    two_away = id_corrections(AMBIGUOUS)
    for known in ([GOOD, OTHER], [], two_away[:2], [OTHER]):
        _records(con, raws, known=known)
        id_fix_table(con, KEYS)
        assert _fixes(con) == {r: _direct(r, known) for r in raws}, known
    _records(con, raws, known=two_away[:2])
    id_fix_table(con, KEYS)
    assert _fixes(con)[AMBIGUOUS] is None  # two known persons one digit away: no correction


def test_candidates_of_purged_records_are_dropped(tmp_path) -> None:
    con = _warehouse(tmp_path)
    _records(con, [BAD, OTHER_BAD], known=[])
    id_fix_table(con, KEYS)
    _records(con, [OTHER_BAD], known=[])  # BAD's record was purged
    id_fix_table(con, KEYS)
    held = {r for (r,) in con.execute("SELECT DISTINCT id_invalid FROM id_candidates").fetchall()}
    assert held == {OTHER_BAD}


def test_a_new_version_of_the_corrections_expands_every_raw_id_again(tmp_path, monkeypatch) -> None:
    from features.linkage import id_fix

    con = _warehouse(tmp_path)
    _records(con, [BAD, OTHER_BAD], known=[])
    assert id_fix_table(con, KEYS) == 2
    assert id_fix_table(con, KEYS) == 0
    monkeypatch.setattr(id_fix, "CORRECTIONS_VERSION", "test-next")
    assert id_fix_table(con, KEYS) == 2
