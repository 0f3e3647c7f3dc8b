"""One `outreach train` run: train and evaluate, draw and explain, log and register.

:func:`training.pipeline.train_and_evaluate` does the learning; this module turns its result
into the run's artifacts (evaluation JSON, plots, SHAP summary, fairness table, reference
distributions, model card), logs them to MLflow with the model and the configuration hash
(``settings.config_hash("model")``), and moves the alias. The stage
(:func:`training.stage.run`) returns the evaluation as its report; the CLI writes it to
``<workspace>/data/reports/train/latest.json``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from core.reports import report_json
from core.settings import Settings
from features.vectors.catalogue import FEATURE_SET_VERSION
from policies.parameters import load_parameters
from training import card, drift, explain, model_registry, plots
from training.evaluation import pr_auc
from training.pipeline import TrainResult, train_and_evaluate
from training.refit import refit_for_deployment

SHAP_SAMPLE = 3000
"""Households of the test split explained for the SHAP summary and global importance."""


@dataclass
class RunOutcome:
    result: TrainResult
    registered: model_registry.Registered
    report: dict[str, Any]
    deployed: Any = None  # the refit OutreachModel that was registered


def _champion_on_valid(store: model_registry.Store, result: TrainResult) -> float | None:
    """The current champion's validation PR-AUC on *this* run's validation rows."""
    if model_registry.champion_version(store) is None or result.valid_frame is None:
        return None
    champion, _ = model_registry.load_version(store)
    if champion.feature_set_version != FEATURE_SET_VERSION:
        return None  # it cannot read these snapshots: the new model wins
    valid = result.valid_frame
    return pr_auc(valid["label"].to_numpy(), champion.predict_proba(valid))


def card_info(
    result: TrainResult, version: str, run_id: str, importance, deployment: dict | None = None
) -> dict:
    m = result.metrics
    observed = {k: _headline(v) for k, v in m["observed"]["scores"].items()}
    truth = m.get("truth")
    info: dict[str, Any] = {
        "name": model_registry.MODEL_NAME,
        "version": version,
        "date": date.today().isoformat(),
        "run_id": run_id,
        "feature_set_version": FEATURE_SET_VERSION,
        "model": {
            "type": "LightGBM (binary), Platt-calibrated; evaluated as trained on the train "
            "split, deployed as refit on every labelled month (see deployment)",
            "trees": result.model.best_iteration,
            "num_leaves": result.model.params.get("num_leaves"),
            "max_depth": result.model.params.get("max_depth"),
        },
        "simulated": truth is not None,
        "data": {
            "source": "simulated" if truth is not None else "agency",
            "snapshots": sorted(result.snapshot_ids),
            "splits": m["data"]["split"],
            "rows": m["data"]["rows"],
        },
        "label": {**result.label, "gap": m.get("gap", "no ground truth on agency data")},
        "deployment": deployment or {"refit": False},
        "metrics": {"observed": observed},
        "calibration": {
            name: {k: s.get(k) for k in ("brier", "ece", "calibration_slope")}
            for name, s in m["observed"]["scores"].items()
            if s.get("ece") is not None
        },
        "capacity": {
            "recall (observable label, per-township lists)": {
                name: {c: v["recall"] for c, v in s["capacity"].items()}
                for name, s in m["observed"]["scores"].items()
            }
        },
        "fairness": m["fairness"],
        "explanation": {
            "method": "TreeSHAP through LightGBM pred_contrib (log-odds; sums to the raw score)",
            "top_features": importance.head(10)[["feature", "mean_abs_shap", "en"]].to_dict(
                "records"
            ),
        },
    }
    if truth is not None:
        info["metrics"]["truth"] = {k: _headline(v) for k, v in truth["scores"].items()}
        info["capacity"]["recall of true onsets (per-township lists)"] = {
            name: {c: v["recall"] for c, v in s["capacity"].items()}
            for name, s in truth["scores"].items()
        }
        info["capacity"]["silent households found"] = {
            name: {c: v.get("silent_found_share") for c, v in s["capacity"].items()}
            for name, s in truth["scores"].items()
        }
    return info


def _headline(s: dict) -> dict:
    return {k: s.get(k) for k in ("roc_auc", "pr_auc", "brier", "ece", "calibration_slope")} | {
        "recall@5%": s["capacity"].get("0.05", {}).get("recall")
    }


def artifacts(
    result: TrainResult, folder: Path, deployed: Any = None
) -> tuple[list[tuple[str, Path]], Any]:
    """Draw and write every artifact of the run into ``folder`` (the drift reference is the
    ``deployed`` model's, default the evaluated one)."""
    test = result.test_frame
    m = result.metrics
    out: dict[str, Path] = {}  # "<artifact folder>/<label>" -> file
    probs = {
        name: (test["label"].to_numpy(), test[f"score_{name}"].to_numpy())
        for name in ("model", "logistic")
    }
    out["plots/calibration"] = plots.calibration_plot(probs, folder / "calibration.png")
    rec = {
        name: {c: v["recall"] or 0.0 for c, v in s["capacity"].items()}
        for name, s in m["observed"]["scores"].items()
    }
    out["plots/recall_at_capacity"] = plots.capacity_plot(
        rec, folder / "recall_at_capacity.png", "Recall of the observable label"
    )
    if "truth" in m:
        rec = {
            name: {c: v["recall"] or 0.0 for c, v in s["capacity"].items()}
            for name, s in m["truth"]["scores"].items()
        }
        out["plots/recall_true_onset"] = plots.capacity_plot(
            rec, folder / "recall_true_onset.png", "Recall of true onsets (simulation truth)"
        )
    sample = test.sample(min(SHAP_SAMPLE, len(test)), random_state=0)
    X = result.model.matrix(sample)
    contrib = explain.contributions(result.model.booster, X)
    importance = explain.global_importance(contrib)
    out["plots/shap_summary"] = explain.summary_plot(contrib, X, folder / "shap_summary.png")
    (folder / "global_importance.json").write_text(
        importance.to_json(orient="records", force_ascii=False), encoding="utf-8"
    )
    out["explanations"] = folder / "global_importance.json"
    fair_rows = [
        {k: r[k] for k in ("group", "value", "capacity", "n", "positives", "recall",
                           "recall_ratio", "few_positives", "flag_low_recall")}
        for r in m["fairness"]["groups"]
    ]  # fmt: skip
    (folder / "fairness.md").write_text(plots.fairness_markdown(fair_rows), encoding="utf-8")
    out["fairness"] = folder / "fairness.md"
    scorer = deployed or result.model
    X_all = scorer.matrix(test)
    reference = drift.reference_distributions(X_all, scorer.predict_proba(test))
    (folder / "reference.json").write_text(report_json(reference), encoding="utf-8")
    out["reference"] = folder / "reference.json"
    return [(key.split("/")[0], path) for key, path in out.items()], importance


def train_and_register(settings: Settings, as_of_dates=None, progress=None) -> RunOutcome:
    """Train and evaluate on the snapshots of ``as_of_dates`` (default: all), log the run with
    its artifacts and register the model (champion when it beats the current one).

    Args:
        progress: called with a short description of each step.
    """
    say = progress or (lambda _m: None)
    say("labels, split, LightGBM, baselines, evaluation")
    result = train_and_evaluate(settings, as_of_dates)
    say("refit on every labelled month, calibrated on the latest window")
    deployed, deployment = refit_for_deployment(
        settings, result, load_parameters(settings.params_dir)
    )
    config_hash = settings.config_hash("model")
    store = model_registry.Store.for_settings(settings)
    valid = result.valid_frame
    # the refit candidate against the champion (also refit) on the same rows: both have seen
    # every labelled month, so this keeps a no better model from replacing the champion; the
    # out-of-sample comparison is the rolling-origin evaluation (serving.batch.stage)
    new_valid = pr_auc(valid["label"].to_numpy(), deployed.predict_proba(valid))
    say("comparing with the champion")
    old_valid = _champion_on_valid(store, result)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        say("plots, SHAP summary, fairness, reference distributions")
        files, importance = artifacts(result, folder, deployed)
        report = {
            "generated_at": datetime.now(UTC).isoformat(),
            "config_hash": config_hash,
            "feature_set_version": FEATURE_SET_VERSION,
            "snapshot_ids": result.snapshot_ids,
            "label": result.label,
            "metrics": result.metrics,
            "validation": {"model_pr_auc": new_valid, "champion_pr_auc": old_valid},
            "deployment": deployment,
            "timings": result.timings,
        }
        (folder / "evaluation.json").write_text(report_json(report), encoding="utf-8")
        files.append(("reports", folder / "evaluation.json"))
        card_path = folder / "model_card.md"
        card_path.write_text(
            card.render_model_card(card_info(result, "(registering)", "", importance, deployment)),
            encoding="utf-8",
        )
        files.append(("model_card", card_path))
        params = {
            **{f"lgb.{k}": v for k, v in deployed.params.items()},
            "feature_set_version": FEATURE_SET_VERSION,
            "config_hash": config_hash,
            "snapshot_ids": list(result.snapshot_ids.values()),
            "split": result.split.to_dict(),
            "horizon_months": result.label["horizon_months"],
            "best_iteration": result.model.best_iteration,
            "refit_training_window": deployment["training_window"],
            "refit_calibration_window": deployment["calibration_window"],
        }
        example = valid.head(5)[_input_columns(valid)]
        # integers as floats: a missing value at scoring time must not break the signature
        example = example.astype({c: "float64" for c in example.select_dtypes("integer")})
        say("logging to MLflow and registering")
        registered = model_registry.log_and_register(
            store,
            deployed,
            params=params,
            metrics={k: v for k, v in result.metrics.items() if k != "fairness"},
            tags={
                "feature_set_version": FEATURE_SET_VERSION,
                "config_hash": config_hash,
                "snapshot_ids": ",".join(result.snapshot_ids.values())[:4900],
            },
            artifacts=files,
            input_example=example,
            example_output=deployed.predict_proba(example),
            validation_score=new_valid,
            challenger_beats=None if old_valid is None else bool(new_valid > old_valid),
        )
        # the card names the version it describes
        card_path.write_text(
            card.render_model_card(
                card_info(result, registered.version, registered.run_id, importance, deployment)
            ),
            encoding="utf-8",
        )
        store.client().log_artifact(registered.run_id, str(card_path), "model_card")
    report["registered"] = {
        "version": registered.version,
        "alias": registered.alias,
        "reason": registered.reason,
        "run_id": registered.run_id,
    }
    return RunOutcome(result, registered, report, deployed)


def _input_columns(frame) -> list[str]:
    from features.vectors.catalogue import KEYS, feature_names

    keys = [k for k, _, _ in KEYS if k in frame.columns]
    return keys + [f for f in feature_names() if f in frame.columns]
