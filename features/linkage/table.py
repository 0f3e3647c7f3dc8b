"""Any person table deduplicated, or two tables linked (``outreach link --table [--table]``).

1. Each table's mapped columns become the standard columns (:mod:`~.table_prep`); rows with no
   usable field (no name, no birth year, no identifier) are kept aside as singletons.
2. Candidate pairs come from the capped blocking rules of :mod:`~.table_rules`; pairs are scored
   by the graded comparisons of :mod:`~.table_compare` (Splink, Fellegi-Sunter, DuckDB).
3. Training: u by seeded random sampling (:data:`~.model.SEED`, a million pairs); m from labels
   when given (``--labels``), else from usable resident IDs when the table has them, else by
   expectation maximisation on two rule families (a name rule trains every comparison but the
   name; a birth-date or identifier rule trains the name). Every m is floored and renormalized.
4. Records joined by pairs at or above :data:`~.model.MATCH_THRESHOLD` form clusters (connected
   components); labelled pairs are resolved as labelled.
"""

from __future__ import annotations

import logging

import duckdb
import numpy as np
import pandas as pd

from features.linkage.model import MATCH_THRESHOLD, PREDICT_FLOOR, SEED, quiet_splink, smooth_m
from features.linkage.table_compare import table_comparisons
from features.linkage.table_labels import Labels, force_labels
from features.linkage.table_prep import TableMap, field_set, prepare
from features.linkage.table_quality import estimated_quality, measured_quality
from features.linkage.table_rules import blocking_recall, blocking_sql, rule_keys

U_PAIRS = 1_000_000
"""Random pairs sampled to estimate u (seeded with :data:`~.model.SEED`)."""
_COLUMNS = (
    "family", "given", "name_norm", "family_py", "given_py", "name_py", "birth_year",
    "birth_month", "birth_day", "birth_text", "sex", "address", "id_valid", "id_text",
)  # fmt: skip


def _duck_frame(prep: pd.DataFrame, keys: pd.DataFrame, extra: list[str]) -> pd.DataFrame:
    cols = {"uid": prep["uid"].to_numpy(np.int64), "source_table": prep["source_table"]}
    for c in (*_COLUMNS, *extra):
        if c.startswith("birth_") and c != "birth_text":
            cols[c] = prep[c].astype("Int64")
        else:
            cols[c] = prep[c].astype(object).where(prep[c].notna(), None).astype("string")
    for c in keys.columns:
        cols[c] = keys[c].astype("string")
    return pd.DataFrame(cols)


def _prior(prep: pd.DataFrame, link_job: bool) -> float | None:
    """The chance two random rows are one person, measured on usable resident IDs."""
    ids = prep["id_valid"].dropna()
    if len(ids) < 20:
        return None
    if link_job:
        src = prep.loc[ids.index, "source_table"]
        a, b = ids[src == 1].value_counts(), ids[src == 2].value_counts()
        same = int((a * b.reindex(a.index).fillna(0)).sum())
        total = int((src == 1).sum()) * int((src == 2).sum())
    else:
        sizes = ids.value_counts().to_numpy(np.int64)
        same, total = int((sizes * (sizes - 1) // 2).sum()), len(ids) * (len(ids) - 1) // 2
    return min(max(same / max(total, 1), 1e-9), 0.5)


def _em_rules(fields: set[str], stats: list[dict], pair_filter: str) -> list[str]:
    """Blocking rules for EM: one on the name, one on the birth date or identifier."""
    have = {s["rule"] for s in stats}
    extra = f" AND {pair_filter}" if pair_filter else ""
    out = []
    if "name" in have:
        out.append(f'l.name_norm = r.name_norm AND l."bk_name" = r."bk_name"{extra}')
    for rule, col in (("birth_sex", "birth_text"), ("birth_address", "birth_text"),
                      ("family_birth", "birth_text"), ("id_a", "id_text")):  # fmt: skip
        if rule in have:
            out.append(f'l.{col} = r.{col} AND l."bk_{rule}" = r."bk_{rule}"{extra}')
            break
    if not out and stats:
        out.append(blocking_sql(stats[:1], pair_filter)[0]["blocking_rule"])
    return out


def _train(make, linker, prep, fields, stats, pair_filter, labels_col, notes) -> dict:
    """Train u, then m (labels, usable IDs or EM); ``make(settings)`` gives a fresh linker (an EM
    round that fails leaves the model as it was before the round)."""
    linker.training.estimate_u_using_random_sampling(max_pairs=U_PAIRS, seed=SEED)
    if labels_col is not None:
        linker.training.estimate_m_from_label_column(labels_col)
        notes["m_estimated_by"] = "labels (--labels)"
    elif prep["id_valid"].notna().sum() >= 20:
        linker.training.estimate_m_from_label_column("id_valid")
        notes["m_estimated_by"] = "labels from usable resident IDs"
    else:
        notes["m_estimated_by"] = "expectation maximisation"
        for rule in _em_rules(fields, stats, pair_filter):
            before = linker.misc.save_model_to_json()
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(rule)
            except Exception as exc:  # noqa: BLE001 - Splink raises plain exceptions
                notes.setdefault("training_notes", []).append(str(exc).splitlines()[0][:200])
                linker = make(before)
    return _fill_u(smooth_m(linker.misc.save_model_to_json()))


def _fill_u(model: dict) -> dict:
    """A level never seen among the sampled random pairs gets u = half of one in the sample
    (rare, not impossible), the other levels of its comparison renormalized."""
    for comp in model["comparisons"]:
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        if any(lv.get("fix_u_probability") for lv in levels):
            continue
        us = [lv.get("u_probability") for lv in levels]
        if all(u is not None for u in us):
            continue
        us = [0.5 / U_PAIRS if u is None else float(u) for u in us]
        for lv, u in zip(levels, us, strict=True):
            lv["u_probability"] = u / sum(us)
    return model


def link_tables(
    frames: list[pd.DataFrame], maps: list[TableMap], labels: Labels | None = None
) -> tuple[list[pd.DataFrame], dict, pd.DataFrame]:
    """Deduplicate one table or link two (link only: pairs across the tables).

    Returns each input frame with ``cluster_id`` and ``match_probability`` added (1, 2, ... in
    order of first appearance across the tables; the probability is the best pair that joined
    the record, null for a record that matched nobody), the notes (figures of the run), and the
    scored pairs (``uid_l``, ``uid_r``, ``match_weight``, ``match_probability`` and the
    per-field levels) for clerical review.
    """
    link_job = len(frames) == 2
    parts, notes = [], {"job": "link" if link_job else "dedupe", "tables": []}
    for i, (frame, m) in enumerate(zip(frames, maps, strict=True), start=1):
        p, n = prepare(frame, m, source=i)
        parts.append(p)
        notes["tables"].append(n)
    prep = pd.concat(parts, ignore_index=True)
    prep["uid"] = np.arange(len(prep), dtype=np.int64)
    fields = set().union(*(field_set(m) for m in maps))
    n_other = max(len(m.other) for m in maps)
    for i in range(1, n_other + 1):
        if f"other_{i}" not in prep:
            prep[f"other_{i}"] = None
    usable = prep[prep["usable"]].reset_index(drop=True)
    keys, stats = rule_keys(usable, fields)
    notes["rows"] = len(prep)
    notes["rows_without_usable_field"] = int((~prep["usable"]).sum())
    notes["blocking_rules"] = stats
    pair_filter = "l.source_table <> r.source_table" if link_job else ""
    extra = [f"other_{i}" for i in range(1, n_other + 1)]
    duck = _duck_frame(usable, keys, extra)
    labels_col = None
    if labels is not None:
        duck["label"] = labels.label_column(len(prep)).reindex(usable["uid"]).to_numpy()
        duck["label"] = duck["label"].astype("string")
        labels_col = "label"
        notes["blocking_recall"] = blocking_recall(
            keys, duck["label"], usable["source_table"] if link_job else None
        )
    resident = bool(usable["id_valid"].notna().any())
    pairs = _score(duck, fields, stats, pair_filter, resident, labels_col, link_job, notes)
    pairs = force_labels(pairs, labels)
    cluster = _components(len(prep), pairs, labels)
    best = _best_probability(len(prep), pairs)
    outs, start = [], 0
    codes = {c: i + 1 for i, c in enumerate(pd.unique(cluster))}
    dense = np.array([codes[c] for c in cluster], np.int64)
    for frame in frames:
        res = frame.reset_index(drop=True).copy()
        res["cluster_id"] = dense[start : start + len(frame)]
        res["match_probability"] = best[start : start + len(frame)]
        outs.append(res)
        start += len(frame)
    notes["clusters"] = len(codes)
    notes["records_in_multi_record_clusters"] = int(pd.Series(dense).duplicated(keep=False).sum())
    notes["threshold"] = MATCH_THRESHOLD
    notes["estimated_quality"] = estimated_quality(pairs, dense)
    if labels is not None:
        notes["measured_on_labels"] = measured_quality(dense, labels, prep["source_table"])
    return outs, notes, pairs


def _score(duck, fields, stats, pair_filter, resident, labels_col, link_job, notes):
    from splink import DuckDBAPI, Linker

    quiet_splink()
    con = duckdb.connect()
    try:
        con.register("src", duck)
        con.execute("CREATE TABLE tbl AS SELECT * FROM src")
        prior = _prior_from(duck, link_job)
        settings = {
            "link_type": "dedupe_only",
            "unique_id_column_name": "uid",
            "probability_two_random_records_match": prior,
            "blocking_rules_to_generate_predictions": blocking_sql(stats, pair_filter),
            "comparisons": table_comparisons(fields, resident),
            "retain_matching_columns": False,
            "retain_intermediate_calculation_columns": False,
            "em_convergence": 0.001,
            "max_iterations": 25,
        }
        db = DuckDBAPI(con)
        linker = Linker(db.register(con.table("tbl")), settings, log_level=logging.ERROR)
        if not stats:
            notes["m_estimated_by"] = "nothing to compare"
            return _empty_pairs()
        if prior is None:
            rule = _deterministic(fields, pair_filter)
            linker.training.estimate_probability_two_random_records_match([rule], recall=0.7)
            got = linker._settings_obj._probability_two_random_records_match
            # too few agreeing pairs to measure: one duplicate per record as the prior guess
            floor = 1.0 / max(len(duck), 2)
            linker._settings_obj._probability_two_random_records_match = (
                min(max(float(got), floor), 0.5) if got == got else floor
            )
        notes["prior_match_probability"] = float(
            linker._settings_obj._probability_two_random_records_match
        )
        model = _train(
            lambda m: Linker(db.register(con.table("tbl")), m, log_level=logging.ERROR),
            linker, duck, fields, stats, pair_filter, labels_col, notes,
        )  # fmt: skip
        notes["model"] = model
        scoring = {**model, "retain_intermediate_calculation_columns": True}
        linker = Linker(db.register(con.table("tbl")), scoring, log_level=logging.ERROR)
        pred = linker.inference.predict(threshold_match_probability=PREDICT_FLOOR)
        gammas = ", ".join(f"mw_{c['output_column_name']}" for c in model["comparisons"])
        pairs = con.execute(
            f"SELECT uid_l, uid_r, match_weight, match_probability, {gammas} "
            f"FROM {pred.physical_name} ORDER BY uid_l, uid_r"
        ).df()
    finally:
        con.close()
    return pairs


def _prior_from(duck: pd.DataFrame, link_job: bool) -> float | None:
    frame = pd.DataFrame({"id_valid": duck["id_valid"], "source_table": duck["source_table"]})
    frame["id_valid"] = frame["id_valid"].astype(object).where(frame["id_valid"].notna(), None)
    return _prior(frame, link_job)


def _deterministic(fields: set[str], pair_filter: str) -> str:
    extra = f" AND {pair_filter}" if pair_filter else ""
    if {"name", "birth_date"} <= fields:
        return f"l.name_norm = r.name_norm AND l.birth_text = r.birth_text{extra}"
    if "id" in fields:
        return f"l.id_text = r.id_text{extra}"
    if "name" in fields:
        return f'l.name_norm = r.name_norm AND l."bk_name" = r."bk_name"{extra}'
    return f'l.birth_text = r.birth_text AND l."bk_birth_sex" = r."bk_birth_sex"{extra}'


def _empty_pairs() -> pd.DataFrame:
    return pd.DataFrame(
        {"uid_l": pd.Series([], dtype=np.int64), "uid_r": pd.Series([], dtype=np.int64),
         "match_weight": pd.Series([], dtype=float),
         "match_probability": pd.Series([], dtype=float)}
    )  # fmt: skip


def _components(n: int, pairs: pd.DataFrame, labels: Labels | None) -> np.ndarray:
    """Connected components of the accepted pairs; a pair labelled a non-match never ends in
    one cluster (the weakest edges of its component are cut until it splits)."""
    parent = np.arange(n)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    edges = pairs[pairs["match_probability"] >= MATCH_THRESHOLD]
    edges = edges.sort_values(
        ["match_probability", "uid_l", "uid_r"], ascending=[False, True, True]
    )
    apart = labels.non_matches() if labels is not None else set()
    for a, b in zip(edges["uid_l"].to_numpy(), edges["uid_r"].to_numpy(), strict=True):
        ra, rb = find(int(a)), find(int(b))
        if ra == rb:
            continue
        if apart and _would_join_apart(ra, rb, apart, find):
            continue
        parent[max(ra, rb)] = min(ra, rb)
    return np.array([find(i) for i in range(n)], np.int64)


def _would_join_apart(ra: int, rb: int, apart: set, find) -> bool:
    """Whether joining the components ``ra`` and ``rb`` puts a non-match pair together (edges are
    added strongest first, so the weakest edge between two labelled-apart records is the one
    left out)."""
    return any({find(x), find(y)} == {ra, rb} for x, y in apart)


def _best_probability(n: int, pairs: pd.DataFrame) -> np.ndarray:
    acc = pairs[pairs["match_probability"] >= MATCH_THRESHOLD]
    both = pd.concat(
        [acc[["uid_l", "match_probability"]].rename(columns={"uid_l": "u"}),
         acc[["uid_r", "match_probability"]].rename(columns={"uid_r": "u"})]
    )  # fmt: skip
    best = both.groupby("u")["match_probability"].max()
    return best.reindex(range(n)).to_numpy(float)


__all__ = ["U_PAIRS", "link_tables"]
