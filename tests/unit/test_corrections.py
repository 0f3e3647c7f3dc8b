"""Caseworkers' corrections applied to a scoring frame (pure) and read from the database."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from serving.batch.corrections import (
    APPLICABLE,
    StandingCorrection,
    apply_corrections,
    digest,
    mark_applied,
    standing_corrections,
)
from serving.store import db
from serving.store.tables import corrections


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "household_id": ["H1", "H2", "H3"],
            "vehicles": pd.array([2, 1, 0], dtype="Int64"),
            "vehicle_value": [90_000.0, 30_000.0, 0.0],
            "properties": pd.array([1, 3, 1], dtype="Int64"),
            "residential_area_m2": [80.0, 240.0, 60.0],
            "businesses": pd.array([0, 1, 0], dtype="Int64"),
        }
    )


def test_apply_sets_the_items_features_for_that_household_only():
    frame = _frame()
    original = frame.copy()
    out, applied = apply_corrections(
        frame,
        [StandingCorrection(7, "H2", "property"), StandingCorrection(3, "H1", "vehicle"),
         StandingCorrection(9, "H404", "business")],
    )  # fmt: skip
    pd.testing.assert_frame_equal(frame, original)  # the input is never modified
    assert applied == [3, 7]  # the absent household's correction is not applied
    assert out.loc[0, ["vehicles", "vehicle_value"]].tolist() == [0, 0.0]
    assert out.loc[1, ["properties", "residential_area_m2"]].tolist() == [0, 0.0]
    assert out.loc[1, "vehicles"] == 1 and out.loc[1, "businesses"] == 1  # untouched items
    pd.testing.assert_frame_equal(out.iloc[[2]], original.iloc[[2]])
    assert out.dtypes.equals(original.dtypes)


def test_no_applicable_correction_returns_the_same_frame():
    frame = _frame()
    out, applied = apply_corrections(frame, [])
    assert out is frame and applied == []


def test_digest_is_order_free_and_none_without_corrections():
    assert digest([]) is None
    assert digest([3, 7]) == digest([7, 3]) != digest([3])


@pytest.fixture
def conn():
    engine = db.make_engine("sqlite://")
    db.upgrade(engine)
    with engine.begin() as c:
        yield c
    engine.dispose()


def _add(conn, hid: str, item: str, status: str = "open") -> int:
    return conn.execute(
        corrections.insert().values(
            household_id=hid, item=item, correction="c", reason="r", recorded_by="t",
            recorded_at=dt.datetime(2025, 1, 5, tzinfo=dt.UTC), status=status,
        )
    ).inserted_primary_key[0]  # fmt: skip


def test_standing_corrections_skip_rejected_and_free_text_items(conn):
    a = _add(conn, "H1", "vehicle")
    _add(conn, "H1", "he moved out in March")
    _add(conn, "H2", "business", status="rejected")
    b = _add(conn, "H3", "property", status="applied")
    assert [(c.id, c.item) for c in standing_corrections(conn)] == [(a, "vehicle"), (b, "property")]
    assert set(APPLICABLE) == {"vehicle", "property", "business"}
    assert mark_applied(conn, [a, b], "R1") == 2
    rows = conn.execute(sa.select(corrections.c.id, corrections.c.status,
                                  corrections.c.applied_run_id)).all()  # fmt: skip
    assert {(r.id, r.status, r.applied_run_id) for r in rows if r.id in (a, b)} == {
        (a, "applied", "R1"),
        (b, "applied", "R1"),
    }
