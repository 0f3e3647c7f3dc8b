"""Service parts without a workspace: tokens and scopes, request schemas, the champion watcher,
masking helpers and the token CLI (SQLite in a temp folder)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from typer.testing import CliRunner

from core.errors import ConfigError
from serving.api.schemas import CorrectionCreate, OutcomeCreate, Reason
from serving.runtime import auth
from serving.runtime.masking import shorten_decimals
from serving.runtime.modelswap import ChampionWatcher
from serving.store import db, tables


@pytest.fixture
def engine(tmp_path):
    url = f"sqlite:///{tmp_path / 'service.sqlite3'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    yield engine
    engine.dispose()


def test_tokens_are_stored_hashed_and_expire_revoke_and_refuse_tampering(engine) -> None:
    with engine.begin() as conn:
        token, token_id = auth.create_token(conn, "caseworker", "330226001", days=30)
        stored = conn.execute(sa.select(tables.api_tokens)).mappings().one()
    assert token.startswith("otk_") and token_id in token
    assert stored["token_hash"] == auth.hash_token(token) and token not in str(dict(stored))
    with engine.connect() as conn:
        p = auth.verify_token(conn, token)
        assert p is not None and p.role == "caseworker" and p.jurisdiction == "330226001"
        assert auth.verify_token(conn, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
        assert auth.verify_token(conn, None) is None and auth.verify_token(conn, "x") is None
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
        assert auth.verify_token(conn, token, now=later) is None
    with engine.begin() as conn:
        assert auth.revoke_token(conn, token_id) and not auth.revoke_token(conn, token_id)
    with engine.connect() as conn:
        assert auth.verify_token(conn, token) is None
        assert [t["id"] for t in auth.list_tokens(conn)] == [token_id]


@pytest.mark.parametrize(
    ("role", "code"),
    [("caseworker", None), ("caseworker", "3302"), ("supervisor", "330226001"),
     ("auditor", "330226"), ("janitor", None), ("caseworker", "33022600100x")],
)  # fmt: skip
def test_scopes_that_do_not_fit_the_role_are_refused(role, code) -> None:
    with pytest.raises(ConfigError):
        auth.check_scope(role, code)


def test_areas_by_role_and_jurisdiction() -> None:
    exp = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    village = auth.Principal("a", "caseworker", "330226001002", exp)
    town = auth.Principal("b", "caseworker", "330226001", exp)
    county = auth.Principal("c", "supervisor", "330226", exp)
    everyone = auth.Principal("d", "data_scientist", None, exp)
    assert village.sees_household("330226001", "330226001002")
    assert not village.sees_household("330226001", "330226001003")
    assert town.sees_household("330226001", "330226001003")
    assert not town.sees_household("330226002", "330226002001")
    assert county.sees_household("330226002", "330226002001")
    assert not county.sees_household("330227001", "330227001001")
    assert town.sees_jurisdiction("330226001003") and not village.sees_jurisdiction("330226001")
    assert everyone.sees_household("330227001", "330227001001") and not everyone.identified
    assert not everyone.may("record") and not town.may("read_audit_log") and town.may("record")


def test_request_bodies_refuse_unknown_fields_and_id_numbers() -> None:
    OutcomeCreate(visit_date=dt.date.today(), outcome="visited")
    with pytest.raises(ValidationError):
        OutcomeCreate(visit_date=dt.date.today(), outcome="visited", benefit="stop")
    with pytest.raises(ValidationError):
        OutcomeCreate(visit_date=dt.date.today(), outcome="suspend")
    with pytest.raises(ValidationError, match="ID number"):
        CorrectionCreate(item="id", correction="his ID is 33022619830611345X", reason="card")
    r = Reason(feature="x", shap=0.037037037037037035, value=0.08333333333333333, text="t")
    assert r.model_dump_json() == (
        '{"feature":"x","shap":0.037037,"value":0.083333,"text":"t","group":null}'
    )


def test_shorten_decimals_rounds_long_floats_only() -> None:
    assert shorten_decimals("a 0.037037037037037035 b 12.5 c 7") == "a 0.037037 b 12.5 c 7"


def test_the_watcher_swaps_on_an_alias_move_and_keeps_serving_on_errors() -> None:
    alias = {"v": None}
    loads = []

    def load(version):
        loads.append(version)
        if version == "bad":
            raise OSError("artifact missing")
        return f"model-{version}", version

    w = ChampionWatcher(lambda: alias["v"], load, poll_seconds=60)
    assert not w.poll() and w.current() is None
    alias["v"] = "1"
    assert w.poll() and w.current().version == "1" and w.current().model == "model-1"
    assert not w.poll() and loads == ["1"]  # unchanged alias: no reload
    alias["v"] = "bad"
    assert not w.poll() and w.current().version == "1" and w.last_error == "OSError"
    alias["v"] = "2"
    seen = []
    w.on_swap(lambda ref: seen.append(ref.version))
    assert w.poll() and w.current().version == "2" and seen == ["2"] and w.swaps == 2


def test_token_cli_prints_only_the_token_and_revokes(tmp_path) -> None:
    from outreach.cli import app

    runner = CliRunner()
    ws = ["--workspace", str(tmp_path)]
    created = runner.invoke(app, ["token", "create", "--role", "auditor", "--holder", "Wang Fang",
                                  *ws])  # fmt: skip
    assert created.exit_code == 0
    token = created.stdout.strip()
    assert token.startswith("otk_") and "\n" not in token
    listed = runner.invoke(app, ["token", "list", *ws])
    token_id = token.split("_")[1]
    assert token_id in listed.stdout and token not in listed.stdout
    assert "Wang Fang" in listed.stdout
    assert runner.invoke(app, ["token", "revoke", token_id, *ws]).exit_code == 0
    bad = runner.invoke(app, ["token", "create", "--role", "caseworker", "--holder", "Li", *ws])
    assert bad.exit_code != 0 and isinstance(bad.exception, ConfigError)
