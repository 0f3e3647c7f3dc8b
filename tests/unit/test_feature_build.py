"""Point-in-time household vectors on a hand-made warehouse (in-memory DuckDB)."""

from __future__ import annotations

import itertools
import json
from datetime import date

import duckdb
import pyarrow.parquet as pq
import pytest

import policies
from core.months import add_months
from features.linkage.households import membership_as_of
from features.vectors.build import (
    LOW_CONFIDENCE,
    build_snapshot,
    read_snapshot_metadata,
    snapshot_report,
    snapshot_schema,
    write_snapshot,
)
from features.vectors.catalogue import FEATURE_SET_VERSION
from features.warehouse import create_schema, record_columns, record_table
from policies.parameters import load_parameters

AS_OF = date(2024, 6, 30)
S = 1200.0  # dibao.standard_monthly
PENSION = 300.0  # economy.resident_basic_pension_monthly
VILLAGE = "330226101001"


@pytest.fixture(scope="module")
def params():
    return load_parameters(policies.PARAMS_DIR)


class Warehouse:
    """A tiny warehouse: persons, memberships and agency records with their links."""

    def __init__(self) -> None:
        self.con = duckdb.connect()
        create_schema(self.con)
        self._ids = itertools.count(1)

    def person(self, pid: str, birth: date | None, sex: str = "M") -> None:
        self.con.execute(
            "INSERT INTO persons VALUES (?, ?, ?, 'id', 1, DATE '2000-01-01')", [pid, birth, sex]
        )

    def member(
        self,
        pid: str,
        hid: str,
        on: date = date(2020, 1, 1),
        event: str = "baseline",
        relation: str = "head",
        recorded: date | None = None,
        evidence: date | None = None,
        p: float = 1.0,
        village: str = VILLAGE,
        hukou: str = "local_rural",
    ) -> None:
        recorded = recorded or on
        self.con.execute(
            "INSERT INTO memberships VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [pid, hid, f"CR{next(self._ids)}", event, relation, hukou, village, on, recorded,
             evidence or recorded, p],
        )  # fmt: skip

    def record(
        self,
        agency: str,
        pid: str,
        on: date,
        recorded: date | None = None,
        evidence: date | None = None,
        p: float = 1.0,
        **values: object,
    ) -> str:
        """Insert one agency row (unset columns null) and its link; return its record id."""
        rid = f"{agency[:3].upper()}{next(self._ids)}"
        recorded = recorded or on
        row = {"delivery_id": "d", "extract_date": recorded, "record_id": rid, "event_date": on}
        cols = [c.name for c in record_columns(agency)]
        row |= {"recorded_date": recorded} | values
        if "village_code" in cols:
            row.setdefault("village_code", VILLAGE)
        unknown = set(row) - set(cols)
        assert not unknown, unknown
        self.con.execute(
            f"INSERT INTO {record_table(agency)} ({', '.join(cols)}) "
            f"VALUES ({', '.join('?' for _ in cols)})",
            [row.get(c) for c in cols],
        )
        self.con.execute(
            "INSERT INTO links VALUES (?, ?, ?, 'id', ?, ?)",
            [agency, rid, pid, p, evidence or recorded],
        )
        return rid


def _county() -> Warehouse:
    """H1: a couple, a child and a grandparent; H2: an elderly person alone on dibao;
    H3: a child with a grandparent whose dibao ended in January."""
    w = Warehouse()
    for pid, birth, sex in [
        ("P1", date(1980, 3, 1), "M"),
        ("P2", date(1982, 8, 1), "F"),
        ("P3", date(2015, 5, 1), "F"),
        ("P4", date(1950, 1, 1), "M"),
        ("P5", date(1940, 2, 2), "F"),
        ("P6", date(2012, 9, 9), "M"),
        ("P7", date(1955, 7, 7), "F"),
    ]:
        w.person(pid, birth, sex)
    w.member("P1", "H1")
    w.member("P2", "H1", relation="spouse")
    w.member("P3", "H1", relation="child")
    w.member("P4", "H1", relation="parent")
    w.member("P5", "H2", hukou="local_urban", village="330226102003")
    w.member("P6", "H3", relation="grandchild")
    w.member("P7", "H3")
    contrib = "hr_contributions"
    w.record(contrib, "P1", date(2024, 5, 1), date(2024, 5, 20), contribution_base=5000.0)
    w.record(contrib, "P1", date(2024, 6, 1), date(2024, 6, 20), contribution_base=5000.0)
    w.record(contrib, "P2", date(2024, 5, 1), date(2024, 5, 20), contribution_base=3000.0)
    w.record("hr_unemployment", "P2", date(2024, 5, 20), registration_no="U1",
             event="registration")  # fmt: skip
    w.record("hr_unemployment", "P2", date(2024, 6, 10), registration_no="U1",
             event="benefit_payment", amount=1500.0)  # fmt: skip
    w.record("medical_claims", "P4", date(2024, 3, 1), claim_type="inpatient",
             diagnosis_group="acute", scheme="resident", total_cost=40000.0, fund_paid=20000.0,
             out_of_pocket=20000.0)  # fmt: skip
    case = {"channel": "application", "household_size": 1}
    w.record("civil_assistance", "P5", date(2023, 1, 10), case_no="C1", program="dibao",
             event="enrolment_start", **case)  # fmt: skip
    w.record("civil_assistance", "P4", date(2023, 6, 1), case_no="C2",
             program="medical_assistance", event="enrolment_start", **case)  # fmt: skip
    w.record("civil_assistance", "P7", date(2022, 1, 10), case_no="C3", program="dibao",
             event="enrolment_start", **case)  # fmt: skip
    w.record("civil_assistance", "P7", date(2024, 1, 5), case_no="C3", program="dibao",
             event="enrolment_end", **case)  # fmt: skip
    return w


@pytest.fixture()
def county() -> Warehouse:
    return _county()


def _rows(table) -> dict[str, dict]:
    return {r["household_id"]: r for r in table.to_pylist()}


def _serious_claim(w: Warehouse, **dates) -> str:
    return w.record("medical_claims", "P1", date(2024, 6, 1), claim_type="outpatient_serious",
                    diagnosis_group="serious_illness", scheme="resident", total_cost=900.0,
                    fund_paid=600.0, out_of_pocket=300.0, **dates)  # fmt: skip


# --- point in time ---------------------------------------------------------------------------


def test_record_recorded_after_as_of_is_ignored(county, params) -> None:
    before = build_snapshot(county.con, AS_OF, params)
    # happened before as-of, recorded after it (link evidence on the event date, so only the
    # recorded-date rule can keep it out)
    _serious_claim(county, recorded=date(2024, 7, 5), evidence=date(2024, 6, 1))
    assert build_snapshot(county.con, AS_OF, params).equals(before)
    assert _rows(build_snapshot(county.con, date(2024, 7, 31), params))["H1"]["serious_illness_12m"]


def test_record_recorded_before_as_of_counts(county, params) -> None:
    before = build_snapshot(county.con, AS_OF, params)
    _serious_claim(county, recorded=date(2024, 6, 20))
    after = build_snapshot(county.con, AS_OF, params)
    assert not after.equals(before)
    h1 = _rows(after)["H1"]
    assert h1["serious_illness_12m"] and h1["serious_illness_members_12m"] == 1
    assert h1["medical_oop_12m"] == pytest.approx(20300.0)


def test_link_known_after_as_of_is_ignored(county, params) -> None:
    before = build_snapshot(county.con, AS_OF, params)
    _serious_claim(county, recorded=date(2024, 6, 20), evidence=date(2024, 7, 2))
    assert build_snapshot(county.con, AS_OF, params).equals(before)
    assert _rows(build_snapshot(county.con, date(2024, 7, 2), params))["H1"]["serious_illness_12m"]


def test_event_after_as_of_is_ignored(county, params) -> None:
    before = build_snapshot(county.con, AS_OF, params)
    county.record("visits", "P1", date(2024, 7, 3), recorded=date(2024, 6, 25),
                  evidence=date(2024, 6, 25), visit_id="V1", trigger="outreach_list",
                  outcome="in_need")  # fmt: skip
    assert build_snapshot(county.con, AS_OF, params).equals(before)


def test_records_of_people_outside_any_household_are_ignored(county, params) -> None:
    before = build_snapshot(county.con, AS_OF, params)
    county.person("P9", date(1990, 1, 1))
    county.record("utility_arrears", "P9", date(2024, 6, 5), account_no="E1",
                  months_in_arrears=4, amount_due=400.0)  # fmt: skip
    assert build_snapshot(county.con, AS_OF, params).equals(before)


# --- membership as of a date ------------------------------------------------------------------


def _members(con, on: date) -> dict[str, str]:
    table = membership_as_of(con, on, "t")
    return dict(con.execute(f"SELECT person_id, household_id FROM {table}").fetchall())


def test_membership_as_of(county) -> None:
    w = county
    for pid in ("P10", "P11", "P12", "P13"):
        w.person(pid, date(1970, 1, 1))
        w.member(pid, "H4", relation="other")
    w.member("P10", "H4", date(2024, 3, 1), "move_out")
    w.member("P11", "H4", date(2024, 4, 1), "death")
    w.member("P12", "H5", date(2024, 2, 1), "household_split", relation="head")
    w.member("P13", "H4", date(2024, 6, 15), "move_out", recorded=date(2024, 7, 10))
    w.member("P14", "H4", date(2024, 5, 1), "move_in", evidence=date(2024, 7, 1))
    w.person("P14", None)
    now = _members(w.con, AS_OF)
    assert "P10" not in now and "P11" not in now
    assert now["P12"] == "H5"
    assert now["P13"] == "H4"  # its move-out was recorded after as-of
    assert "P14" not in now  # its link was known after as-of
    earlier = _members(w.con, date(2024, 1, 31))
    assert earlier["P10"] == "H4" and earlier["P11"] == "H4" and earlier["P12"] == "H4"
    later = _members(w.con, date(2024, 7, 31))
    assert "P13" not in later and later["P14"] == "H4"
    age = dict(w.con.execute("SELECT person_id, age FROM members_t").fetchall())
    assert age["P1"] == 44 and age["P2"] == 41 and age["P14"] is None
    assert _members(w.con, date(2024, 8, 1))["P2"] == "H1"


def test_household_split_moves_records_and_size(county, params) -> None:
    county.member("P2", "H6", date(2024, 4, 1), "household_split")
    rows = _rows(build_snapshot(county.con, AS_OF, params))
    assert rows["H1"]["household_size"] == 3 and rows["H6"]["household_size"] == 1
    assert rows["H6"]["unemployed_members"] == 1 and rows["H1"]["unemployed_members"] == 0


# --- values checked by hand -------------------------------------------------------------------


def test_values_by_hand(county, params) -> None:
    assert params.get("dibao.standard_monthly", AS_OF) == S
    assert params.get("economy.resident_basic_pension_monthly", AS_OF) == PENSION
    table = build_snapshot(county.con, AS_OF, params)
    assert table.column_names[0] == "household_id"
    assert table["household_id"].to_pylist() == ["H1", "H2", "H3"]
    h1, h2, h3 = (_rows(table)[h] for h in ("H1", "H2", "H3"))
    # income: June contributions of P1 only (latest month) + June benefit + one pension
    income = 5000 + 1500 + PENSION
    assert h1["income_monthly_est"] == pytest.approx(income)
    assert h1["income_per_capita_monthly"] == pytest.approx(income / 4)
    assert h1["income_to_dibao_ratio"] == pytest.approx(income / 4 / S)
    assert h1["medical_oop_to_income_12m"] == pytest.approx(20000 / (12 * income))
    assert h1["contributors_now"] == 2 and h1["contributors_change_6m"] == 2
    # six months back nothing but the pension: change over a floor of S
    assert h1["income_change_ratio_6m"] == pytest.approx((income - PENSION) / S)
    assert h1["inpatient_admissions_12m"] == 1 and h1["unemployed_members"] == 1
    assert h1["unemployment_new_3m"] and h1["unemployment_benefit_3m"] == pytest.approx(1500)
    assert (h1["children"], h1["elderly"], h1["working_age"]) == (1, 1, 2)
    assert h1["dependency_ratio"] == pytest.approx(1.0)
    assert h3["dependency_ratio"] == pytest.approx(2.0)  # 2 dependants, no working-age member
    assert h3["children_without_support"] and not h1["children_without_support"]
    assert h2["elderly_living_alone"] and h2["all_members_elderly"]
    assert not h3["elderly_living_alone"] and not h1["all_members_elderly"]
    assert h2["enrolled_dibao"] and not h3["enrolled_dibao"] and not h1["enrolled_dibao"]
    assert h1["enrolled_medical_assistance"] and not h2["enrolled_medical_assistance"]
    assert h3["months_since_enrolment_end"] == 5.0
    assert h1["months_since_enrolment_end"] is None and h1["months_since_last_visit"] is None
    # income floored at S x size: H2 has only the pension
    assert h2["income_monthly_est"] == pytest.approx(PENSION)
    assert h2["medical_oop_to_income_12m"] == 0.0
    # keys
    assert (h1["head_sex"], h1["head_age_band"], h1["hukou"]) == ("M", "30-44", "rural")
    assert (h2["head_sex"], h2["head_age_band"], h2["hukou"]) == ("F", "75+", "urban")
    assert h2["township_code"] == "330226102" and h2["village_code"] == "330226102003"
    assert h3["head_age_band"] == "60-74" and h1["as_of"] == AS_OF
    assert h1["min_link_probability"] == 1.0 and not h1["low_confidence_link"]


def test_oop_ratio_uses_dibao_floor(county, params) -> None:
    county.record("medical_claims", "P5", date(2024, 2, 1), claim_type="inpatient",
                  diagnosis_group="serious_illness", scheme="resident", total_cost=5000.0,
                  fund_paid=2600.0, out_of_pocket=2400.0)  # fmt: skip
    h2 = _rows(build_snapshot(county.con, AS_OF, params))["H2"]
    assert h2["medical_oop_to_income_12m"] == pytest.approx(2400 / (12 * S))


def test_enrolment_ends_and_restarts(county, params) -> None:
    county.record("civil_assistance", "P5", date(2024, 4, 1), case_no="C1", program="dibao",
                  event="enrolment_end", channel="application", household_size=1)  # fmt: skip
    h2 = _rows(build_snapshot(county.con, AS_OF, params))["H2"]
    assert not h2["enrolled_dibao"] and h2["months_since_enrolment_end"] == 2.0
    assert _rows(build_snapshot(county.con, date(2024, 3, 31), params))["H2"]["enrolled_dibao"]


def test_person_programs_are_held_per_person(county, params) -> None:
    case = {"case_no": "C9", "program": "disability_living_subsidy", "channel": "automatic",
            "household_size": 4}  # fmt: skip
    county.record("civil_assistance", "P3", date(2024, 1, 1), event="enrolment_start", **case)
    county.record("civil_assistance", "P4", date(2024, 2, 1), event="enrolment_start", **case)
    county.record("civil_assistance", "P3", date(2024, 3, 1), event="enrolment_end", **case)
    h1 = _rows(build_snapshot(county.con, AS_OF, params))["H1"]
    assert h1["enrolled_disability_living_subsidy"]  # P4 still holds it
    county.record("civil_assistance", "P4", date(2024, 4, 1), event="enrolment_end", **case)
    h1 = _rows(build_snapshot(county.con, AS_OF, params))["H1"]
    assert not h1["enrolled_disability_living_subsidy"]


def test_registers_follow_latest_event(county, params) -> None:
    w = county
    w.record("disability_registry", "P4", date(2019, 5, 1), certificate_no="D1",
             event="baseline", disability_type="physical", disability_grade=2)  # fmt: skip
    w.record("disability_registry", "P3", date(2024, 2, 1), certificate_no="D2",
             event="issued", disability_type="hearing", disability_grade=4)  # fmt: skip
    w.record("vehicle_registry", "P1", date(2018, 1, 1), plate_no="ZB1", event="baseline",
             vehicle_type="car", purchase_value=80000.0)  # fmt: skip
    w.record("vehicle_registry", "P1", date(2024, 5, 1), plate_no="ZB1", event="deregistered",
             vehicle_type="car", purchase_value=80000.0)  # fmt: skip
    h1 = _rows(build_snapshot(w.con, AS_OF, params))["H1"]
    assert (h1["disabled_members"], h1["severe_disabled_members"]) == (2, 1)
    assert h1["disability_new_12m"] and h1["vehicles"] == 0
    h1_before = _rows(build_snapshot(w.con, date(2024, 4, 30), params))["H1"]
    assert h1_before["vehicles"] == 1 and h1_before["vehicle_value"] == 80000.0


def test_visits_school_arrears_and_linkage(county, params) -> None:
    w = county
    v = {"trigger": "elderly_alone", "visit_id": "V"}
    w.record("visits", "P5", date(2023, 3, 1), outcome="not_in_need", **v)
    w.record("visits", "P5", date(2024, 2, 10), outcome="in_need", **v)
    school = {"student_no": "G1", "school_code": "S1", "stage": "primary"}
    for month, absent in ((4, 2), (5, 4), (6, 6)):
        w.record("education", "P3", date(2024, month, 28), event="attendance",
                 days_absent=absent, school_days=20, **school)  # fmt: skip
    w.record("utility_arrears", "P7", date(2024, 5, 3), account_no="E7", months_in_arrears=3,
             amount_due=300.0, p=0.9)  # fmt: skip
    rows = _rows(build_snapshot(w.con, AS_OF, params))
    h1, h2, h3 = rows["H1"], rows["H2"], rows["H3"]
    assert h2["visits_12m"] == 1 and h2["visit_in_need_6m"] and not h2["visit_not_in_need_6m"]
    assert h2["months_since_last_visit"] == 4.0
    assert h1["students_enrolled"] == 1
    assert h1["school_absence_rate_3m"] == pytest.approx(12 / 60)
    assert h3["utility_arrears_months_3m"] == 3 and h3["utility_arrears_amount_3m"] == 300.0
    assert h3["min_link_probability"] == pytest.approx(0.9) and h3["low_confidence_link"]
    w.record("utility_arrears", "P1", date(2024, 5, 3), account_no="E1", months_in_arrears=2,
             amount_due=100.0, p=LOW_CONFIDENCE + 0.005)  # fmt: skip
    h1 = _rows(build_snapshot(w.con, AS_OF, params))["H1"]
    assert h1["min_link_probability"] == pytest.approx(LOW_CONFIDENCE + 0.005)
    assert not h1["low_confidence_link"]
    late = _rows(build_snapshot(w.con, date(2024, 9, 30), params))["H2"]
    assert not late["visit_in_need_6m"] and late["months_since_last_visit"] == 7.0


def test_area_shock(county, params) -> None:
    base = _rows(build_snapshot(county.con, AS_OF, params))
    # H1 registered in May (recent); the township had none in the 12 months before
    assert base["H1"]["area_unemployment_shock"] == pytest.approx((1.25 / 3) / (1 / 12))
    assert base["H2"]["area_unemployment_shock"] == pytest.approx(1.0)  # another township
    assert base["H1"]["area_admissions_shock"] == pytest.approx((0.25 / 3) / (2 / 12))


# --- determinism, schema, files ---------------------------------------------------------------


def test_rebuild_is_identical(county, params) -> None:
    a = build_snapshot(county.con, AS_OF, params)
    b = build_snapshot(county.con, AS_OF, params)
    assert a.equals(b) and a.schema.equals(snapshot_schema())
    assert county.con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary"
    ).fetchone() == (0,)


def test_rows_are_sorted_by_household(params) -> None:
    w = Warehouse()
    ids = [f"H{(i * 37) % 101:03d}" for i in range(101)]  # inserted out of order
    for i, hid in enumerate(ids):
        w.person(f"Q{i}", date(1960 + i % 40, 1, 1))
        w.member(f"Q{i}", hid)
        w.record("visits", f"Q{i}", date(2024, 5, 1), visit_id=f"V{i}", trigger="monitoring",
                 outcome="not_found")  # fmt: skip
    table = build_snapshot(w.con, AS_OF, params)
    assert table["household_id"].to_pylist() == sorted(ids)
    assert table.equals(build_snapshot(w.con, AS_OF, params))


def test_empty_warehouse_gives_empty_table(params) -> None:
    table = build_snapshot(Warehouse().con, AS_OF, params)
    assert table.num_rows == 0 and table.schema.equals(snapshot_schema())
    assert snapshot_report(table)["rows"] == 0


def test_write_snapshot_and_report(county, params, tmp_path) -> None:
    table = build_snapshot(county.con, AS_OF, params)
    path = write_snapshot(table, tmp_path, AS_OF, ["b-2024-06", "a-2024-06"])
    assert path == tmp_path / "2024-06-30" / "features.parquet"
    meta = read_snapshot_metadata(path)
    assert meta["feature_set_version"] == FEATURE_SET_VERSION and meta["as_of"] == "2024-06-30"
    assert meta["delivery_ids"] == ["a-2024-06", "b-2024-06"]
    assert [f["name"] for f in meta["registry"]] == table.column_names[7:]
    back = pq.read_table(path)
    assert back.equals(table) or back.cast(table.schema).equals(table)
    again = write_snapshot(table, tmp_path, AS_OF, ["a-2024-06", "b-2024-06"])
    assert again.read_bytes() == path.read_bytes()
    report = snapshot_report(table)
    assert report["rows"] == 3 and report["households"] == 3
    assert report["features"]["months_since_last_visit"]["null_share"] == 1.0
    assert report["features"]["enrolled_dibao"]["mean"] == pytest.approx(1 / 3)
    json.dumps(report)


def test_windows_count_back_with_core_months() -> None:
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert add_months(date(2024, 1, 15), -13) == date(2022, 12, 15)


# --- knowledge time (issue 14, item 7) ----------------------------------------------------------


def _late_claim(w: Warehouse, evidence: date) -> None:
    """A claim recorded on 2024-06-20 that missed June's delivery and arrived with July's
    (extract date 2024-07-31)."""
    rid = _serious_claim(w, recorded=date(2024, 6, 20), evidence=evidence)
    w.con.execute(
        f"UPDATE {record_table('medical_claims')} SET extract_date = DATE '2024-07-31', "
        "delivery_id = 'medical_claims-2024-07' WHERE record_id = ?",
        [rid],
    )


@pytest.mark.parametrize(
    "evidence",
    [date(2024, 6, 20), date(2024, 7, 31)],
    ids=["record-rule-alone", "link-rule-too"],
)
def test_a_late_delivery_leaves_the_earlier_snapshot_unchanged(county, params, evidence) -> None:
    before = build_snapshot(county.con, AS_OF, params)
    _late_claim(county, evidence)
    assert build_snapshot(county.con, AS_OF, params).equals(before)
    # known from its delivery's extract date on
    assert _rows(build_snapshot(county.con, date(2024, 7, 31), params))["H1"]["serious_illness_12m"]


def test_a_record_delivered_on_time_counts(county, params) -> None:
    before = build_snapshot(county.con, AS_OF, params)
    rid = _serious_claim(county, recorded=date(2024, 6, 20))
    county.con.execute(
        f"UPDATE {record_table('medical_claims')} SET extract_date = DATE '2024-06-30' "
        "WHERE record_id = ?",
        [rid],
    )
    assert not build_snapshot(county.con, AS_OF, params).equals(before)
