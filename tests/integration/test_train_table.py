"""`outreach train --table`: train and evaluate on any household table (CSV or Parquet).

A synthetic household table with a planted signal (income, disability, arrears, township) must
be learned; every bad input must give one ``error:`` line and exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from outreach.cli import main

pytestmark = pytest.mark.integration

N = 400


def household_table(n: int = N, seed: int = 3) -> pd.DataFrame:
    """Households with a planted signal: low income, a disability, arrears and township C raise
    the odds of hardship; ``noise`` and ``note`` carry none."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(8.0, 0.6, n).round(0)
    disabled = rng.binomial(1, 0.2, n)
    arrears = rng.poisson(0.6, n)
    township = rng.choice(list("ABCDE"), n)
    logit = (
        -1.2
        - 1.6 * (np.log(income) - 8.0) / 0.6
        + 1.2 * disabled
        + 0.7 * arrears
        + 1.0 * (township == "C")
    )
    hardship = rng.random(n) < 1 / (1 + np.exp(-logit))
    severe = hardship & (rng.random(n) < 0.4)
    return pd.DataFrame(
        {
            "hh_id": [f"H{i:05d}" for i in range(n)],
            "income": income,
            "disabled": disabled,
            "arrears_months": arrears,
            "township": township,
            "noise": rng.normal(size=n).round(3),
            "note": [f"visit {i}" for i in range(n)],  # text with n levels: dropped
            "head_sex": rng.choice(["F", "M"], n),
            "survey_month": pd.to_datetime("2023-01-31")
            + pd.to_timedelta(np.sort(rng.integers(0, 10, n)) * 30, unit="D"),
            "hardship": hardship.astype(int),
            "status": np.where(severe, "crisis", np.where(hardship, "struggling", "ok")),
        }
    )


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("train-table")


@pytest.fixture(scope="module")
def table_csv(ws) -> Path:
    frame = household_table().drop(columns=["status"])  # status would leak the label
    frame["survey_month"] = frame["survey_month"].dt.strftime("%Y-%m-%d")
    frame.loc[[5, 17], "hardship"] = None  # two rows without a label
    path = ws / "households.csv"
    frame.to_csv(path, index=False)
    return path


def _cli(ws: Path, *args: str) -> int:
    return main(["train", *args, "--workspace", str(ws / "workspace")])


def _report(ws: Path) -> dict:
    return json.loads((ws / "workspace/data/reports/train-table/latest.json").read_text())


def test_cross_validation_learns_the_planted_signal(ws, table_csv, capsys):
    rc = _cli(ws, "--table", str(table_csv), "--label", "hardship", "--id", "hh_id",
              "--group", "head_sex", "--group", "township")  # fmt: skip
    assert rc == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "report:" in out and "ROC-AUC" in out
    report = _report(ws)
    assert report["validation"]["method"] == "5-fold stratified cross-validation"
    rows = report["rows"]
    assert (rows["read"], rows["dropped_missing_label"], rows["used"]) == (N, 2, N - 2)
    model = report["metrics"]["scores"]["model"]
    assert model["roc_auc"] > 0.7  # learns the planted signal
    # beats chance: its top 10 % holds more hardship than a random 10 % would
    assert model["capacity"]["0.1"]["county"]["precision"] > 1.3 * rows["prevalence"]
    assert report["metrics"]["scores"]["logistic"]["roc_auc"] > 0.6
    assert model["brier"] is not None and model["ece"] is not None
    assert model["capacity"]["0.05"]["county"]["recall"] is not None
    assert set(model["capacity_lists_per_group"]) == {"head_sex", "township"}
    # groups are not features; text with too many levels is dropped with a note
    feats = report["features"]
    assert set(feats["numeric"]) == {"income", "disabled", "arrears_months", "noise"}
    assert "township" not in feats["categorical"]
    assert any("'note'" in n for n in report["notes"])
    assert any(d["column"] == "survey_month" for d in feats["dropped"])
    assert {r["group"] for r in report["fairness"]["groups"]} == {"head_sex", "township"}
    # logged to MLflow, not registered
    from core.settings import load_settings
    from training.model_registry import Store

    client = Store.for_settings(load_settings(ws / "workspace", environ={})).client()
    run = client.get_run(report["mlflow_run_id"])
    assert run.data.metrics["scores.model.roc_auc"] == pytest.approx(model["roc_auc"])
    assert client.search_registered_models() == []


def test_multiclass_label_with_positive_and_parquet(ws, capsys):
    path = ws / "households.parquet"
    household_table().drop(columns=["hardship"]).to_parquet(path, index=False)
    rc = _cli(ws, "--table", str(path), "--label", "status", "--id", "hh_id",
              "--positive", "struggling, crisis")  # fmt: skip
    assert rc == 0, capsys.readouterr().err
    report = _report(ws)
    assert report["positive_classes"] == ["struggling", "crisis"]
    assert report["label_classes"] == ["crisis", "ok", "struggling"]
    assert report["metrics"]["scores"]["model"]["roc_auc"] > 0.7
    assert "township" in report["features"]["categorical"]


def test_temporal_split_with_time(ws, table_csv, capsys):
    rc = _cli(ws, "--table", str(table_csv), "--label", "hardship", "--id", "hh_id",
              "--time", "survey_month")  # fmt: skip
    assert rc == 0, capsys.readouterr().err
    v = _report(ws)["validation"]
    assert v["method"] == "temporal"
    assert v["valid_from"] < v["test_from"]
    rows = v["rows"]
    assert rows["train"] + rows["valid"] + rows["test"] == N - 2
    assert 0.1 < rows["test"] / (N - 2) < 0.35 and rows["train"] > rows["valid"]
    m = _report(ws)["metrics"]
    assert m["n_rows"] == rows["test"]
    assert m["scores"]["model"]["roc_auc"] > 0.6


def _write(ws: Path, name: str, frame: pd.DataFrame | None) -> Path:
    path = ws / name
    if frame is None:
        path.write_bytes(b"")
    else:
        frame.to_csv(path, index=False)
    return path


def _bad(kind: str) -> tuple[pd.DataFrame | None, list[str], str]:
    """(table, extra flags, expected words in the error line)."""
    t = household_table(120)
    base = ["--label", "hardship", "--id", "hh_id"]
    if kind == "missing label":
        return t, ["--label", "poor", "--id", "hh_id"], "--label 'poor' is not a column"
    if kind == "missing id":
        return t, ["--label", "hardship", "--id", "hid"], "--id 'hid' is not a column"
    if kind == "one class":
        return t.assign(hardship=0), base, "one class only"
    if kind == "junk in numbers":
        t["income"] = t["income"].astype(object)
        t.loc[[3, 40, 77], "income"] = "abc"
        return t, base, "column 'income' is numeric but 3 of 120 values are not numbers"
    if kind == "duplicate ids":
        t.loc[10, "hh_id"] = t.loc[9, "hh_id"]
        return t, base, "id column 'hh_id' has 1 duplicate value(s)"
    if kind == "no rows":
        return t.iloc[:0], base, "no rows"
    if kind == "0-byte file":
        return None, base, "empty file"
    if kind == "unknown positive":
        return (
            t,
            ["--label", "status", "--id", "hh_id", "--positive", "poor"],
            ("--positive 'poor' is not a class of label 'status'"),
        )
    assert kind == "multi-class without positive"
    return t, ["--label", "status", "--id", "hh_id"], "name the hardship classes with --positive"


@pytest.mark.parametrize(
    "kind",
    ["missing label", "missing id", "one class", "junk in numbers", "duplicate ids", "no rows",
     "0-byte file", "unknown positive", "multi-class without positive"],
)  # fmt: skip
def test_bad_tables_give_one_line_and_exit_2(ws, capsys, kind):
    frame, flags, expected = _bad(kind)
    path = _write(ws, f"bad-{kind.replace(' ', '_')}.csv", frame)
    assert _cli(ws, "--table", str(path), *flags) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
    assert expected in err, err


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--label", "hardship"], "--label need --table"),
        (["--table", "TABLE", "--label", "hardship"], "--table needs --label and --id"),
        (["--table", "TABLE", "--label", "hardship", "--id", "hh_id", "--as-of", "2024-01-31"],
         "do not apply to --table"),
        (["--table", "TABLE", "--label", "hardship", "--id", "hardship"],
         "given to both --label and --id"),
        (["--table", "TABLE", "--label", "hardship", "--id", "hh_id", "--positive", " , "],
         "--positive names no class"),
    ],
)  # fmt: skip
def test_bad_flags_give_one_line_and_exit_2(ws, table_csv, capsys, flags, expected):
    flags = [str(table_csv) if f == "TABLE" else f for f in flags]
    assert _cli(ws, *flags) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
    assert expected in err, err
