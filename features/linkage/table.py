"""Any person table deduplicated (``outreach link --table``): the same comparisons and model as for
agency records, on the columns a ``--map`` names.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from core import idnumber
from core.errors import ConfigError
from features.linkage.comparisons import (
    blocking_rules,
    id_corrections,
    normalize_name,
    splink_settings,
)
from features.linkage.model import MATCH_THRESHOLD, PREDICT_FLOOR, SEED, make_linker, quiet_splink
from features.pseudonym import Pseudonymizer

TABLE_FIELDS = ("name", "birth_date", "sex", "address", "id")
_SEX = {"m": "M", "male": "M", "男": "M", "1": "M", "f": "F", "female": "F", "女": "F", "2": "F"}


def parse_map(text: str, columns: list[str]) -> dict[str, str]:
    """``name=COL,birth_date=COL,...`` checked against the table's columns.

    Raises:
        ConfigError: an unknown field, a missing column, a field given twice, or no usable field.
    """
    out: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        field_, sep, col = part.partition("=")
        field_, col = field_.strip(), col.strip()
        if not sep or not col:
            raise ConfigError(f"--map entry '{part}' is not FIELD=COLUMN")
        if field_ not in TABLE_FIELDS:
            raise ConfigError(f"--map field '{field_}' is unknown; use {', '.join(TABLE_FIELDS)}")
        if field_ in out:
            raise ConfigError(f"--map gives '{field_}' twice")
        if col not in columns:
            raise ConfigError(f"--map column '{col}' is not in the table")
        out[field_] = col
    if not out.keys() & {"name", "birth_date", "id"}:
        raise ConfigError("--map needs at least one of name, birth_date, id")
    return out


def _parse_dates(values: pd.Series) -> pd.Series:
    text = values.map(lambda v: None if v is None or v != v else str(v).strip()[:10])
    text = text.str.replace("/", "-", regex=False).str.replace(".", "-", regex=False)
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    compact = pd.to_datetime(text, format="%Y%m%d", errors="coerce")
    return parsed.fillna(compact).dt.date.astype(object).where(parsed.fillna(compact).notna(), None)


def _table_prior(inp: pd.DataFrame) -> float | None:
    """The chance two random rows are the same person, measured on rows with usable IDs (None
    when there are too few to measure)."""
    ids = inp["person_key"].dropna() if "person_key" in inp else pd.Series([], dtype=object)
    if len(ids) < 20:
        return None
    sizes = ids.value_counts().to_numpy(np.int64)
    same = int((sizes * (sizes - 1) // 2).sum())
    total = len(ids) * (len(ids) - 1) // 2
    return min(max(same / total, 1e-9), 0.5)


def link_table(
    frame: pd.DataFrame, mapping: dict[str, str], keys: Pseudonymizer
) -> tuple[pd.DataFrame, dict]:
    """Deduplicate any person table: the input columns plus ``cluster_id`` and
    ``match_probability`` (1.0 for the same usable ID, the best pair probability that joined the
    record to its cluster otherwise, null for a record that matched nobody).

    The model is the same as for agency records: m learned from usable IDs when the table has
    them, else by expectation maximisation; u by seeded random sampling.
    """
    n = len(frame)
    fields = {f for f in mapping if f != "id"} | ({"id"} if "id" in mapping else set())
    inp = pd.DataFrame({"unique_id": np.arange(n, dtype=np.int64)})
    notes: dict = {"rows": n, "fields": sorted(mapping)}
    if "name" in mapping:
        norm = frame[mapping["name"]].map(
            lambda v: None if v is None or v != v else normalize_name(v)
        )
        inp["name_norm"] = norm
        inp["surname"] = norm.map(lambda v: v[:1] if v else None)
    if "birth_date" in mapping:
        inp["birth_date"] = _parse_dates(frame[mapping["birth_date"]])
        notes["unreadable_birth_dates"] = int(
            (inp["birth_date"].isna() & frame[mapping["birth_date"]].notna()).sum()
        )
    if "sex" in mapping:
        inp["sex"] = frame[mapping["sex"]].map(
            lambda v: None if v is None or v != v else _SEX.get(str(v).strip().lower())
        )
    if "address" in mapping:
        inp["address"] = frame[mapping["address"]].map(
            lambda v: None if v is None or v != v else str(v).strip() or None
        )
    if "id" in mapping:
        raw = frame[mapping["id"]]
        nids = raw.map(lambda v: idnumber.normalize(v))
        inp["person_key"] = nids.map(lambda x: keys.person_key(x.value) if x.value else None)
        known = set(inp["person_key"].dropna())
        bad = [
            str(v).strip() if x.raw_status is idnumber.IdStatus.BAD_CHECK else None
            for v, x in zip(raw, nids, strict=True)
        ]
        fix = []
        for b in bad:
            hits = {keys.person_key(c) for c in id_corrections(b)} & known if b else set()
            fix.append(hits.pop() if len(hits) == 1 else None)
        inp["id_fix"] = fix
        notes["usable_ids"] = int(inp["person_key"].notna().sum())
    for col in ("name_norm", "surname", "birth_date", "sex", "address", "entity_key",
                "person_key", "id_fix"):  # fmt: skip
        if col not in inp:
            inp[col] = None
    inp["entity_key"] = None
    fields_present = fields
    con = duckdb.connect()
    try:
        con.register("tbl_src", inp.astype(object).where(inp.notna(), None))
        con.execute(
            "CREATE TABLE tbl AS SELECT unique_id, CAST(name_norm AS VARCHAR) name_norm, "
            "CAST(surname AS VARCHAR) surname, CAST(birth_date AS DATE) birth_date, "
            "CAST(sex AS VARCHAR) sex, CAST(address AS VARCHAR) address, "
            "CAST(entity_key AS VARCHAR) entity_key, CAST(person_key AS VARCHAR) person_key, "
            "CAST(id_fix AS VARCHAR) id_fix FROM tbl_src"
        )
        prior = _table_prior(inp)
        quiet_splink()
        model = splink_settings(fields_present, prior)
        linker = make_linker(con, "tbl", model)
        if prior is None:
            rule = "l.name_norm = r.name_norm" + (
                " AND l.birth_date = r.birth_date" if "birth_date" in fields_present else ""
            )
            if "name" not in fields_present:
                rule = "l.birth_date = r.birth_date AND l.sex = r.sex"
            linker.training.estimate_probability_two_random_records_match([rule], recall=0.8)
        notes["prior_match_probability"] = (
            linker._settings_obj._probability_two_random_records_match
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=SEED)
        trained = "expectation maximisation"
        if notes.get("usable_ids", 0) >= 2:
            linker.training.estimate_m_from_label_column("person_key")
            trained = "labels from usable IDs"
        else:
            for rule in blocking_rules(fields_present)[:2]:
                try:
                    linker.training.estimate_parameters_using_expectation_maximisation(
                        rule["blocking_rule"]
                    )
                except Exception as exc:  # noqa: BLE001 - Splink raises plain exceptions
                    notes.setdefault("training_notes", []).append(str(exc).splitlines()[0])
        notes["m_estimated_by"] = trained
        pred = linker.inference.predict(threshold_match_probability=PREDICT_FLOOR)
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            pred, threshold_match_probability=MATCH_THRESHOLD
        )
        out = con.execute(
            f"""
            WITH e AS (
                SELECT unique_id_l AS u, match_probability AS p FROM {pred.physical_name}
                WHERE match_probability >= {MATCH_THRESHOLD}
                UNION ALL
                SELECT unique_id_r, match_probability FROM {pred.physical_name}
                WHERE match_probability >= {MATCH_THRESHOLD})
            SELECT c.unique_id, any_value(c.cluster_id) AS cluster_id,
                   max(e.p) AS match_probability
            FROM {clusters.physical_name} c LEFT JOIN e ON e.u = c.unique_id
            GROUP BY c.unique_id ORDER BY c.unique_id
            """
        ).df()
    finally:
        con.close()
    result = frame.copy()
    cid = out.set_index("unique_id")["cluster_id"]
    # stable, dense cluster ids in first-appearance order
    order = pd.Series(cid.reindex(range(n)).to_numpy())
    codes = {c: i + 1 for i, c in enumerate(pd.unique(order))}
    result["cluster_id"] = order.map(codes).astype("int64").to_numpy()
    result["match_probability"] = (
        out.set_index("unique_id")["match_probability"].reindex(range(n)).to_numpy()
    )
    notes["clusters"] = int(result["cluster_id"].nunique())
    notes["records_in_multi_record_clusters"] = int(
        result["cluster_id"].duplicated(keep=False).sum()
    )
    notes["threshold"] = MATCH_THRESHOLD
    return result, notes
