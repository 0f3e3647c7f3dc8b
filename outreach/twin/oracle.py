"""The oracle's lists: the evaluation's reference, the one list built from the truth.

For the list of month ``m`` the oracle reads the truth of month ``m - 1`` (the month end the
other policies' lists are made from) and lists, per township, up to the township's capacity
(``ListSpec.size`` of its households that month):

1. households with **undiscovered need** (in hardship, not enrolled, no application or case in
   12 months, not monitored), deepest shortfall first (income per capita / standard);
2. then the other households that are **truth-eligible for 低保** (income below the standard,
   assets within the limits) and neither enrolled nor with a case pending, deepest first;

never a household it listed in the 6 months before. It knows who qualifies, not who a visit
will find (4 % are not found, 15 % of the needy are missed), and it ignores onset risk.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from serving.batch.priority import ListSpec

RELIST_MONTHS = 6


def oracle_list(
    truth: pd.DataFrame,
    township_codes: np.ndarray,
    spec: ListSpec,
    recently_listed: set[int],
) -> pd.DataFrame:
    """The oracle's list from one month of truth (``household_months``).

    Returns:
        ``household_id`` (the true household), ``township_code``, ``rank``.
    """
    t = truth.reset_index(drop=True)
    t["township_code"] = township_codes[t["township_idx"].to_numpy()]
    enrolled = t["enrolled_dibao"] | t["enrolled_tekun"]
    eligible = t["dibao_eligible"] & ~enrolled & ~t["case_pending"]
    first = t["undiscovered_need"].to_numpy(bool)
    candidate = (first | eligible.to_numpy(bool)) & ~t["household_id"].isin(recently_listed)
    t["tier"] = np.where(first, 0, 1)
    t["depth"] = t["income_per_capita"] / t["standard"]
    parts = []
    for code, group in t.groupby("township_code", sort=True):
        size = spec.size(len(group))
        chosen = (
            group.loc[candidate[group.index.to_numpy()]]
            .sort_values(["tier", "depth", "household_id"], kind="stable")
            .head(size)
        )
        parts.append(
            pd.DataFrame(
                {
                    "household_id": chosen["household_id"].to_numpy(np.int64),
                    "township_code": str(code),
                    "rank": np.arange(1, len(chosen) + 1, dtype=np.int32),
                }
            )
        )
    columns = ["household_id", "township_code", "rank"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
