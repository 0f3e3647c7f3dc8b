"""The auditor's model page shows the fairness decomposition (issue 14, item 6)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from serving.pages.model_page import decomposition_view
from serving.pages.modeldata import ModelData
from training.backtest import fairness_decomposition


def _evaluation() -> dict:
    rng = np.random.default_rng(0)
    n = 600
    test = pd.DataFrame(
        {
            "household_id": [f"H{i:04d}" for i in range(n)],
            "township_code": rng.choice(["330000001", "330000002", "330000003"], size=n),
            "hukou": rng.choice(["urban", "rural"], size=n),
            "score_model": rng.random(n),
            "label": (rng.random(n) < 0.08).astype(float),
        }
    )
    return {"metrics": {"fairness_decomposition": fairness_decomposition(test, "label", 20)}}


def test_decomposition_multiplies_and_is_shown_per_township():
    ev = _evaluation()
    dec = ev["metrics"]["fairness_decomposition"]
    f = dec["figures"]
    for c in dec["capacities"]:
        rec, ach = f[f"fair.recall@{c:g}"]["value"], f[f"fair.achievable@{c:g}"]["value"]
        assert abs(f[f"fair.efficiency@{c:g}"]["value"] * ach - rec) < 1e-12
        assert ach <= 1.0
    view = decomposition_view(ModelData("1", ev, None, None, None), "en")
    assert view is not None and view["capacity"] == "5%"
    groups = [r["group"] for r in view["rows"]]
    assert groups[:3] == ["County", "Urban hukou", "Rural hukou"]
    assert sum(g.startswith("Township ") for g in groups) == 3
    assert "[" in view["rows"][0]["recall"]  # an interval is shown
    zh = decomposition_view(ModelData("1", ev, None, None, None), "zh")
    assert zh["rows"][0]["group"] == "全县"


def test_no_decomposition_without_an_evaluation():
    assert decomposition_view(ModelData("1", None, None, None, None), "en") is None
