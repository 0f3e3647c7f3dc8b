"""Key rotation (issue 18): ``outreach keys rotate --kind session`` replaces the session key and
ends every open session at once -- even in a server still holding the old key -- with one audit
row; ``--kind hmac`` is refused with the reason (its rotation is a documented procedure)."""

from __future__ import annotations

import stat

import pytest
import sqlalchemy as sa
from support.bare_service import bare_app, client
from test_service_sessions import _session_rows, _settings, _sign_in, _token

from core.errors import ConfigError
from core.settings import load_settings
from outreach.cli import main
from serving.privacy.keys import END_REASON, rotate
from serving.store import chain, db, tables


def _audit(settings, action: str) -> list[dict]:
    engine = db.make_engine(settings.service_db_url)
    try:
        with engine.connect() as conn:
            q = sa.select(tables.audit_log).where(tables.audit_log.c.action == action)
            rows = [dict(r) for r in conn.execute(q).mappings()]
            assert chain.verify(conn).ok
            return rows
    finally:
        engine.dispose()


def test_rotating_the_session_key_ends_every_session_at_once(tmp_path) -> None:
    settings = _settings(tmp_path)
    value = _token(settings)
    app = bare_app(settings)
    with client(app) as c:
        assert _sign_in(c, value).status_code == 303
        assert c.get("/audit").status_code == 200
        old = settings.session_key_path.read_text()
        result = rotate(settings, "session")
        assert result.sessions_ended == 1
        r = c.get("/audit", follow_redirects=False)  # the same server, holding the old key
        assert r.status_code == 303 and r.headers["location"] == "/signin"
    assert settings.session_key_path.read_text() != old
    assert stat.S_IMODE(settings.session_key_path.stat().st_mode) == 0o600
    (row,) = _session_rows(settings)
    assert row["end_reason"] == END_REASON
    (audit,) = _audit(settings, "key_rotation")
    assert audit["actor"] == "outreach-keys" and audit["detail"] == {"sessions_ended": 1}
    assert old.strip() not in str(audit)
    with client(bare_app(settings)) as c:  # after a restart a new sign-in works
        assert _sign_in(c, value).status_code == 303
        assert c.get("/audit").status_code == 200


def test_the_hmac_key_and_an_environment_key_are_refused(tmp_path) -> None:
    settings = _settings(tmp_path)
    with pytest.raises(ConfigError, match="re-ingesting"):
        rotate(settings, "hmac")
    env = load_settings(tmp_path, environ={"OUTREACH_SESSION_KEY": "k" * 40})
    with pytest.raises(ConfigError, match="OUTREACH_SESSION_KEY"):
        rotate(env, "session")
    assert not settings.session_key_path.exists()


def test_the_command_rotates_and_refuses_in_one_line(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("OUTREACH_SESSION_KEY", raising=False)
    ws = ["--workspace", str(tmp_path)]
    assert main(["keys", "rotate", "--kind", "session", "--yes", *ws]) == 0
    assert "session key rotated; 0 open session(s) ended" in capsys.readouterr().out
    code = main(["keys", "rotate", "--kind", "hmac", *ws])
    err = capsys.readouterr().err
    assert code != 0 and err.startswith("error: the HMAC key cannot be rotated")
    assert len(err.strip().splitlines()) == 1
