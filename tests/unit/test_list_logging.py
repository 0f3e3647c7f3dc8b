"""Logged listings (issue 15, item 4): exploration draws keyed by (seed, month, jurisdiction,
household), every entry's selection probability exact, and the stored path and probability.

The probability test draws many months and checks that each pool household is explored as often
as its recorded inclusion probability says, and that inverse-probability weights are unbiased.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from serving.batch.priority import PATHS, ListSpec, build_lists, exploration_uniform
from serving.store import db, tables


def _month_end(i: int) -> dt.date:
    year, month = divmod(2000 * 12 + i, 12)
    nxt = dt.date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _town(n: int, code: str, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score = rng.random(n)
    return pd.DataFrame({
        "household_id": [f"H{seed:04x}{i:020x}" for i in range(n)],
        "township_code": code, "village_code": code + "001",
        "score": score, "priority": score, "listable": rng.random(n) > 0.1,
    })  # fmt: skip


def test_the_keyed_uniform_is_blake2b_of_seed_month_code_and_key() -> None:
    key = "H" + "0" * 24
    digest = hashlib.blake2b(f"0|2025-12|330226001|{key}".encode(), digest_size=8).digest()
    assert exploration_uniform(0, "2025-12", "330226001", key) == int.from_bytes(digest) / 2**64
    assert exploration_uniform(0, "2025-12", "330226001", key) == 0.5485871507871328  # pinned


def test_each_month_draws_afresh_and_the_same_month_draws_the_same() -> None:
    frame = pd.concat([_town(400, "330226101", 1), _town(300, "330226102", 2)])
    spec = ListSpec(capacity=40, exploration_share=0.25, seed=3)
    nov, dec = (build_lists(frame, spec, as_of=d) for d in (_month_end(0), _month_end(1)))
    drawn = [set(x.loc[x.exploration, "household_id"]) for x in (nov, dec)]
    assert len(drawn[0]) >= 18 and len(drawn[0] & drawn[1]) < len(drawn[0]) / 3
    shuffled = frame.sample(frac=1.0, random_state=5)
    pd.testing.assert_frame_equal(build_lists(shuffled, spec, as_of=_month_end(1)), dec)
    ranked = dec[dec.path == "ranked"]
    assert not ranked.exploration.any() and (ranked.selection_probability == 1.0).all()
    assert set(dec.path) <= set(PATHS) and set(PATHS) == set(tables.LIST_PATHS)
    assert (dec.loc[dec.exploration, "path"] == "exploration").all()


@pytest.mark.parametrize(("capacity", "share"), [(20, 0.15), (10, 0.25)])
def test_the_recorded_probability_is_the_inclusion_probability(capacity, share) -> None:
    """Over many months, each pool household is explored as often as its recorded probability
    says (a 4.5-sigma band per household), and weighting by 1/probability is unbiased."""
    frame = _town(80, "330226103", 7)
    spec = ListSpec(capacity=capacity, exploration_share=share, seed=11)
    months = 800
    pool = set(frame.loc[frame.listable, "household_id"])
    hits = pd.Series(0.0, index=sorted(pool))
    expected = pd.Series(0.0, index=hits.index)
    weighted = pd.Series(0.0, index=hits.index)
    places = []
    for i in range(months):
        lists = build_lists(frame, spec, as_of=_month_end(i))
        explored = lists[lists.exploration]
        p = explored["selection_probability"].to_numpy()
        places.append(len(explored))
        in_pool = sorted(pool - set(lists.loc[~lists.exploration, "household_id"]))
        if len(explored):
            assert np.allclose(p, len(explored) / len(in_pool))
            expected[in_pool] += p[0]
        hits[explored["household_id"]] += 1
        weighted[explored["household_id"]] += 1 / p
    assert np.mean(places) == pytest.approx(capacity * share, abs=0.05)
    always = hits.index[expected > 0.5 * expected.max()]  # households (almost) always in the pool
    z = (hits[always] - expected[always]) / np.sqrt(expected[always])
    assert z.abs().max() < 4.5, z.abs().max()
    assert (weighted[always] / months).mean() == pytest.approx(1.0, abs=0.03)


def test_the_migration_fills_path_and_probability_of_older_entries(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'service.sqlite3'}"
    db.upgrade(url, "0002")
    engine = db.make_engine(url)
    now = dt.datetime.now(dt.UTC)
    gap_purpose = "Program gap (项目缺口): the household already receives dibao or tekun; ..."
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO score_runs (run_id, as_of, model_name, model_version, "
                "feature_set_version, snapshot_id, priority_version, capacity, "
                "exploration_share, started_at, status, chunks_done) VALUES ('r', '2025-12-31', "
                "'m', '1', 'f', 's', '1.1', '{}', 0.1, :now, 'complete', 1)"),
                {"now": now})  # fmt: skip
            for i, (explore, purpose) in enumerate(
                [(False, "Proposed visits"), (False, gap_purpose), (True, "Proposed visits")]
            ):
                hid = f"H{i:024x}"
                conn.execute(sa.text(
                    "INSERT INTO scores (run_id, household_id, township_code, village_code, "
                    "as_of, model_version, score, raw_score, band, priority, warning_bits, "
                    "low_confidence_link) VALUES ('r', :h, '330226001', '330226001001', "
                    "'2025-12-31', '1', 0.5, 0.0, 'high', 0.5, 0, 0)"), {"h": hid})  # fmt: skip
                conn.execute(sa.text(
                    "INSERT INTO list_entries (run_id, jurisdiction_code, household_id, rank, "
                    "score, priority, model_version, exploration, capacity, purpose) VALUES "
                    "('r', '330226001', :h, :r, 0.5, 0.5, '1', :e, 3, :p)"),
                    {"h": hid, "r": i + 1, "e": explore, "p": purpose})  # fmt: skip
        db.upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    tables.list_entries.c.path, tables.list_entries.c.selection_probability
                ).order_by(tables.list_entries.c.rank)
            ).all()
        assert [tuple(r) for r in rows] == [
            ("ranked", 1.0),
            ("program_gap", 1.0),
            ("exploration", None),
        ]
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text("UPDATE list_entries SET selection_probability = 0"))
    finally:
        engine.dispose()
