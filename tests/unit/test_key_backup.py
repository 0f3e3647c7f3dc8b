"""The HMAC key behind every pseudonym (issue 18, item 1): the backup and restore procedure of
docs/privacy.md works, and a lost or changed key never silently orphans the households -- the
warehouse records the key's fingerprint and every later ingest (and an access request) with
another key is refused in one line."""

from __future__ import annotations

import shutil

import pytest

from core.errors import ConfigError
from core.settings import load_settings
from features import warehouse
from features.ingest.load import Ingestor
from features.pseudonym import pseudonymizer_for

ID = "11010519491231" + "002X"


def test_a_backed_up_key_restores_the_same_pseudonyms(tmp_path) -> None:
    first = load_settings(tmp_path / "a", environ={})
    keys = pseudonymizer_for(first)  # created on first use, 0600
    assert first.secret_path.stat().st_mode & 0o077 == 0
    backup = tmp_path / "offline" / "hmac.key"
    backup.parent.mkdir()
    shutil.copy2(first.secret_path, backup)  # the documented backup: copy the file
    restored = load_settings(tmp_path / "b", environ={})
    restored.secret_path.parent.mkdir(parents=True, mode=0o700)
    shutil.copy2(backup, restored.secret_path)
    again = pseudonymizer_for(restored)
    assert again.fingerprint == keys.fingerprint
    assert again.person_key(ID) == keys.person_key(ID)


def test_a_lost_key_is_refused_not_silently_replaced(tmp_path) -> None:
    settings = load_settings(tmp_path, environ={})
    con = warehouse.connect(settings.warehouse_path)
    try:
        Ingestor(con, pseudonymizer_for(settings))  # the warehouse records the fingerprint
    finally:
        con.close()
    settings.secret_path.unlink()  # the key is lost: a new one would be made on first use
    con = warehouse.connect(settings.warehouse_path)
    try:
        with pytest.raises(ConfigError, match="differs from the one this warehouse was built"):
            Ingestor(con, pseudonymizer_for(settings))
    finally:
        con.close()


def test_an_access_request_with_another_key_is_refused(tmp_path) -> None:
    from serving.privacy.subject_report import check_key

    settings = load_settings(tmp_path, environ={})
    con = warehouse.connect(settings.warehouse_path)
    try:
        Ingestor(con, pseudonymizer_for(settings))
    finally:
        con.close()
    check_key(settings, pseudonymizer_for(settings).fingerprint)  # the right key: no error
    other = load_settings(tmp_path, environ={"OUTREACH_HMAC_KEY": "k" * 64})
    with pytest.raises(ConfigError, match="restore the backed-up key"):
        check_key(other, pseudonymizer_for(other).fingerprint)
