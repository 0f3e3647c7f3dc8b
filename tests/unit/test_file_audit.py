"""Audit rows of files of personal data written or read by a command
(``serving.privacy.file_audit``): one committed row per file, in the chain, with the file's name
and counts only; a database that cannot be written is one line, without its URL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.errors import ConfigError
from core.settings import load_settings
from serving.privacy.file_audit import ACTOR, recorder
from serving.store import chain, db, tables


def test_a_row_per_file_in_the_chain(tmp_path) -> None:
    settings = load_settings(tmp_path)
    record = recorder(settings)
    record("link_review", {"file": "link-review-x.csv", "pairs": 3, "channel": "export.csv"})
    record("link_labels", {"file": "marked.csv", "kind": "pairs", "matches": 2, "non_matches": 1})
    engine = db.make_engine(settings.service_db_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(tables.audit_log)).mappings().all()
        assert chain.verify(conn).ok
    engine.dispose()
    seen = [(r["actor"], r["role"], r["action"], r["resource"]) for r in rows]
    assert seen == [(ACTOR, "system", "read", r) for r in ("link_review", "link_labels")]
    assert rows[0]["detail"]["pairs"] == 3 and rows[0]["detail"]["run_by"]
    assert "--review" in rows[0]["purpose"] and "--labels" in rows[1]["purpose"]


def test_an_unwritable_audit_log_is_one_line_without_the_url(tmp_path) -> None:
    url = "postgresql://outreach:secret-name@127.0.0.1:1/none"  # nothing listens on port 1
    settings = load_settings(tmp_path, environ={"OUTREACH_DB_URL": url})
    with pytest.raises(ConfigError) as caught:
        recorder(settings)("link_review", {"file": "f.csv", "pairs": 1})
    text = str(caught.value)
    assert "audit log cannot be written" in text and "secret-name" not in text
    assert "\n" not in text


def test_a_resource_without_a_purpose_is_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match="no audit purpose"):
        recorder(load_settings(tmp_path))("household", {})
