"""``outreach train --table`` notes: each printed once, dropped columns in one line (all of
them, one a line, with ``--verbose``)."""

from __future__ import annotations

import io
from types import SimpleNamespace

from rich.console import Console

from outreach.cli.train import _print_table, note_lines

DROPPED = [{"column": f"c{i}", "reason": "fewer than two distinct values"} for i in range(13)] + [
    {"column": "when", "reason": "dates are not used as features"},
    {"column": "name", "reason": "text with 800 levels (more than 50)"},
]
NOTES = [f"dropped column '{d['column']}': {d['reason']}" for d in DROPPED] + [
    "dropped 6 rows without a label"
]


def test_dropped_columns_are_one_line() -> None:
    lines = note_lines(NOTES + NOTES, DROPPED)
    assert lines == [
        "note: 15 columns dropped: fewer than two distinct values (13: c0, c1, c2, …); dates "
        "are not used as features (when); text with 800 levels (more than 50) (name) "
        "(--verbose lists them)",
        "note: dropped 6 rows without a label",
    ]


def test_verbose_lists_every_column_once() -> None:
    lines = note_lines(NOTES + NOTES, DROPPED + DROPPED, verbose=True)
    assert lines == [f"note: {n}" for n in NOTES]


def test_no_dropped_column() -> None:
    assert note_lines(["a", "a", "b"], []) == ["note: a", "note: b"]
    assert note_lines([], []) == []


def _report() -> SimpleNamespace:
    metric = {"roc_auc": 0.7, "pr_auc": 0.6, "brier": 0.2, "ece": 0.05,
              "calibration_slope": 1.0, "capacity": {}}  # fmt: skip
    return SimpleNamespace(
        validation={"method": "5-fold", "evaluated_on": "out-of-fold"},
        rows={"used": 10, "read": 12, "positive": 3},
        metrics={"scores": {"model": metric}},
        features={"numeric": ["x"], "categorical": {}, "dropped": DROPPED},
        notes=NOTES + NOTES,
    )


def test_the_table_report_prints_each_note_once() -> None:
    for verbose, expected in ((False, 2), (True, 16)):
        out = io.StringIO()
        _print_table(Console(file=out, width=200), _report(), "t.csv", verbose)  # type: ignore[arg-type]
        notes = [line for line in out.getvalue().splitlines() if line.startswith("note:")]
        assert len(notes) == len(set(notes)) == expected, notes
