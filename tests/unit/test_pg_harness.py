"""The PostgreSQL test harness (tests/support/pg.py) decides loudly: a server, a cluster, a skip,
or —
with CI=true — a failure."""

from __future__ import annotations

import pytest
from support import pg


def test_urls_are_pinned_to_psycopg() -> None:
    assert pg.to_psycopg("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert pg.to_psycopg("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert pg.to_psycopg("postgresql+psycopg2://u@h/d") == "postgresql+psycopg://u@h/d"


def test_no_server_and_no_binaries_gives_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(pg.PG_URL_ENV, raising=False)
    monkeypatch.setattr(pg, "LOCAL_URL", "postgresql+psycopg://postgres@127.0.0.1:1/test")
    monkeypatch.setattr(pg, "find_bindir", lambda: None)
    reason = pg.discover()
    assert isinstance(reason, str)
    assert "127.0.0.1:5432" in reason and "no initdb/pg_ctl found" in reason


def test_an_unreachable_explicit_url_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(pg.PG_MODE_ENV, raising=False)
    monkeypatch.setenv(pg.PG_URL_ENV, "postgresql://postgres:pw@127.0.0.1:1/test")
    with pytest.raises(pytest.fail.Exception, match="does not answer") as caught:
        pg.discover()
    assert "pw@" not in str(caught.value)


@pytest.mark.parametrize(
    ("ci", "outcome"), [("", pytest.skip.Exception), ("true", pytest.fail.Exception)]
)
def test_unavailable_skips_or_fails_on_ci(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="no PostgreSQL"):
        pg._unavailable("no PostgreSQL for the storage tests (reason)")
