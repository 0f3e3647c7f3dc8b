"""The linkage benchmark runs end to end on a small size (its 1M-row figure is in docs)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from bench_link_table import main, person_table  # noqa: E402


def test_generated_table_has_the_errors_it_claims():
    table, truth = person_table(5000, 1)
    assert len(table) == len(truth) == 5000
    assert table["证件号码"].isna().mean() > 0.25 and table["出生日期"].isna().any()


def test_bench_runs_on_a_small_table(capsys):
    result = main(["--rows", "3000"])
    assert result["rows"] == 3000 and result["seconds"] > 0 and result["peak_gb"] > 0
    assert result["precision"] >= 0.95 and result["recall"] >= 0.9, result
