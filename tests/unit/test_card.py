"""The model card renders every section, with or without the optional parts."""

from __future__ import annotations

from training.card import SECTIONS, render_model_card

FULL = {
    "name": "outreach-hardship",
    "version": "3",
    "date": "2025-06-01",
    "run_id": "abc123",
    "feature_set_version": "1.0",
    "model": {"type": "LightGBM", "trees": 120, "leaves": 15},
    "data": {
        "source": "simulated",
        "snapshots": ["2023-01-31", "2023-02-28", "2024-06-30"],
        "households": 5000,
        "splits": {
            "train": {"as_of": "2023-01-31..2023-12-31", "rows": 48000, "positives": 900},
            "test": {"as_of": "2024-06-30", "rows": 5000, "positives": 80},
        },
    },
    "label": {
        "name": "new_support_6m",
        "definition": "a new assistance enrolment or a visit finding need within 6 months",
        "horizon_months": 6,
        "gap": {"true onsets observed by the label": 0.41, "label precision vs truth": 0.83},
    },
    "metrics": {
        "observed": {
            "model": {"auc": 0.8123, "average_precision": 0.21},
            "baseline: rules": {"auc": 0.7012, "average_precision": 0.12},
        },
        "truth": {"model": {"auc": 0.7456}, "baseline: rules": {"auc": 0.6601}},
    },
    "calibration": {"method": "isotonic", "brier": 0.0412, "ece": 0.0031},
    "capacity": {
        "note": "Capacity is a share of each township's households.",
        "recall": {"model": {"5%": 0.38, "10%": 0.55}, "baseline: rules": {"5%": 0.22}},
    },
    "fairness": {
        "summary": "Recall at 10% by hukou, head sex and age band.",
        "threshold": 0.8,
        "flagged": [{"attribute": "hukou", "group": "rural", "recall": 0.41, "ratio": 0.74}],
    },
    "explanation": {"top_features": [{"feature": "serious_illness_12m", "mean_abs_shap": 0.61}]},
    "linkage": {"low_confidence_share": 0.012},
    "limits": ["Trained on 24 months only."],
}


def _headings(md: str) -> list[str]:
    return [line[3:] for line in md.splitlines() if line.startswith("## ")]


def test_full_card_has_every_section_and_figure():
    md = render_model_card(FULL)
    assert md.startswith("# Model card: outreach-hardship (version 3)")
    assert _headings(md) == list(SECTIONS)
    assert "proposes visits" in md and "never reduces, suspends or denies a benefit" in md
    assert "Fraud detection" in md
    assert "| model | auc | average_precision |" in md
    assert "| baseline: rules | 0.701 | 0.120 |" in md
    assert "### True onset of hardship (simulated ground truth)" in md
    assert "| model | 0.746 |" in md
    assert "- Snapshots: 3 (2023-01-31 to 2024-06-30)" in md
    assert "| train | 2023-01-31..2023-12-31 | 48,000 | 900 |" in md
    assert "- true onsets observed by the label: 0.410" in md
    assert "- method: isotonic" in md and "- ece: 0.003" in md
    assert "| model | 0.380 | 0.550 |" in md and "| baseline: rules | 0.220 | — |" in md
    assert "**Flagged groups (1)**" in md and "| hukou | rural | 0.410 | 0.740 |" in md
    assert "log-odds" in md and "TreeSHAP" in md
    for limit in ("Selective labels", "Label lag", "Simulated data", "Linkage confidence"):
        assert limit in md
    assert "low_confidence_share: 0.012" in md and "- Trained on 24 months only." in md
    assert "- feature-set version: 1.0" in md and "- trees: 120" in md
    assert "> Trained and evaluated on **simulated** data." in md


def test_minimal_card_renders_every_section():
    md = render_model_card({"name": "m", "version": 1})
    assert _headings(md) == list(SECTIONS)
    assert "Not available: ground truth exists only for simulated data" in md
    assert "No fairness report was supplied" in md
    assert "The gap to true need was not measured" not in md  # no label at all
    assert "Label lag" in md


def test_missing_truth_and_fairness_are_said_not_hidden():
    info = {k: v for k, v in FULL.items() if k != "fairness"}
    info["metrics"] = {"observed": FULL["metrics"]["observed"]}
    info["label"] = {k: v for k, v in FULL["label"].items() if k != "gap"}
    md = render_model_card(info)
    assert _headings(md) == list(SECTIONS)
    assert "| model | 0.812 | 0.210 |" in md
    assert "Not available: ground truth" in md
    assert "No fairness report was supplied" in md
    assert "The gap to true need was not measured for this version." in md


def test_fairness_without_flags_and_agency_data():
    info = dict(FULL, fairness={"summary": "All groups within 0.8."})
    info["data"] = {"source": "agency"}
    md = render_model_card(info)
    assert "No group was flagged." in md
    assert "**simulated**" not in md
    assert "agency deliveries" in md
