"""Who a list is for: the discovery population, the known households and the program-gap path.

One rule, used by training (the rows a model learns from and is validated on), by scoring (the
households a discovery list may hold) and by every report (the composition of the lists).
Each household of a snapshot falls in exactly one **segment**, checked in this order:

- ``enrolled``: enrolled in 低保 (dibao) or 特困 (tekun). Never on a discovery list; it may reach a
  list only through the **program-gap** path (a program it likely qualifies for and does not
  receive, among :data:`PROGRAM_GAP_PROGRAMS`), marked so on the list;
- ``found_in_need``: the last visit within ``population.in_need_visit_months`` found it in need
  (the snapshot column ``visit_in_need_{N}m``);
- ``applied``: an assistance application in the last 12 months not answered by a rejection
  (``assistance_applications_12m > assistance_rejections_12m``): the application is pending,
  or was granted — either way the agency knows the household. The snapshot holds no
  "pending" flag of its own, so this is the observable stand-in for "pending application";
- ``monitored``: on the rural monitoring list (``rural_monitored``);
- ``discovery``: none of the above — **listable for discovery**.

``found_in_need``, ``applied`` and ``monitored`` are the **known** households: left off the
lists and counted apart in every report.

Example:
    >>> from policies.parameters import load_parameters
    >>> frame = pd.DataFrame({c: [0, 0] for c in INPUTS} | {"visit_in_need_6m": [False, True]})
    >>> segments(frame, load_parameters(), date(2024, 6, 30)).tolist()
    ['discovery', 'found_in_need']
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from core.errors import ConfigError
from policies.parameters import ParameterSet

IN_NEED_VISIT_MONTHS = "population.in_need_visit_months"
"""Months an in-need visit keeps a household out of the discovery population."""
PROGRAM_GAP_SHARE = "population.program_gap_share"
"""Largest share of a list's places given to program-gap entries."""
PARAMETERS = (IN_NEED_VISIT_MONTHS, PROGRAM_GAP_SHARE)

SEGMENTS = ("enrolled", "found_in_need", "applied", "monitored", "discovery")
"""The segments, in the order they are checked."""
KNOWN = ("found_in_need", "applied", "monitored")
"""Segments of households the agencies already know (not enrolled)."""
PROGRAM_GAP_PROGRAMS = ("medical_assistance", "education", "disability_living", "disability_care")
"""Programs an enrolled household can still be missing: the program-gap path."""

INPUTS = (
    "enrolled_dibao",
    "enrolled_tekun",
    "assistance_applications_12m",
    "assistance_rejections_12m",
    "rural_monitored",
)
"""Snapshot columns the rule reads, besides ``visit_in_need_{N}m``."""

DEFINITION = (
    "listable for discovery: not enrolled in dibao or tekun; no visit that found the household "
    "in need within population.in_need_visit_months; no assistance application in 12 months "
    "without a rejection (pending or granted); not on the rural monitoring list"
)


def visit_column(months: int) -> str:
    """The snapshot flag of an in-need visit within ``months`` (``visit_in_need_6m``)."""
    return f"visit_in_need_{int(months)}m"


def _flag(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        raise ConfigError(f"the population rule needs the snapshot column {col!r}")
    return frame[col].fillna(False).astype(bool).to_numpy()


def _number(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        raise ConfigError(f"the population rule needs the snapshot column {col!r}")
    return pd.to_numeric(frame[col], errors="coerce").fillna(0).to_numpy(dtype=float)


def _visit_flag(frame: pd.DataFrame, params: ParameterSet, as_of: date | None) -> np.ndarray:
    """The in-need-visit flag, with the window of each row's date (``as_of`` column or arg)."""
    if as_of is not None or "as_of" not in frame.columns:
        if as_of is None:
            raise ConfigError("the population rule needs an as-of date")
        return _flag(frame, visit_column(params.get(IN_NEED_VISIT_MONTHS, as_of)))
    days = pd.to_datetime(frame["as_of"]).dt.date.to_numpy()
    out = np.zeros(len(frame), dtype=bool)
    for day in sorted(set(days)):
        rows = days == day
        out[rows] = _flag(frame, visit_column(params.get(IN_NEED_VISIT_MONTHS, day)))[rows]
    return out


def segments(frame: pd.DataFrame, params: ParameterSet, as_of: date | None = None) -> pd.Series:
    """The segment of each row (:data:`SEGMENTS`), as text, on the frame's index.

    Args:
        frame: snapshot rows (the columns of :data:`INPUTS` and ``visit_in_need_{N}m``).
        params: the dated parameters.
        as_of: the snapshot date; None reads each row's ``as_of`` column (training frames).

    Raises:
        ConfigError: a column the rule needs is missing.
    """
    enrolled = _flag(frame, "enrolled_dibao") | _flag(frame, "enrolled_tekun")
    visit = _visit_flag(frame, params, as_of)
    applied = _number(frame, "assistance_applications_12m") > _number(
        frame, "assistance_rejections_12m"
    )
    monitored = _flag(frame, "rural_monitored")
    out = np.select(
        [enrolled, visit, applied, monitored],
        ["enrolled", "found_in_need", "applied", "monitored"],
        default="discovery",
    )
    return pd.Series(out.astype(object), index=frame.index, name="segment")


def listable_for_discovery(
    frame: pd.DataFrame, params: ParameterSet, as_of: date | None = None
) -> pd.Series:
    """Boolean mask of the discovery population (segment ``discovery``)."""
    return segments(frame, params, as_of) == "discovery"
