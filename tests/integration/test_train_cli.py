"""`outreach train / promote / rollback / models / drift` and the retraining notebook, on the
fixture county (a copy of the shared workspace with month-end snapshots 2023-01..2024-12)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from core.settings import load_settings
from features.vectors.catalogue import FEATURE_SET_VERSION
from outreach.cli import main
from training import model_registry

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def workspace(fixture_workspace, tmp_path_factory) -> Path:
    ws = tmp_path_factory.mktemp("train-cli") / "ws"
    shutil.copytree(fixture_workspace, ws)
    assert (
        main(["features", "--from", "2023-01-31", "--to", "2024-12-31", "--workspace", str(ws)])
        == 0
    )
    return ws


def _cli(ws: Path, *args: str) -> int:
    return main([*args, "--workspace", str(ws)])


def _store(ws: Path) -> model_registry.Store:
    return model_registry.Store.for_settings(load_settings(ws, environ={}))


def test_train_registers_compares_promotes_and_rolls_back(workspace, capsys):
    assert _cli(workspace, "train") == 0
    out = capsys.readouterr().out
    assert "model version 1: champion" in out
    report = json.loads((workspace / "data/reports/train/latest.json").read_text())
    assert report["registered"]["alias"] == "champion"
    m = report["metrics"]
    assert {"model", "rules", "logistic"} <= set(m["observed"]["scores"])
    assert "oracle" in m["truth"]["scores"] and "gap" in m
    # the run holds the plots, the card, the reference distributions and the evaluation
    store = _store(workspace)
    client = store.client()
    run_id = report["registered"]["run_id"]
    names = {a.path for a in client.list_artifacts(run_id)}
    assert {"plots", "model_card", "reference", "reports", "fairness", "explanations"} <= names
    plots = {a.path for a in client.list_artifacts(run_id, "plots")}
    assert {"plots/calibration.png", "plots/recall_at_capacity.png",
            "plots/shap_summary.png"} <= plots  # fmt: skip
    run = client.get_run(run_id)
    # the run says which configuration made it, in MLflow and in the report
    assert report["config_hash"] == load_settings(workspace, environ={}).config_hash("model")
    assert run.data.tags["config_hash"] == run.data.params["config_hash"] == report["config_hash"]
    assert run.data.params["feature_set_version"] == FEATURE_SET_VERSION
    assert "test.model.roc_auc" not in run.data.metrics  # metrics are namespaced by score
    assert any(k.startswith("observed.scores.model.") for k in run.data.metrics)
    # the same data again: not better on validation, so it is the challenger
    assert _cli(workspace, "train") == 0
    assert "model version 2: challenger" in capsys.readouterr().out
    assert model_registry.champion_version(store) == "1"
    # explicit moves
    assert _cli(workspace, "promote", "2") == 0
    assert model_registry.champion_version(store) == "2"
    assert _cli(workspace, "rollback") == 0
    assert model_registry.champion_version(store) == "1"
    assert _cli(workspace, "models") == 0
    listing = capsys.readouterr().out
    assert "champion" in listing and "challenger" in listing
    # the registered model loads and scores like the trained one
    model, version = model_registry.load_version(store)
    assert version == "1" and model.feature_set_version == FEATURE_SET_VERSION


def test_drift(workspace, capsys):
    if model_registry.champion_version(_store(workspace)) is None:
        assert _cli(workspace, "train") == 0
    assert _cli(workspace, "drift", "--as-of", "2024-12-31") == 0
    report = json.loads((workspace / "data/reports/drift/latest.json").read_text())
    assert report["score"]["band"] in ("stable", "moderate", "major")
    assert report["label_lag"]["labelled"] is False
    assert {f["band"] for f in report["features"]} <= {"stable", "moderate", "major"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["promote", "abc"], "version must be a number"),
        (["promote", "99"], "model version 99 does not exist"),
        (["drift", "--as-of", "2031-01-31"], "no snapshot for 2031-01-31"),
        (["train", "--as-of", "2023-13-01"], "is not a date"),
    ],
)
def test_bad_input(workspace, capsys, args, message):
    if model_registry.champion_version(_store(workspace)) is None:
        assert _cli(workspace, "train") == 0
    capsys.readouterr()
    assert _cli(workspace, *args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_nothing_to_train_or_roll_back(tmp_path, capsys):
    assert _cli(tmp_path, "train") == 2
    assert "run `outreach ingest`" in capsys.readouterr().err
    assert _cli(tmp_path, "rollback") == 2
    assert "no earlier champion" in capsys.readouterr().err


def test_the_retraining_notebook_runs(workspace, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    ws = tmp_path / "nb-ws"
    shutil.copytree(workspace, ws)
    nb = nbformat.read(REPO / "notebooks" / "retrain.ipynb", as_version=4)
    old = os.environ.get("OUTREACH_WORKSPACE")
    os.environ["OUTREACH_WORKSPACE"] = str(ws)
    try:
        start = time.perf_counter()
        NotebookClient(nb, timeout=240, kernel_name="python3", resources={
            "metadata": {"path": str(tmp_path)}}).execute()  # fmt: skip
        seconds = time.perf_counter() - start
    finally:
        if old is None:
            os.environ.pop("OUTREACH_WORKSPACE", None)
        else:
            os.environ["OUTREACH_WORKSPACE"] = old
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]  # fmt: skip
    assert not errors
    text = "\n".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    assert "registered:" in text and "champion" in text
    print(f"notebook executed in {seconds:.0f} s")


def test_planted_driver_is_reason_one(workspace):
    """A county where utility arrears are made the dominant cause of the label: for a household
    in arrears, reason #1 names the arrears with the household's own value, in both languages."""
    import numpy as np

    from core.settings import load_settings
    from features.vectors.catalogue import reason
    from training import explain
    from training.estimators import fit_lightgbm
    from training.pipeline import available_snapshots, load_snapshots

    settings = load_settings(workspace)
    frame = load_snapshots(settings.snapshots_dir, available_snapshots(settings.snapshots_dir))
    rng = np.random.default_rng(0)
    # the amount due moves with the months in arrears: blank it so the planted cause is one column
    frame["utility_arrears_amount_3m"] = 0.0
    arrears = frame["utility_arrears_months_3m"].to_numpy()
    p = np.where(arrears >= 2, 0.6, 0.02)
    frame["label"] = (rng.random(len(frame)) < p).astype(float)
    dates = sorted(frame["as_of"].unique())
    train = frame[frame["as_of"].isin(dates[:-6])]
    valid = frame[frame["as_of"].isin(dates[-6:])]
    model = fit_lightgbm(train, valid)
    case = valid[valid["utility_arrears_months_3m"] >= 3].head(1)
    assert len(case) == 1
    value = int(case["utility_arrears_months_3m"].iloc[0])
    [record] = explain.explain_households(
        model.booster, model.matrix(case), case["household_id"].tolist(), k=3, values=case
    )
    assert record["sum_ok"]
    for lang in ("zh", "en"):
        first = record["reasons"][lang][0]
        assert first["feature"] == "utility_arrears_months_3m"
        assert first["value"] == value
        assert first["text"] == reason("utility_arrears_months_3m", value, lang)
        assert str(value) in first["text"]
