"""The MLflow registry: champion / challenger aliases, promote and rollback (local SQLite store)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import ConfigError
from core.settings import load_settings
from training import model_registry


class TinyModel:
    """Stands in for training.estimators.OutreachModel: only save() is needed to log it."""

    def __init__(self, tag: str):
        self.tag = tag

    def save(self, path: Path) -> None:
        path.mkdir(parents=True)
        (path / "meta.json").write_text(json.dumps({"tag": self.tag}))


@pytest.fixture()
def store(tmp_path) -> model_registry.Store:
    return model_registry.Store.for_settings(load_settings(tmp_path, environ={}))


def test_the_store_comes_from_the_settings(tmp_path):
    local = load_settings(tmp_path, environ={})
    store = model_registry.Store.for_settings(local)
    assert store.tracking_uri == local.tracking_uri
    assert store.artifact_root == (local.models_dir / "artifacts").absolute().as_uri()
    remote = load_settings(tmp_path, environ={"OUTREACH_MLFLOW_URI": "http://mlflow:5000"})
    assert model_registry.Store.for_settings(remote).tracking_uri == "http://mlflow:5000"


def _log(store, tag: str, score: float, tmp_path: Path):
    report = tmp_path / f"report-{tag}.json"
    report.write_text(json.dumps({"tag": tag}))
    example = pd.DataFrame({"household_size": [1.0, 2.0], "serious_illness_12m": [0, 1]})
    return model_registry.log_and_register(
        store,
        TinyModel(tag),
        params={"num_leaves": 15, "snapshots": ["20250131-aaa", "20250228-bbb"]},
        metrics={"test": {"model": {"roc_auc": score, "nan": float("nan")}}},
        tags={"feature_set_version": "1.0"},
        artifacts=[("reports", report)],
        input_example=example,
        example_output=np.array([0.1, 0.2]),
        validation_score=score,
    )


def test_better_takes_champion_worse_is_challenger_and_rollback(store, tmp_path):
    first = _log(store, "a", 0.70, tmp_path)
    assert (first.version, first.alias) == ("1", "champion")
    better = _log(store, "b", 0.75, tmp_path)
    assert (better.version, better.alias) == ("2", "champion")
    worse = _log(store, "c", 0.60, tmp_path)
    assert (worse.version, worse.alias) == ("3", "challenger")
    assert model_registry.champion_version(store) == "2"
    vs = {v["version"]: v for v in model_registry.versions(store)}
    assert "challenger" in vs["3"]["aliases"] and "champion" in vs["2"]["aliases"]
    assert model_registry.rollback(store) == ("2", "1")
    assert model_registry.champion_version(store) == "1"
    with pytest.raises(ConfigError, match="no earlier champion"):
        model_registry.rollback(store)
    model_registry.promote(store, "3")
    assert model_registry.champion_version(store) == "3"
    assert model_registry.rollback(store) == ("3", "1")


def test_promote_unknown_version(store, tmp_path):
    _log(store, "a", 0.7, tmp_path)
    with pytest.raises(ConfigError, match="model version 9 does not exist"):
        model_registry.promote(store, "9")


def test_run_holds_metrics_params_and_artifacts(store, tmp_path):
    r = _log(store, "a", 0.7, tmp_path)
    run = store.client().get_run(r.run_id)
    assert run.data.metrics["test.model.roc_auc"] == pytest.approx(0.7)
    assert "test.model.nan" not in run.data.metrics
    assert run.data.params["num_leaves"] == "15"
    assert run.data.tags["feature_set_version"] == "1.0"
    assert model_registry.run_artifact(store, r.version, "reports") == {"tag": "a"}


def test_flat_metrics():
    flat = model_registry.flat_metrics({"a": {"b": 1, "c": {"d": 0.5}}, "ok": True, "s": "text"})
    assert flat == {"a.b": 1.0, "a.c.d": 0.5, "ok": 1.0}
