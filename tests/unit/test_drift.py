"""Reference distributions and PSI, checked by hand on tiny data."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from training.drift import EPSILON, band, psi, psi_value, reference_distributions


def test_psi_value_by_hand():
    # (0.8 - 0.5) ln(0.8/0.5) + (0.2 - 0.5) ln(0.2/0.5) = 0.3 ln 1.6 + 0.3 ln 2.5 = 0.3 ln 4
    assert psi_value([0.5, 0.5], [0.8, 0.2]) == pytest.approx(0.3 * math.log(4))
    assert psi_value([0.25] * 4, [0.25] * 4) == 0.0
    # an empty bin is floored at epsilon; a bin empty on both sides adds nothing
    assert psi_value([0.5, 0.5, 0.0], [1.0, 0.0, 0.0]) == pytest.approx(
        0.5 * math.log(2) + (EPSILON - 0.5) * math.log(EPSILON / 0.5)
    )


def test_bands():
    assert band(0.0) == band(0.099) == "stable"
    assert band(0.1) == band(0.25) == "moderate"
    assert band(0.2501) == "major"


def test_flag_feature_by_level():
    ref_X = pd.DataFrame({"serious_illness_12m": [True, False] * 5})
    ref = reference_distributions(ref_X, None)
    entry = ref["features"]["serious_illness_12m"]
    assert entry["kind"] == "categorical"
    assert entry["labels"] == ["False", "True", "other", "missing"]
    assert entry["shares"] == [0.5, 0.5, 0.0, 0.0]
    # flags given as 0/1 floats read the same
    cur_X = pd.DataFrame({"serious_illness_12m": [1.0] * 8 + [0.0] * 2})
    out = psi(ref, cur_X)
    [row] = out["features"]
    assert [b["current"] for b in row["bins"]] == [0.2, 0.8, 0.0, 0.0]
    assert row["psi"] == pytest.approx(0.3 * math.log(4))
    assert row["band"] == "major"
    assert row["en"] == "serious illness in the last 12 months"
    assert out["score"] is None


def test_numeric_deciles_and_missing_bin_by_hand():
    ref_X = pd.DataFrame({"household_size": np.arange(1, 11, dtype=float)})
    ref = reference_distributions(ref_X, np.linspace(0, 1, 10))
    entry = ref["features"]["household_size"]
    assert entry["kind"] == "numeric"
    np.testing.assert_allclose(entry["edges"], [1, 2, 3, 4, 5, 6, 7, 8, 9])
    assert entry["shares"] == pytest.approx([0.1] * 10 + [0.0])
    assert entry["labels"][0] == "<= 1" and entry["labels"][-2:] == ["> 9", "missing"]

    cur_X = pd.DataFrame({"household_size": [1, 1, 1, 1, 1, 2, 3, 4, 5, np.nan]})
    [row] = psi(ref, cur_X)["features"]
    cur = [b["current"] for b in row["bins"]]
    assert cur == pytest.approx([0.5, 0.1, 0.1, 0.1, 0.1, 0, 0, 0, 0, 0, 0.1])
    e = EPSILON
    hand = (
        (0.5 - 0.1) * math.log(0.5 / 0.1)  # first bin
        + 5 * (e - 0.1) * math.log(e / 0.1)  # five emptied bins
        + (0.1 - e) * math.log(0.1 / e)  # a missing bin the reference never had
    )
    assert row["psi"] == pytest.approx(hand)
    assert row["band"] == "major"


def test_tied_deciles_merge_and_unseen_levels_go_to_other():
    counts = pd.Series([0] * 85 + [1] * 10 + [2] * 5, dtype=float)
    ref = reference_distributions(pd.DataFrame({"unemployed_members": counts}), None)
    entry = ref["features"]["unemployed_members"]
    assert entry["edges"] == [0.0, 1.0]
    assert entry["shares"] == pytest.approx([0.85, 0.10, 0.05, 0.0])

    ref = reference_distributions(pd.DataFrame({"tier": ["a", "b", "a", "b"]}), None)
    assert ref["features"]["tier"]["kind"] == "categorical"
    [row] = psi(ref, pd.DataFrame({"tier": ["a", "c", None, "b"]}))["features"]
    assert [b["bin"] for b in row["bins"]] == ["a", "b", "other", "missing"]
    assert [b["current"] for b in row["bins"]] == [0.25, 0.25, 0.25, 0.25]


def test_shifted_distribution_is_major_and_sorted():
    rng = np.random.default_rng(3)
    n = 4000
    ref_X = pd.DataFrame(
        {
            "income_per_capita_monthly": rng.normal(1000, 200, n),
            "medical_oop_12m": rng.normal(500, 100, n),
            "dependency_ratio": rng.normal(1, 0.3, n),
        }
    )
    ref_scores = rng.beta(2, 8, n)
    ref = reference_distributions(ref_X, ref_scores)
    cur_X = pd.DataFrame(
        {
            "income_per_capita_monthly": rng.normal(1000, 200, n),  # unchanged
            "medical_oop_12m": rng.normal(500 + 0.4 * 100, 100, n),  # shifted 0.4 sd
            "dependency_ratio": rng.normal(1 + 1.5 * 0.3, 0.3, n),  # shifted 1.5 sd
        }
    )
    out = psi(json.loads(json.dumps(ref)), cur_X, rng.beta(2, 8, n))  # survives JSON
    bands = {r["feature"]: r["band"] for r in out["features"]}
    assert bands == {
        "dependency_ratio": "major",
        "medical_oop_12m": "moderate",
        "income_per_capita_monthly": "stable",
    }
    assert [r["feature"] for r in out["features"]][0] == "dependency_ratio"
    assert out["bands"] == {"stable": 1, "moderate": 1, "major": 1}
    assert out["score"]["band"] == "stable"
    assert psi(ref, cur_X, ref_scores + 0.3)["score"]["band"] == "major"
    json.dumps(out)


def test_errors():
    ref = reference_distributions(pd.DataFrame({"children": [0.0, 1.0]}), None)
    with pytest.raises(ValueError, match="children"):
        psi(ref, pd.DataFrame({"elderly": [1.0]}))
    with pytest.raises(ValueError):
        reference_distributions(pd.DataFrame({"children": []}), None)
    with pytest.raises(ValueError):
        reference_distributions(pd.DataFrame({"children": [1.0]}), [0.1, 0.2])
