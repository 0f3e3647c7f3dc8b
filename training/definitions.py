"""What a figure counts: the evaluation definitions of need, in one place (evaluation only).

Every report that judges lists against the simulator's truth (the score report, the list
evaluation, the model's truth metrics) takes its definitions from here and names the one it
uses (:data:`DEFINITIONS`). Each definition reads the truth at the as-of date ``t``
(:func:`training.truth.truth_frame`: ``in_hardship``, ``enrolled``, ``applied_12m``,
``true_onset_6m``) and what the agencies' records show at ``t`` (snapshot columns):

- **undiscovered need** (:func:`undiscovered_need`): in hardship at ``t``; not enrolled in
  dibao/tekun; no application or decision in the last 12 months (the truth's applications, and
  the records' ``assistance_applications_12m`` and ``assistance_rejections_12m``); no in-need
  visit (``visit_in_need_6m``: the snapshot keeps the in-need outcome of the last visit within
  6 months, so a visit 7-12 months back is not seen); and not on the rural monitoring list
  (``rural_monitored`` at ``t``);
- **silent** (:func:`silent`): in hardship; not enrolled; no application or decision in 12
  months, where a case started by a visit counts as an application (an in-need visit) — the
  simulator's ``silent`` made consistent with the records. Undiscovered need is the silent
  households who are not monitored either;
- **need found** (:func:`need_found`): in hardship at ``t``, or a true onset within 6 months.

Example:
    >>> frame = pd.DataFrame({"in_hardship": [True, True, False], "enrolled": [False] * 3,
    ...     "applied_12m": [False] * 3, "true_onset_6m": [False, False, True],
    ...     "assistance_applications_12m": [0, 0, 0], "assistance_rejections_12m": [0, 0, 0],
    ...     "visit_in_need_6m": [False, True, False], "rural_monitored": [False] * 3})
    >>> undiscovered_need(frame).tolist(), need_found(frame).tolist()
    ([True, False, False], [True, True, True])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DEFINITIONS = {
    "undiscovered_need": (
        "in true hardship at t; not enrolled in dibao/tekun; no application or decision in 12 "
        "months; no in-need visit (last visit within 6 months); not on the rural monitoring list"
    ),
    "silent": (
        "in true hardship at t; not enrolled in dibao/tekun; no application or decision in 12 "
        "months, a case started by a visit (an in-need visit) counting as an application"
    ),
    "need_found": "in true hardship at t, or a true onset within 6 months after t",
    "onset": "a true onset (hardship after three months without) within 6 months after t, "
    "among households not in hardship at t with a complete future",
}
"""Each definition's text, quoted by every figure that uses it."""

TRUTH_INPUTS = ("in_hardship", "enrolled", "applied_12m", "true_onset_6m")
RECORD_INPUTS = (
    "assistance_applications_12m",
    "assistance_rejections_12m",
    "visit_in_need_6m",
    "rural_monitored",
)


def _flag(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        raise KeyError(f"the definition needs the column {col!r}")
    return frame[col].fillna(False).astype(bool).to_numpy()


def _count(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        raise KeyError(f"the definition needs the column {col!r}")
    return pd.to_numeric(frame[col], errors="coerce").fillna(0).to_numpy(dtype=float)


def silent(frame: pd.DataFrame) -> np.ndarray:
    """In hardship, not enrolled, no application, decision or in-need visit (see above)."""
    applied = (
        _flag(frame, "applied_12m")
        | (_count(frame, "assistance_applications_12m") > 0)
        | (_count(frame, "assistance_rejections_12m") > 0)
        | _flag(frame, "visit_in_need_6m")
    )
    return _flag(frame, "in_hardship") & ~_flag(frame, "enrolled") & ~applied


def undiscovered_need(frame: pd.DataFrame) -> np.ndarray:
    """Silent and not on the rural monitoring list (see above)."""
    return silent(frame) & ~_flag(frame, "rural_monitored")


def need_found(frame: pd.DataFrame) -> np.ndarray:
    """In hardship at ``t`` or a true onset within 6 months."""
    return _flag(frame, "in_hardship") | _flag(frame, "true_onset_6m")


def onset_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows an onset can be judged on: not in hardship at ``t``, complete future."""
    return (
        _flag(frame, "complete_future") & ~frame["in_hardship"].fillna(True).astype(bool).to_numpy()
    )


def add_definitions(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with boolean columns ``undiscovered_need``, ``silent_now``,
    ``need_found``, ``onset`` (a true onset on a judged row) and ``onset_row``."""
    out = frame.copy()
    out["undiscovered_need"] = undiscovered_need(frame)
    out["silent_now"] = silent(frame)
    out["need_found"] = need_found(frame)
    rows = onset_rows(frame)
    out["onset_row"] = rows
    out["onset"] = rows & _flag(frame, "true_onset_6m")
    return out
