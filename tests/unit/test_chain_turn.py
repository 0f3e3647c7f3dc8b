"""SQLite writers of one process queue for the audit chain's lock in Python (the soak's tail:
SQLite's busy handler sleeps in steps up to 100 ms); the turn is held for the transaction and
handed over by its commit or rollback, never left held."""

from __future__ import annotations

import threading

from serving.store import chain, db


def test_the_turn_is_held_for_the_transaction_and_handed_over(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'service.sqlite3'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with engine.begin() as conn:
            chain.lock(conn)
            turn = chain._TURNS[engine]
            assert turn.locked()
            chain.lock(conn)  # the same transaction again: no self-deadlock
        assert not turn.locked()  # released by the commit
        conn = engine.connect()
        conn.begin()
        chain.lock(conn)
        got: list[bool] = []
        other = threading.Thread(target=lambda: got.append(turn.acquire(timeout=30)))
        other.start()  # a second writer waits for its turn...
        conn.rollback()  # ...which the rollback hands over
        other.join(timeout=30)
        assert got == [True]
        turn.release()
        conn.close()
        with engine.begin() as c2:
            chain.lock(c2)
            assert chain.append(c2, []) == 0
        assert not turn.locked()
    finally:
        engine.dispose()
