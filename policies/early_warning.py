"""The early-warning rules: today's way of finding households to visit, one rule at a time.

Each rule alone flags a household for a visit. The rules read household-vector columns (the
feature catalogue's names) and two dated thresholds from ``policies/params/screening.yaml``
(:data:`SCHOOL_ABSENCE_SHARE`, :data:`ARREARS_MONTHS`), looked up on each row's as-of date.
They serve twice: as the baseline the hardship model is compared with
(:func:`rules_baseline`), and as the warning bits stored with every score (a rule that fires
anew lets a household found "not in need" back onto a list).

Example:
    >>> from policies.parameters import load_parameters
    >>> frame = pd.DataFrame({c: [0] for c in INPUTS} | {"as_of": [date(2024, 6, 30)]})
    >>> frame.loc[0, "utility_arrears_months_3m"] = 2
    >>> rule_flags(frame, load_parameters()).loc[0, "utility_arrears"]
    np.True_
    >>> float(rules_baseline(frame, load_parameters())[0])
    1.3996666666666666
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from policies.parameters import ParameterSet

SCHOOL_ABSENCE_SHARE = "screening.early_warning_school_absence_share"
"""Share of school days missed over 3 months that fires the school rule."""
ARREARS_MONTHS = "screening.early_warning_arrears_months"
"""Months of utility arrears that fire the arrears rule."""
PARAMETERS = (SCHOOL_ABSENCE_SHARE, ARREARS_MONTHS)
"""The dated parameters the rules read."""

RULES: dict[str, str] = {
    "serious_illness": "a member had claims for a serious illness in the last 12 months",
    "severe_disability": "a member has a severe disability, or a new disability in 12 months",
    "school": "a child dropped out in 12 months or missed >= 10% of school days in 3 months",
    "unemployment": "a member is registered unemployed or became so in the last 3 months",
    "elderly_alone": "an elderly person lives alone",
    "children_without_support": "children live without any working-age member",
    "utility_arrears": "utility bills 2 or more months in arrears",
}
"""The rules in a fixed order (the order of the warning bits: bit i = the i-th rule)."""

INPUTS = (
    "serious_illness_12m",
    "serious_illness_members_12m",
    "severe_disabled_members",
    "disability_new_12m",
    "school_dropout_12m",
    "school_absence_rate_3m",
    "unemployed_members",
    "unemployment_new_3m",
    "elderly_living_alone",
    "children_without_support",
    "utility_arrears_months_3m",
)
"""The household-vector columns the rules read."""


def _num(frame: pd.DataFrame, col: str) -> pd.Series:
    """A column as numbers; a missing or unreadable value is 0 (so it never fires a rule)."""
    return pd.to_numeric(frame[col].astype("object"), errors="coerce").fillna(0.0)


def threshold(
    frame: pd.DataFrame, params: ParameterSet, name: str, as_of: date | None = None
) -> np.ndarray | float:
    """The parameter ``name`` in force on ``as_of``, or per row on the frame's ``as_of`` column
    when no date is given (a snapshot holds one date; a training frame may hold several)."""
    if as_of is not None:
        return params.get(name, as_of)
    days = frame["as_of"]
    values = {d: params.get(name, pd.Timestamp(d).date()) for d in pd.unique(days)}
    if len(values) == 1:
        return next(iter(values.values()))
    return days.map(values).to_numpy(dtype=float)


def rule_flags(
    frame: pd.DataFrame, params: ParameterSet, as_of: date | None = None
) -> pd.DataFrame:
    """One boolean column per rule of :data:`RULES`, in that order (a missing value never fires).

    Args:
        frame: household vectors with the :data:`INPUTS` columns (and ``as_of``, unless given).
        params: the policy parameters (the thresholds are read on the as-of date).
        as_of: the date of every row (default: each row's ``as_of``).
    """
    absence = threshold(frame, params, SCHOOL_ABSENCE_SHARE, as_of)
    arrears = threshold(frame, params, ARREARS_MONTHS, as_of)
    return pd.DataFrame(
        {
            "serious_illness": _num(frame, "serious_illness_12m") > 0,
            "severe_disability": (_num(frame, "severe_disabled_members") > 0)
            | (_num(frame, "disability_new_12m") > 0),
            "school": (_num(frame, "school_dropout_12m") > 0)
            | (_num(frame, "school_absence_rate_3m") >= absence),
            "unemployment": (_num(frame, "unemployed_members") > 0)
            | (_num(frame, "unemployment_new_3m") > 0),
            "elderly_alone": _num(frame, "elderly_living_alone") > 0,
            "children_without_support": _num(frame, "children_without_support") > 0,
            "utility_arrears": _num(frame, "utility_arrears_months_3m") >= arrears,
        },
        index=frame.index,
    )


def rules_baseline(
    frame: pd.DataFrame, params: ParameterSet, as_of: date | None = None
) -> np.ndarray:
    """A ranking score from the rules: the number that fire, plus a tie-breaker in [0, 1) from
    the rules' own intensity (members ill, severely disabled or unemployed; months in arrears
    / 3; absence rate): ``intensity / (1 + intensity)``. No label, no income, no other feature
    is used. Arguments as for :func:`rule_flags`."""
    count = rule_flags(frame, params, as_of).sum(axis=1).to_numpy(dtype=float)
    intensity = (
        _num(frame, "serious_illness_members_12m").to_numpy()
        + _num(frame, "severe_disabled_members").to_numpy()
        + _num(frame, "unemployed_members").to_numpy()
        + _num(frame, "utility_arrears_months_3m").to_numpy() / 3.0
        + _num(frame, "school_absence_rate_3m").to_numpy()
    )
    intensity = np.maximum(intensity, 0.0)
    return count + 0.999 * intensity / (1.0 + intensity)
