"""Prepared reads (``serving.api.prepared``): the hot list and score reads answered outside the
framework give the routes' exact answers, write the same audit row per read, and leave every
refusal and every unusual request to the routes."""

from __future__ import annotations

import concurrent.futures

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from support.bare_service import UNLIMITED

from serving.api.prepared import PreparedReads
from serving.app import create_app
from serving.runtime import auth
from serving.runtime.audit import AuditWriteError
from serving.runtime.service import ServiceOptions
from serving.store import chain, db, tables

pytestmark = pytest.mark.integration
VARYING = {"x-request-id", "date"}


def _token(settings, role: str, jurisdiction: str | None = None) -> tuple[str, str]:
    engine = db.make_engine(settings.service_db_url)
    with engine.begin() as conn:
        token, token_id = auth.create_token(conn, role, jurisdiction)
    engine.dispose()
    return token, token_id


@pytest.fixture
def answered(monkeypatch) -> list[bool]:
    """Whether each request the prepared layer saw was answered by it."""
    seen: list[bool] = []
    original = PreparedReads._answered

    async def spy(self, scope, receive, send):
        done = await original(self, scope, receive, send)
        seen.append(done)
        return done

    monkeypatch.setattr(PreparedReads, "_answered", spy)
    return seen


def _reads(settings, prepared: bool, paths: list[str], token: str, encoding: str) -> list:
    options = ServiceOptions(**UNLIMITED, prepared_reads=prepared, explain_cache=0)
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": encoding}
    with TestClient(create_app(settings, options)) as client:
        for path in paths:  # once each first: the token is verified, the list prepared
            client.get(path, headers=headers)
        return [client.get(path, headers=headers) for path in paths]


def _same(a, b) -> None:
    assert a.status_code == b.status_code
    if a.status_code >= 400:  # problems carry their request's id
        assert a.json() | {"request_id": ""} == b.json() | {"request_id": ""}
    else:
        assert a.content == b.content
    strip = lambda r: [(k, v) for k, v in r.headers.multi_items() if k not in VARYING]  # noqa: E731
    assert strip(a) == strip(b)


@pytest.mark.parametrize("role", ["caseworker", "auditor"])
@pytest.mark.parametrize("encoding", ["gzip", "identity"])
def test_prepared_answers_are_the_routes_answers(service_settings, answered, encoding, role):
    from support.service_seed import OWN_TOWNSHIP, subjects

    s = subjects(service_settings)
    token, _ = _token(service_settings, role, OWN_TOWNSHIP if role == "caseworker" else None)
    paths = [f"/api/v1/lists/{OWN_TOWNSHIP}", f"/api/v1/households/{s.own_household}/score"]
    if role == "auditor":  # the whole county
        paths += [
            f"/api/v1/households/{s.neighbour_household}/score",
            f"/api/v1/lists/{s.own_village}",
        ]
    fast = _reads(service_settings, True, paths, token, encoding)
    assert answered[-len(paths) :] == [True] * len(paths)  # the measured reads took the fast path
    routed = _reads(service_settings, False, paths, token, encoding)
    for a, b in zip(fast, routed, strict=True):
        assert a.status_code == 200
        _same(a, b)
    assert (fast[0].headers.get("content-encoding") == "gzip") == (encoding == "gzip")


def test_every_prepared_read_commits_its_audit_row_in_the_chain(service_settings, answered):
    from support.service_seed import OWN_TOWNSHIP, subjects

    s = subjects(service_settings)
    token, token_id = _token(service_settings, "caseworker", OWN_TOWNSHIP)
    paths = [f"/api/v1/lists/{OWN_TOWNSHIP}", f"/api/v1/households/{s.own_household}/score"] * 3
    answers = _reads(service_settings, True, paths, token, "gzip")
    assert answered[-len(paths) :] == [True] * len(paths)
    engine = db.make_engine(service_settings.service_db_url)
    with engine.connect() as conn:
        for r, path in zip(answers, paths, strict=True):
            q = sa.select(tables.audit_log).where(
                tables.audit_log.c.request_id == r.headers["x-request-id"]
            )
            rows = conn.execute(q).mappings().all()
            assert len(rows) == 1, path
            row = rows[0]
            assert (row["actor"], row["action"]) == (token_id, "read")
            if "/lists/" in path:
                assert (row["resource"], row["jurisdiction_code"]) == ("list", OWN_TOWNSHIP)
            else:
                assert (row["resource"], row["household_id"]) == (
                    "household_score",
                    s.own_household,
                )
        assert chain.verify(conn).ok
    engine.dispose()


def test_refusals_and_unusual_reads_are_left_to_the_routes(service_settings, answered) -> None:
    from support.service_seed import OTHER_HOUSEHOLD, OTHER_TOWNSHIP, OWN_TOWNSHIP

    token, _ = _token(service_settings, "caseworker", OWN_TOWNSHIP)
    paths = [f"/api/v1/lists/{OTHER_TOWNSHIP}", f"/api/v1/households/{OTHER_HOUSEHOLD}/score",
             f"/api/v1/lists/{OWN_TOWNSHIP}?capacity=2", "/api/v1/lists/12345"]  # fmt: skip
    fast = _reads(service_settings, True, paths, token, "gzip")
    assert not any(answered)  # every one fell through (the query never reaches the check)
    routed = _reads(service_settings, False, paths, token, "gzip")
    assert [r.status_code for r in fast] == [404, 404, 200, 422]
    for a, b in zip(fast, routed, strict=True):
        _same(a, b)


def test_an_audit_row_that_cannot_be_written_answers_503_as_the_route(
    service_settings, answered
) -> None:
    from support.service_seed import OWN_TOWNSHIP

    token, _ = _token(service_settings, "caseworker", OWN_TOWNSHIP)
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/v1/lists/{OWN_TOWNSHIP}"
    answers = []
    for prepared in (True, False):
        options = ServiceOptions(**UNLIMITED, prepared_reads=prepared)
        app = create_app(service_settings, options)
        with TestClient(app) as client:
            client.get(path, headers=headers)

            def failing(*events):
                future: concurrent.futures.Future[int] = concurrent.futures.Future()
                future.set_exception(AuditWriteError("1 audit events could not be committed"))
                return future

            app.state.service.audit.submit = failing  # this app's writer only
            answers.append(client.get(path, headers=headers))
    assert answered[-1] is True
    fast, routed = answers
    assert fast.status_code == 503 and "nothing was served" in fast.json()["detail"]
    assert fast.json() | {"request_id": ""} == routed.json() | {"request_id": ""}


def test_a_new_run_is_served_at_once_not_the_prepared_list_of_the_old(
    service_settings, answered, tmp_path
) -> None:
    import shutil

    from support.big_list import grow_township
    from support.service_seed import OWN_TOWNSHIP

    from core.settings import load_settings

    shutil.copytree(service_settings.workspace, tmp_path / "ws")
    settings = load_settings(tmp_path / "ws", environ={})
    token, _ = _token(settings, "caseworker", OWN_TOWNSHIP)
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/v1/lists/{OWN_TOWNSHIP}"
    app = create_app(settings, ServiceOptions(**UNLIMITED, poll_seconds=60))
    with TestClient(app) as client:
        client.get(path, headers=headers)
        old = client.get(path, headers=headers).json()
        assert answered[-1] is True  # the old run's list came from the prepared bytes
        new_run = grow_township(settings.service_db_url, OWN_TOWNSHIP, n=len(old["entries"]) + 7)
        app.state.service.refresh_run()  # what the run watcher does every poll_seconds
        first, again = (client.get(path, headers=headers) for _ in range(2))
    assert old["run_id"] != new_run
    for r in (first, again):
        body = r.json()
        assert (body["run_id"], len(body["entries"])) == (new_run, len(old["entries"]) + 7)
    engine = db.make_engine(settings.service_db_url)
    with engine.connect() as conn:
        q = sa.select(tables.audit_log.c.detail).where(
            tables.audit_log.c.request_id == again.headers["x-request-id"]
        )
        assert conn.execute(q).scalar_one()["run_id"] == new_run
    engine.dispose()
