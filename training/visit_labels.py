"""Visit-outcome labels: every visit in the warehouse is a label of need in its month.

A visit in month *m* labels the household's **month-end vector before it** (the as-of date
``t`` = the last day of *m − 1*): the world's own visits of *m* follow the triggers recorded in
*m − 1*, and the list visited in *m* was made from the month end of *m − 1*. One row per
household and as-of date that had a visit:

- ``label``: the visit's **observed** outcome: 1.0 ``in_need``, 0.0 ``not_in_need``; NaN when
  every visit of the month was ``not_found`` (nobody at home, a wrong address, a household gone:
  the visit found nothing, so it is no label of need; in the county the world's 4 % not-found
  draws do not depend on need, so leaving them out biases nothing). ``labelled`` says which.
- ``channel``: how the household came to be visited (:data:`CHANNELS`): ``ranked`` or
  ``exploration`` (an Outreach list entry: trigger ``outreach_list``, by its
  ``list_exploration`` flag; a list entry with no logged flag counts as ranked),
  ``triggered`` (the world's visit after a recorded hospitalisation, disability or
  unemployment) or ``routine`` (the world's visits of the elderly living alone and of
  monitored households). When a month holds several visits, the label is the list visit's (the
  designed sample) if it found the household, else the first world visit that did.
- ``list_probability``: the list entry's logged selection probability (1 for ranked entries and
  for list entries stored before probabilities were logged; the exploration draw's inclusion
  probability otherwise); NaN for a world visit.
- ``exploration_rate``: the inclusion probability of the exploration draw of the visit's
  township (first 9 digits of its ``village_code``) that month, read from the logged
  exploration entries there (the design gives every pool household the same probability);
  0 where none was visited. It lets a household the world visited count the chance that
  exploration would have reached it too (:mod:`training.visit_weights`).
- ``world_visit`` / ``list_visit``: whether the world / an Outreach list visited the household
  that month (a ``not_found`` visit included): the target of the world-visit propensity.

**Point-in-time.** Only visits known by the cutoff (knowledge time
:func:`features.vectors.sources.known_date`, link evidence by then) count, and an as-of date is
used only when its month, plus the p99 lateness of visits (days past the end of its month
before a visit was known: 0 for a visit delivered with its month's extract), ends by the cutoff
(:func:`complete_dates`): a month still open could yet receive visits, and "not visited" would
be wrong. The lateness is taken per source: our list visits come back with their month's
export (lateness 0), the world's visits may come a month late (the county's ``delay`` defect),
so a month complete for the lists but not yet for the world keeps its list visits only
(``world_dates`` in ``frame.attrs`` lists the months complete for both: only those may teach
the world's propensity). A model trained on the extract of month *m* learns from the list
visits of *m*; a visit recorded after a model's cutoff never trains it.

Households are found through the links of the visit's record (the subject is the household
head) and the membership **at t** (:func:`features.linkage.households.membership_as_of`).

Example:
    >>> frame = visit_labels(con, [date(2026, 1, 31)], cutoff=date(2026, 3, 31))  # doctest: +SKIP
    >>> frame.groupby("channel")["label"].mean()  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from features.linkage.households import date_literal, membership_as_of
from features.vectors.sources import known_date
from features.warehouse import record_table
from training.labels import is_labelled, label_cutoff

LIST_TRIGGER = "outreach_list"
TRIGGERED = ("hospitalization", "disability", "unemployment")
ROUTINE = ("elderly_alone", "monitoring")
CHANNELS = ("ranked", "exploration", "triggered", "routine")
FOUND = {"in_need": 1.0, "not_in_need": 0.0}
VISIT_LABEL_COLUMNS = (
    "household_id", "as_of", "township_code", "channel", "trigger", "outcome", "label",
    "labelled", "list_probability", "exploration_rate", "world_visit", "list_visit",
)  # fmt: skip

VISIT_LABEL_DEFINITION = (
    "Per household and month-end t: the observed outcome (in need 1, not in need 0) of a visit "
    "in the month after t (an Outreach list visit first, else the world's first visit that found "
    "the household); not-found visits are no label. Each row carries its channel (ranked, "
    "exploration, triggered, routine) and the list entry's logged selection probability; only "
    "visits known by the cutoff count, and only months complete by then (with the p99 lateness)."
)


def _visits_sql(cutoff: date) -> str:
    """Every visit known by ``cutoff``, with its linked person and the as-of date it labels."""
    c = date_literal(cutoff)
    return f"""
        SELECT l.person_id, v.record_id, v.event_date, {known_date("v")} AS known_date,
               last_day(v.event_date - INTERVAL 1 MONTH) AS as_of,
               v.trigger, v.outcome, substr(v.village_code, 1, 9) AS township_code,
               v.list_exploration, v.list_selection_probability
        FROM {record_table("visits")} v
        JOIN links l ON l.agency = 'visits' AND l.record_id = v.record_id
        WHERE {known_date("v")} <= {c} AND l.evidence_date <= {c}
    """


def visit_lateness_p99(
    con: duckdb.DuckDBPyConnection, cutoff: date, listed: bool | None = None
) -> int:
    """The 99th percentile (whole days, rounded up) of how long after the end of its month a
    visit became known (0 for one delivered with its month's extract), over the visits known
    by ``cutoff`` (``listed``: only list visits, True, or only the world's, False); 0 when
    there is none."""
    where = (
        "" if listed is None else f"WHERE ({'' if listed else 'NOT '}trigger = '{LIST_TRIGGER}')"
    )
    rows = con.execute(
        "SELECT greatest(date_diff('day', last_day(event_date), known_date), 0) "
        f"FROM ({_visits_sql(cutoff)}) {where}"
    ).fetchall()
    if not rows:
        return 0
    return int(math.ceil(float(np.quantile(np.array([r[0] for r in rows], float), 0.99))))


def complete_dates(dates: Iterable[date], cutoff: date, delay_days: int) -> list[date]:
    """The as-of dates whose next month, plus ``delay_days`` (the p99 lateness,
    :func:`visit_lateness_p99`), ends by ``cutoff`` (sorted).

    Example:
        >>> complete_dates([date(2026, 1, 31), date(2026, 2, 28)], date(2026, 3, 31), 10)
        [datetime.date(2026, 1, 31)]
    """
    return [t for t in sorted(set(dates)) if is_labelled(t, cutoff, delay_days, 1)]


def exploration_rates(visits: pd.DataFrame) -> pd.DataFrame:
    """Per (township_code, as_of): the logged inclusion probability of the exploration draw,
    from the exploration visits there (``exploration_rate``)."""
    explore = visits.loc[
        (visits["trigger"] == LIST_TRIGGER) & visits["list_exploration"].fillna(False).astype(bool)
    ]
    rates = explore.groupby(["township_code", "as_of"], as_index=False)[
        "list_selection_probability"
    ].max()
    return rates.rename(columns={"list_selection_probability": "exploration_rate"})


def _channel(trigger: pd.Series, exploration: pd.Series) -> np.ndarray:
    listed = (trigger == LIST_TRIGGER).to_numpy()
    explore = exploration.fillna(False).astype(bool).to_numpy()
    routine = trigger.isin(ROUTINE).to_numpy()
    return np.select(
        [listed & explore, listed, routine], ["exploration", "ranked", "routine"], "triggered"
    )


def assemble_labels(visits: pd.DataFrame) -> pd.DataFrame:
    """One row per household and as-of date from visit rows (see the module docstring).

    Args:
        visits: one row per visit with ``household_id, as_of, event_date, record_id, trigger,
            outcome, township_code, list_exploration, list_selection_probability``.
    """
    if visits.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in VISIT_LABEL_COLUMNS})
    v = visits.copy()
    v["channel"] = _channel(v["trigger"], v["list_exploration"])
    v["is_list"] = v["trigger"] == LIST_TRIGGER
    v["found"] = v["outcome"].isin(list(FOUND))
    keys = ["household_id", "as_of"]
    flags = v.groupby(keys, as_index=False).agg(
        world_visit=("is_list", lambda s: bool((~s).any())), list_visit=("is_list", "any")
    )
    # the labelling visit: found first, a list visit first, then the earliest
    v = v.sort_values(
        [*keys, "found", "is_list", "event_date", "record_id"],
        ascending=[True, True, False, False, True, True],
        kind="stable",
    )
    first = v.drop_duplicates(keys, keep="first")
    out = first.merge(flags, on=keys, how="left")
    out["label"] = out["outcome"].map(FOUND).astype(float)
    out["labelled"] = out["label"].notna()
    prob = pd.to_numeric(out["list_selection_probability"], errors="coerce")
    out["list_probability"] = np.where(
        out["is_list"], prob.fillna(1.0).where(out["channel"] != "ranked", 1.0), np.nan
    )
    rates = exploration_rates(visits)
    out = out.merge(rates, on=["township_code", "as_of"], how="left")
    out["exploration_rate"] = out["exploration_rate"].fillna(0.0).astype(float)
    out["household_id"] = out["household_id"].astype(str)
    out = out.sort_values(keys, kind="stable").reset_index(drop=True)
    return out[list(VISIT_LABEL_COLUMNS)]


def visit_labels(
    con: duckdb.DuckDBPyConnection,
    as_of_dates: Iterable[date],
    cutoff: date | None = None,
) -> pd.DataFrame:
    """The visit-outcome labels of the complete ``as_of_dates`` (see the module docstring).

    Args:
        con: the warehouse (read-only is enough: only temp tables are created).
        as_of_dates: month-end snapshot dates; those not complete by the cutoff are skipped.
        cutoff: what counts as known; default :func:`training.labels.label_cutoff`.

    Returns:
        :data:`VISIT_LABEL_COLUMNS`, ``as_of`` as ``datetime.date``; ``frame.attrs`` holds
        ``cutoff``, ``delay_days`` and ``list_delay_days`` (the p99 lateness of the world's and
        of the list visits), the ``dates`` used and the ``world_dates`` among them.
    """
    cutoff = cutoff or label_cutoff(con)
    delay = visit_lateness_p99(con, cutoff, listed=False)
    list_delay = visit_lateness_p99(con, cutoff, listed=True)
    world_dates = complete_dates(as_of_dates, cutoff, delay)
    dates = sorted(set(world_dates) | set(complete_dates(as_of_dates, cutoff, list_delay)))
    sql = _visits_sql(cutoff)
    parts = []
    for t in dates:
        only_lists = "" if t in world_dates else f"AND v.trigger = '{LIST_TRIGGER}'"
        members = membership_as_of(con, t, suffix=f"vis{t:%Y%m%d}")
        try:
            parts.append(
                con.execute(
                    f"""
                    SELECT DISTINCT m.household_id, v.as_of, v.event_date, v.record_id,
                           v.trigger, v.outcome, v.township_code, v.list_exploration,
                           v.list_selection_probability
                    FROM ({sql}) v
                    JOIN (SELECT DISTINCT person_id, household_id FROM {members}) m
                      ON m.person_id = v.person_id
                    WHERE v.as_of = {date_literal(t)} {only_lists}
                    """
                ).df()
            )
        finally:
            con.execute(f"DROP TABLE IF EXISTS {members}")
    visits = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if not visits.empty:
        visits["as_of"] = [pd.Timestamp(d).date() for d in visits["as_of"]]
    out = assemble_labels(visits)
    out.attrs.update(cutoff=cutoff, delay_days=delay, list_delay_days=list_delay, dates=dates,
                     world_dates=world_dates)  # fmt: skip
    return out
