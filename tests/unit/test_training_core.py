"""Labels, splits, metrics, fairness and truth mapping on tiny hand-made data (the estimators:
``test_training_models.py``)."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ConfigError
from core.months import shift_months
from features.pseudonym import Pseudonymizer
from features.warehouse import create_schema
from training.evaluation import (
    brier,
    calibration_slope,
    capacity_metrics,
    capacity_selection,
    ece,
    evaluate_scores,
    pr_auc,
    roc_auc,
)
from training.fairness import capacity_by_group
from training.labels import (
    label_cutoff,
    label_population,
    observable_labels,
    reporting_delay_p99,
)
from training.splits import split_in_time, temporal_split
from training.truth import evaluation_rows, month_index, truth_frame

# ---------------------------------------------------------------- labels: a tiny warehouse

T = date(2024, 1, 31)  # the as-of date of most label tests


def _warehouse(cutoff: date = date(2024, 12, 31)) -> duckdb.DuckDBPyConnection:
    """Households HA (persons p1, p2; p2 moves to HB on 2024-03-01), HB (p3), HC (p4)."""
    con = duckdb.connect()
    create_schema(con)
    con.execute(
        "INSERT INTO deliveries (delivery_id, agency, file_name, extract_date, status) VALUES "
        "('civil_assistance-2024-01', 'civil_assistance', 'a.parquet', DATE '2024-01-31', "
        "'accepted'), (?, 'visits', 'b.parquet', ?, 'accepted'), "
        "('visits-2099-01', 'visits', 'c.parquet', DATE '2099-01-31', 'rejected')",
        [f"visits-{cutoff:%Y-%m}", cutoff],
    )
    rows = [
        ("p1", "HA", "m1", "baseline", date(2020, 1, 1)),
        ("p2", "HA", "m2", "baseline", date(2020, 1, 1)),
        ("p3", "HB", "m3", "baseline", date(2020, 1, 1)),
        ("p4", "HC", "m4", "baseline", date(2020, 1, 1)),
        ("p2", "HB", "m5", "move_in", date(2024, 3, 1)),
    ]
    for person, hh, rec, event, day in rows:
        con.execute(
            "INSERT INTO memberships (person_id, household_id, record_id, event, event_date, "
            "recorded_date, evidence_date, match_probability) VALUES (?, ?, ?, ?, ?, ?, ?, 1.0)",
            [person, hh, rec, event, day, day, day],
        )
        con.execute(
            "INSERT INTO persons (person_id) SELECT ? WHERE NOT EXISTS "
            "(SELECT 1 FROM persons WHERE person_id = ?)",
            [person, person],
        )
    return con


def _assist(con, rid, person, program, event, event_date, recorded_date) -> None:
    con.execute(
        "INSERT INTO rec_civil_assistance (record_id, program, event, event_date, recorded_date) "
        "VALUES (?, ?, ?, ?, ?)",
        [rid, program, event, event_date, recorded_date],
    )
    _link(con, "civil_assistance", rid, person, recorded_date)


def _visit(con, rid, person, outcome, event_date, recorded_date) -> None:
    con.execute(
        "INSERT INTO rec_visits (record_id, outcome, event_date, recorded_date) "
        "VALUES (?, ?, ?, ?)",
        [rid, outcome, event_date, recorded_date],
    )
    _link(con, "visits", rid, person, recorded_date)


def _link(con, agency, rid, person, day) -> None:
    con.execute("INSERT INTO links VALUES (?, ?, ?, 'id', 1.0, ?)", [agency, rid, person, day])


def _labels(con, dates=(T,), **kw) -> dict[str, float]:
    df = observable_labels(con, list(dates), **kw)
    return {(r.household_id, r.as_of): r.label for r in df.itertuples()}


def test_label_horizons_keep_month_ends():
    assert shift_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert shift_months(date(2024, 8, 31), 6) == date(2025, 2, 28)
    assert shift_months(date(2024, 1, 15), 6) == date(2024, 7, 15)
    assert shift_months(date(2024, 2, 29), 6) == date(2024, 8, 31)


def test_enrolment_start_or_in_need_visit_in_the_window_is_positive():
    con = _warehouse()
    _assist(con, "a1", "p1", "dibao", "enrolment_start", date(2024, 3, 10), date(2024, 3, 20))
    _visit(con, "v1", "p4", "in_need", date(2024, 7, 31), date(2024, 8, 5))  # = t + 6 months
    got = _labels(con)
    assert got[("HA", T)] == 1.0
    assert got[("HB", T)] == 0.0
    assert got[("HC", T)] == 1.0


def test_a_label_event_is_known_from_its_delivery_on():
    """Knowledge time: an enrolment recorded before the cutoff but delivered with an extract
    after it is not known by that cutoff (issue 14, item 7)."""
    con = _warehouse()
    _assist(con, "a1", "p1", "dibao", "enrolment_start", date(2024, 3, 10), date(2024, 3, 20))
    con.execute("UPDATE rec_civil_assistance SET extract_date = DATE '2024-09-30'")
    assert _labels(con, cutoff=date(2024, 8, 31), horizon_months=2)[("HA", T)] == 0.0
    # known from 2024-09-30 on; the reporting delay it shows (204 days) now counts too
    assert _labels(con, cutoff=date(2025, 6, 30), horizon_months=2)[("HA", T)] == 1.0


def test_events_outside_the_window_and_other_outcomes_are_negative():
    con = _warehouse()
    _assist(con, "a1", "p1", "dibao", "enrolment_start", T, T)  # at t: not after t
    _assist(con, "a2", "p3", "tekun", "approval", date(2024, 8, 1), date(2024, 8, 2))  # > t+6m
    _visit(con, "v1", "p4", "not_in_need", date(2024, 3, 1), date(2024, 3, 2))
    got = _labels(con)
    assert got == {("HA", T): 0.0, ("HB", T): 0.0, ("HC", T): 0.0}


def test_temporary_assistance_alone_is_not_positive():
    con = _warehouse()
    _assist(con, "a1", "p1", "temporary", "approval", date(2024, 3, 1), date(2024, 3, 2))
    _assist(con, "a2", "p1", "temporary", "enrolment_start", date(2024, 3, 1), date(2024, 3, 2))
    _assist(con, "a3", "p3", "dibao", "application", date(2024, 3, 1), date(2024, 3, 2))
    _assist(con, "a4", "p4", "medical_assistance", "enrolment_start", date(2024, 3, 1),
            date(2024, 3, 2))  # fmt: skip
    got = _labels(con)
    assert got[("HA", T)] == 0.0  # temporary only
    assert got[("HB", T)] == 0.0  # an application is not an approval
    assert got[("HC", T)] == 1.0  # medical assistance counts


def test_records_recorded_after_the_cutoff_are_ignored():
    con = _warehouse(cutoff=date(2024, 12, 31))
    # recorded after the cutoff: ignored (also by the reporting delay, else T is unlabelled)
    _assist(con, "a1", "p1", "dibao", "approval", date(2024, 6, 1), date(2025, 1, 5))
    _assist(con, "a2", "p3", "dibao", "approval", date(2024, 6, 1), date(2024, 6, 3))
    con.execute("UPDATE links SET evidence_date = DATE '2024-06-01'")  # links known early
    assert label_cutoff(con) == date(2024, 12, 31)  # the rejected delivery does not count
    assert reporting_delay_p99(con) == 2
    got = _labels(con)
    assert got[("HA", T)] == 0.0
    assert got[("HB", T)] == 1.0


def test_membership_is_taken_at_the_as_of_date():
    con = _warehouse()
    # p2 is in HA until 2024-03-01, then in HB; the event falls in both windows below
    _assist(con, "a1", "p2", "dibao", "enrolment_start", date(2024, 4, 1), date(2024, 4, 2))
    after_move = date(2024, 3, 31)
    got = _labels(con, dates=(T, after_move))
    assert got[("HA", T)] == 1.0 and got[("HB", T)] == 0.0
    assert got[("HA", after_move)] == 0.0 and got[("HB", after_move)] == 1.0


def test_windows_running_past_the_cutoff_plus_delay_are_unlabelled():
    con = _warehouse(cutoff=date(2024, 12, 31))
    # 100 label events with delays of 0..99 days: p99 = 98.01 -> 99 days
    for i in range(100):
        _visit(con, f"v{i}", "p4", "in_need", date(2023, 1, 1), date(2023, 1, 1) + timedelta(i))
    assert reporting_delay_p99(con) == 99
    dates = [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31), date(2024, 6, 30)]
    df = observable_labels(con, dates)
    # 2024-02-29 + 6 months = 08-31, + 99 days = 12-08 <= cutoff; 03-31 -> 09-30 -> 2025-01-07
    assert df.groupby("as_of")["labelled"].first().to_dict() == {
        date(2024, 1, 31): True,
        date(2024, 2, 29): True,
        date(2024, 3, 31): False,
        date(2024, 6, 30): False,
    }
    assert df.loc[~df["labelled"], "label"].isna().all()
    assert (df.loc[df["labelled"], "label"] == 0.0).all()
    # the same date is labelled once the cutoff moves on
    later = observable_labels(con, [date(2024, 3, 31)], cutoff=date(2025, 1, 7))
    assert later["labelled"].all()


def test_label_population_drops_known_households():
    snap = pd.DataFrame(
        {
            "as_of": [date(2024, 6, 30)] * 7,
            "enrolled_dibao": [False, True, False, False, False, False, False],
            "enrolled_tekun": [False, False, True, False, False, False, False],
            "visit_in_need_6m": [False, False, False, True, False, False, False],
            "assistance_applications_12m": [0, 0, 0, 0, 1, 1, 0],
            "assistance_rejections_12m": [0, 0, 0, 0, 0, 1, 0],
            "rural_monitored": [False, False, False, False, False, False, True],
        }
    )
    # enrolled, enrolled, found in need, an unanswered application, a rejected one (still
    # discoverable), monitored
    expected = [True, False, False, False, False, True, False]
    assert label_population(snap).tolist() == expected


# ---------------------------------------------------------------- splits


def _month_ends(first: date, n: int) -> list[date]:
    return [shift_months(first, k) for k in range(n)]


@pytest.mark.parametrize("n,valid,test", [(23, 3, 1), (23, 1, 1), (30, 2, 2), (14, 1, 1)])
def test_split_parts_never_overlap_the_next_label_window(n, valid, test):
    days = _month_ends(date(2023, 6, 30), n)
    s = temporal_split(days, 6, valid_dates=valid, test_dates=test)
    assert len(s.test) == test and len(s.valid) == valid and s.train
    assert max(s.train) < min(s.valid) and max(s.valid) < min(s.test)
    assert shift_months(max(s.train), 6) <= min(s.valid)
    assert shift_months(max(s.valid), 6) <= min(s.test)
    assert s.test[-1] == days[-1]
    assert not set(s.train) & set(s.valid) | set(s.valid) & set(s.test)
    json.dumps(s.to_dict())


def test_split_example_of_the_docstring():
    s = temporal_split(_month_ends(date(2023, 6, 30), 23), 6, valid_dates=1)
    assert s.test == (date(2025, 4, 30),)
    assert s.valid == (date(2024, 10, 31),)
    assert s.train[0] == date(2023, 6, 30) and s.train[-1] == date(2024, 4, 30)
    assert s.part(date(2024, 12, 31)) is None


def test_split_with_too_few_dates_is_a_config_error():
    with pytest.raises(ConfigError, match="need labelled as-of dates"):
        temporal_split(_month_ends(date(2024, 1, 31), 12), 6, valid_dates=1)
    with pytest.raises(ConfigError):
        temporal_split([date(2024, 1, 31)], 6)


@settings(max_examples=200, deadline=None)
@given(
    keys=st.lists(st.integers(0, 40), min_size=1, max_size=60),
    test_n=st.integers(1, 4),
    valid_n=st.integers(1, 4),
    gap=st.integers(0, 5),
)
def test_split_in_time_keeps_each_window_inside_its_part(keys, test_n, valid_n, gap):
    train, valid, test = split_in_time(keys, test_n=test_n, valid_n=valid_n, gap=lambda k: k + gap)
    assert list(train) == sorted(train) and list(valid) == sorted(valid)
    assert test == tuple(sorted(set(keys))[-test_n:])
    assert len(valid) <= valid_n and set(train) | set(valid) | set(test) <= set(keys)
    if valid:
        assert max(valid) < min(test) and max(valid) + gap <= min(test)
    if train:
        assert max(train) < min(valid) and max(train) + gap <= min(valid)
    # the rule is the most it can be: a key left out would break it, or valid is full
    later = [k for k in set(keys) if k < min(test) and k + gap <= min(test)]
    assert len(valid) == min(valid_n, len(later))


@settings(max_examples=200, deadline=None)
@given(
    keys=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=80),
    cuts=st.tuples(st.floats(0, 1e6), st.floats(0, 1e6)).map(sorted),
)
def test_split_in_time_without_a_gap_is_a_cut_at_two_keys(keys, cuts):
    """What the table split relies on: with no gap, the parts are the keys below, between and
    from two cut points."""
    t_valid, t_test = cuts
    distinct = sorted(set(keys))
    n_test = sum(k >= t_test for k in distinct)
    n_valid = sum(t_valid <= k < t_test for k in distinct)
    if not n_test or not n_valid:
        return
    train, valid, test = split_in_time(keys, test_n=n_test, valid_n=n_valid)
    assert test == tuple(k for k in distinct if k >= t_test)
    assert valid == tuple(k for k in distinct if t_valid <= k < t_test)
    assert train == tuple(k for k in distinct if k < t_valid)


# ---------------------------------------------------------------- metrics


def test_metrics_by_hand():
    y = np.array([0, 0, 1, 1])
    s = np.array([0.1, 0.4, 0.35, 0.8])
    assert roc_auc(y, s) == pytest.approx(0.75)
    # ranked: 0.8 (pos), 0.4 (neg), 0.35 (pos), 0.1: AP = (1/1 + 2/3) / 2
    assert pr_auc(y, s) == pytest.approx((1 + 2 / 3) / 2)
    assert brier(y, s) == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)
    # 2 equal-mass bins: {0.1, 0.35} rate 0.5, {0.4, 0.8} rate 0.5
    assert ece(y, s, bins=2) == pytest.approx((abs(0.225 - 0.5) + abs(0.6 - 0.5)) / 2)
    assert math.isnan(roc_auc(np.zeros(3), np.arange(3)))


def test_calibration_slope_recovers_a_known_distortion():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.01, 0.6, 20_000)
    y = rng.random(20_000) < p
    slope, intercept = calibration_slope(y, p)
    assert slope == pytest.approx(1.0, abs=0.08) and intercept == pytest.approx(0.0, abs=0.15)
    logit = np.log(p / (1 - p))
    sharp = 1 / (1 + np.exp(-2 * logit))
    assert calibration_slope(y, sharp)[0] == pytest.approx(0.5, abs=0.05)
    assert ece(y, p) < 0.02 < ece(y, sharp)


def _towns() -> pd.DataFrame:
    # township A: 10 households, B: 5 households
    return pd.DataFrame(
        {
            "household_id": [f"A{i:02d}" for i in range(10)] + [f"B{i:02d}" for i in range(5)],
            "township_code": ["A"] * 10 + ["B"] * 5,
        }
    )


def test_capacity_takes_the_top_of_each_township_with_stable_ties():
    f = _towns()
    score = np.array([9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 5, 5, 5, 1, 0], dtype=float)
    # capacity 0.2: ceil(2) in A (A00, A01), ceil(1) in B (the tie goes to B00)
    sel = capacity_selection(f, score, 0.2)
    assert f.loc[sel, "household_id"].tolist() == ["A00", "A01", "B00"]
    # county-wide: ceil(0.2 * 15) = 3: A00, A01, A02
    sel = capacity_selection(f, score, 0.2, None)
    assert f.loc[sel, "household_id"].tolist() == ["A00", "A01", "A02"]
    # renaming households (order of ids reversed) moves the tie, nothing else
    g = f.assign(household_id=f["household_id"].str.replace("B00", "B99"))
    assert g.loc[capacity_selection(g, score, 0.2), "household_id"].tolist()[-1] == "B01"


def test_precision_and_recall_at_capacity_by_hand():
    f = _towns()
    score = np.array([9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 5, 4, 3, 2, 1], dtype=float)
    y = np.zeros(15)
    y[[1, 5, 11, 12]] = 1  # A01, A05, B01, B02
    silent = np.zeros(15, bool)
    silent[[5, 11]] = True
    m = capacity_metrics(f, score, y, (0.2, 0.4), silent=silent)
    # 0.2: A00, A01 | B00 -> 1 hit of 3 selected, 1 of 4 positives
    assert m["0.2"]["precision"] == pytest.approx(1 / 3)
    assert m["0.2"]["recall"] == pytest.approx(1 / 4)
    # 0.4: A00..A03 | B00, B01 -> hits A01, B01
    assert m["0.4"]["n_selected"] == 6
    assert m["0.4"]["recall"] == pytest.approx(2 / 4)
    assert m["0.4"]["silent_found_share"] == pytest.approx(1 / 2)
    # county-wide 0.4: top 6 = A00..A04 and B00 (5 ties A04 and B00: A04 first by id, both in)
    assert m["0.4"]["county"]["recall"] == pytest.approx(1 / 4)


def test_evaluate_scores_is_json_ready_and_skips_unlabelled_rows():
    f = _towns().assign(label=[1, 0] * 7 + [np.nan])
    rng = np.random.default_rng(1)
    out = evaluate_scores(f, {"p": rng.random(15), "count": np.arange(15.0)}, "label")
    assert out["n_rows"] == 14 and out["n_positive"] == 7
    assert out["scores"]["count"]["ece"] is None  # not a probability
    assert out["scores"]["p"]["ece"] is not None
    json.dumps(out, allow_nan=False)
    with pytest.raises(ValueError):
        evaluate_scores(f, {"p": np.zeros(3)}, "label")


# ---------------------------------------------------------------- fairness


def test_capacity_by_group_by_hand():
    f = _towns()
    f["score"] = [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 5, 4, 3, 2, 1]
    f["label"] = 0.0
    f.loc[[0, 5, 11, 12], "label"] = 1.0
    f["hukou"] = ["urban"] * 5 + ["rural"] * 5 + ["rural"] * 5
    f["disabled_members"] = [1] + [0] * 14
    r = capacity_by_group(f, "score", "label", ("hukou", "has_disability"), (0.4,), n_boot=50)
    # lists: A00..A03 and B00, B01; hits A00, B01 -> recall 2/4, precision 2/6
    assert r["overall"]["0.4"] == {"precision": pytest.approx(1 / 3), "recall": 0.5}
    rows = {(x["group"], x["value"]): x for x in r["groups"]}
    urban, rural = rows[("hukou", "urban")], rows[("hukou", "rural")]
    assert (urban["selected"], urban["positives"], urban["recall"]) == (4, 1, 1.0)
    assert (rural["selected"], rural["positives"]) == (2, 3)
    assert rural["recall"] == pytest.approx(1 / 3)
    assert rural["recall_ratio"] == pytest.approx(2 / 3) and rural["flag_low_recall"]
    assert not urban["flag_low_recall"] and urban["few_positives"]
    assert rows[("has_disability", "True")]["n"] == 1
    lo, hi = rural["recall_ci"]
    assert lo <= rural["recall"] <= hi
    no_disability = rows[("has_disability", "False")]  # A00, the disabled member, was a hit
    assert no_disability["recall"] == pytest.approx(1 / 3)
    assert r["flagged"] == [rural, no_disability]
    json.dumps(r, allow_nan=False)


# ---------------------------------------------------------------- truth


def test_truth_frame_maps_months_and_keys(tmp_path):
    raw = tmp_path / "raw"
    (raw / "truth").mkdir(parents=True)
    (raw / "manifest.json").write_text(json.dumps({"config": {"start_month": "2023-01"}}))
    months = np.arange(12, dtype=np.int16)
    hm = pd.DataFrame(
        {
            "household_id": np.repeat([7, 8], 12).astype(np.int64),
            "month": np.tile(months, 2),
            "onset": False,
            "hardship": False,
            "p_onset_6m": 0.1,
            "complete_future": np.tile(months <= 5, 2),
            "silent": False,
            "enrolled_dibao": False,
            "enrolled_tekun": False,
            "applied_12m": False,
        }
    )
    hm.loc[(hm.household_id == 7) & (hm.month == 6), ["onset", "hardship", "silent"]] = True
    hm.loc[(hm.household_id == 8) & (hm.month == 7), ["onset", "hardship"]] = True
    pq.write_table(pa.Table.from_pandas(hm, preserve_index=False), raw / "truth" /
                   "household_months.parquet")  # fmt: skip
    ps = Pseudonymizer(b"k" * 32)
    assert month_index(date(2023, 1, 31), (2023, 1)) == 0
    tf = truth_frame(raw / "truth", ps, [date(2023, 1, 31), date(2023, 2, 28)])
    get = {(r.household_id, r.as_of): r for r in tf.itertuples()}
    h7, h8 = ps.household_key("HH000000007"), ps.household_key("HH000000008")
    # month 0: months 1..6 hold 7's onset (month 6), not 8's (month 7)
    assert get[(h7, date(2023, 1, 31))].true_onset_6m
    assert get[(h7, date(2023, 1, 31))].silent_onset_6m
    assert not get[(h8, date(2023, 1, 31))].true_onset_6m
    assert get[(h8, date(2023, 2, 28))].true_onset_6m
    assert not get[(h8, date(2023, 2, 28))].silent_onset_6m
    assert len(tf) == 4 and evaluation_rows(tf).all()
