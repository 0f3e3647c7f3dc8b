"""The one settings object: read once from flags, environment and outreach.toml, in that order."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import CONFIG_FILE, load_settings


def _config(ws: Path, text: str) -> None:
    ws.mkdir(parents=True, exist_ok=True)
    (ws / CONFIG_FILE).write_text(text, encoding="utf-8")


def test_defaults_without_a_config_file(tmp_path):
    s = load_settings(tmp_path, environ={})
    assert s.scoring.capacity_share == 0.05 and s.scoring.exploration_share == 0.03
    assert s.scoring.chunk_rows == 50_000 and s.model.seed == 20240601
    assert s.model.capacities == (0.01, 0.02, 0.05, 0.10)
    assert s.service_db_url == f"sqlite:///{tmp_path / 'data' / 'service.sqlite3'}"
    assert s.tracking_uri == f"sqlite:///{tmp_path / 'models' / 'mlflow.db'}"
    assert s.params_dir is None and s.hmac_key is None


def test_flags_beat_the_environment_which_beats_the_file(tmp_path):
    _config(
        tmp_path,
        'db_url = "sqlite:////from/file.db"\nmlflow_uri = "http://file:5000"\n'
        "[scoring]\ncapacity_share = 0.02\nseed = 3\n",
    )
    env = {"OUTREACH_DB_URL": "postgresql://u@env/db"}
    s = load_settings(tmp_path, environ=env, scoring={"seed": 9})
    assert s.service_db_url == "postgresql://u@env/db"  # environment over file
    assert s.tracking_uri == "http://file:5000"  # file over default
    assert s.scoring.capacity_share == 0.02  # file over default, kept beside a flag
    assert s.scoring.seed == 9  # flag over file


def test_the_workspace_comes_from_the_environment_when_not_given(tmp_path):
    s = load_settings(environ={"OUTREACH_WORKSPACE": str(tmp_path / "ws")})
    assert s.workspace == tmp_path / "ws"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[scoring\n", "not a TOML file"),
        ("hmac_key = 'x'\n", "unknown setting 'hmac_key'"),
        ("[scoring]\ncapacity_share = 2.0\n", "setting scoring.capacity_share"),
        ("[scoring]\nlevel = 'province'\n", "setting scoring.level"),
        ("[model]\nlearning = 1\n", "setting model.learning"),
    ],
)
def test_a_bad_config_file_is_one_clear_line(tmp_path, text, message):
    _config(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as err:
        load_settings(tmp_path, environ={})
    assert "\n" not in str(err.value)


def test_secrets_stay_secret_and_out_of_the_config_hash(tmp_path):
    key = "k" * 40
    a = load_settings(tmp_path / "a", environ={"OUTREACH_HMAC_KEY": key})
    b = load_settings(tmp_path / "b", environ={})
    assert key not in repr(a) and key not in str(a.model_dump())
    assert a.key_environ() == {"OUTREACH_HMAC_KEY": key} and b.key_environ() == {}
    assert a.config_hash("model", "scoring") == b.config_hash("model", "scoring")


def test_the_config_hash_follows_the_configuration(tmp_path):
    base = load_settings(tmp_path, environ={})
    other = load_settings(tmp_path, environ={}, scoring={"capacity_share": 0.02})
    assert base.config_hash("scoring") != other.config_hash("scoring")
    assert base.config_hash("model") == other.config_hash("model")
    assert base.config_hash("scoring").startswith("C") and len(base.config_hash("scoring")) == 17
