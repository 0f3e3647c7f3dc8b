"""`outreach link` on the fixture county, and `outreach link --table` on any person table."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from features.linkage import LOW_CONFIDENCE, MATCH_THRESHOLD, pairwise_counts
from outreach.cli import main

pytestmark = pytest.mark.integration


def _wh(ws: Path):
    return duckdb.connect(str(ws / "data" / "warehouse.duckdb"), read_only=True)


def _report(ws: Path, stage: str) -> dict:
    return json.loads((ws / "data" / "reports" / stage / "latest.json").read_text())


def test_every_accepted_record_has_exactly_one_link(fixture_workspace):
    with _wh(fixture_workspace) as con:
        n_records, n_links, n_keys = con.execute(
            "SELECT (SELECT count(*) FROM person_records), count(*), "
            "count(DISTINCT (agency, record_id)) FROM links"
        ).fetchall()[0]
        assert n_records == n_links == n_keys
        methods = dict(con.execute("SELECT method, count(*) FROM links GROUP BY ALL").fetchall())
        assert set(methods) <= {"id", "probabilistic", "singleton"}
        assert methods["id"] > 0 and methods["probabilistic"] > 0
        # probabilities: 1 for IDs, >= threshold for matches, null for singletons
        bad = con.execute(
            f"""SELECT count(*) FROM links WHERE
                (method = 'id' AND match_probability != 1)
             OR (method = 'probabilistic' AND match_probability < {MATCH_THRESHOLD})
             OR (method = 'singleton' AND match_probability IS NOT NULL)
             OR evidence_date IS NULL"""
        ).fetchall()[0][0]
        assert bad == 0
        # evidence is never earlier than the record itself
        assert (
            con.execute(
                "SELECT count(*) FROM links JOIN person_records USING (agency, record_id) "
                "WHERE evidence_date < recorded_date"
            ).fetchall()[0][0]
            == 0
        )


def test_splink_working_tables_are_dropped(fixture_workspace):
    with _wh(fixture_workspace) as con:
        left = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '%splink%' "
            "UNION ALL SELECT view_name FROM duckdb_views() WHERE view_name LIKE '%splink%'"
        ).fetchall()
        assert left == []
        assert con.execute("SELECT count(*) FROM links").fetchall()[0][0] > 0


def test_linkage_quality_against_the_truth(fixture_workspace):
    q = _report(fixture_workspace, "link")["quality"]
    assert q["records_without_usable_id"] > 100
    assert q["overall"]["precision"] >= 0.995 and q["overall"]["recall"] >= 0.98
    assert q["without_usable_id"]["precision"] >= 0.97
    assert q["without_usable_id"]["recall"] >= 0.90


def test_quality_is_recomputed_independently(fixture_workspace, fixture_world):
    """The report's figures agree with a count done here from the truth files."""
    truth = pd.concat(
        pq.read_table(f, columns=["record_id", "person_id"])
        .to_pandas()
        .assign(agency=f.parent.name)
        for f in (fixture_world / "truth" / "records").rglob("*.parquet")
    ).drop_duplicates(["agency", "record_id"])
    with _wh(fixture_workspace) as con:
        links = con.execute("SELECT agency, record_id, person_id FROM links").df()
    m = links.merge(truth, on=["agency", "record_id"], suffixes=("_pred", "_true"))
    assert len(m) == len(links)
    c = pairwise_counts(m["person_id_pred"].to_numpy(object), m["person_id_true"].to_numpy())
    assert c == _report(fixture_workspace, "link")["quality"]["overall"]


def test_memberships_and_low_confidence_flags(fixture_workspace):
    with _wh(fixture_workspace) as con:
        n_civil = con.execute("SELECT count(*) FROM rec_civil_registry").fetchall()[0][0]
        n_members = con.execute("SELECT count(*) FROM memberships").fetchall()[0][0]
        assert n_members == n_civil
        assert (
            con.execute(
                "SELECT count(*) FROM memberships WHERE household_id NOT LIKE 'H%' "
                "OR person_id IS NULL"
            ).fetchall()[0][0]
            == 0
        )
    r = _report(fixture_workspace, "link")
    assert r["low_confidence_below"] == LOW_CONFIDENCE
    assert r["households"] > 0
    assert 0 <= r["households_low_confidence"] <= r["households"]


def test_relinking_gives_the_same_links(fixture_workspace, tmp_path):
    with _wh(fixture_workspace) as con:
        before = con.execute("SELECT * FROM links ORDER BY agency, record_id").df()
    assert main(["link", "--workspace", str(fixture_workspace)]) == 0
    with _wh(fixture_workspace) as con:
        after = con.execute("SELECT * FROM links ORDER BY agency, record_id").df()
    pd.testing.assert_frame_equal(before, after)


# ----------------------------------------------------------------------------- --table mode
@pytest.fixture(scope="module")
def person_table(fixture_world, tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """Records of two agencies as a new agency might send them: some IDs missing."""
    frames = []
    for agency in ("medical_claims", "civil_assistance"):
        for f in sorted((fixture_world / "agencies" / agency).glob("*.parquet"))[:8]:
            t = pq.read_table(f).to_pandas()
            truth = pq.read_table(fixture_world / "truth" / "records" / agency / f.name).to_pandas()
            frames.append(
                t.merge(truth[["record_id", "person_id"]].drop_duplicates(), on="record_id")
            )
    df = pd.concat(frames, ignore_index=True).drop_duplicates("record_id")
    rng = np.random.default_rng(3)
    df.loc[rng.random(len(df)) < 0.3, "id_number"] = None
    table = pd.DataFrame(
        {
            "证件号码": df["id_number"],
            "姓名": df["name"],
            "出生日期": df["birth_date"].astype(str),
            "性别": df["sex"].map({"M": "男", "F": "女"}),
            "备注": "x",
        }
    )
    path = tmp_path_factory.mktemp("table") / "people.csv"
    table.to_csv(path, index=False, encoding="gbk")
    return path, df["person_id"].to_numpy()


def test_link_table_keeps_input_and_finds_the_same_persons(person_table, tmp_path, capsys):
    path, truth = person_table
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    out = tmp_path / "linked.parquet"
    code = main(
        [
            "link", "--table", str(path), "--map",
            "name=姓名,birth_date=出生日期,sex=性别,id=证件号码", "--out", str(out),
            "--workspace", str(tmp_path),
        ]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    result = pd.read_parquet(out)
    assert list(result.columns) == ["证件号码", "姓名", "出生日期", "性别", "备注", "cluster_id",
                                    "match_probability"]  # fmt: skip
    assert len(result) == len(truth)
    c = pairwise_counts(result["cluster_id"].to_numpy(), truth)
    assert c["precision"] >= 0.98 and c["recall"] >= 0.95, c
    single = ~result["cluster_id"].duplicated(keep=False)
    assert result.loc[single, "match_probability"].isna().all()
    assert (result.loc[~single, "match_probability"] >= MATCH_THRESHOLD).all()


def test_link_table_without_ids_latin_names(tmp_path, capsys):
    """No IDs, Latin-script names: m learned by EM, duplicates written differently."""
    rng = np.random.default_rng(5)
    given = ["Wei", "Fang", "Na", "Jie", "Min", "Jing", "Lei", "Yang", "Tao", "Hui", "Qiang", "Yan"]
    family = ["Zhang", "Wang", "Li", "Chen", "Liu", "Yang", "Huang", "Zhao", "Wu", "Zhou"]
    people = []
    for i in range(240):
        name = (
            f"{family[rng.integers(10)]} {given[rng.integers(12)]}{given[rng.integers(12)].lower()}"
        )
        dob = f"{rng.integers(1940, 2005)}-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d}"
        people.append((i, name, dob, "MF"[rng.integers(2)]))
    rows = [(i, n, d, s) for i, n, d, s in people]
    for i, n, d, s in people[:80]:  # a third recorded twice, typed differently
        rows.append(
            (i, n.upper().replace(" ", "  "), d.replace("-", "/"), {"M": "male", "F": "female"}[s])
        )
    df = pd.DataFrame(rows, columns=["who", "full_name", "dob", "sex"]).sample(
        frac=1, random_state=1
    )
    src = tmp_path / "in.csv"
    df.drop(columns="who").to_csv(src, index=False)
    out = tmp_path / "out.csv"
    code = main(
        ["link", "--table", str(src), "--map", "name=full_name,birth_date=dob,sex=sex",
         "--out", str(out), "--workspace", str(tmp_path)]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    res = pd.read_csv(out)
    c = pairwise_counts(res["cluster_id"].to_numpy(), df["who"].to_numpy())
    assert c["true_pairs"] == 80
    assert c["precision"] >= 0.95 and c["recall"] >= 0.9, c


@pytest.mark.parametrize(
    "args, message",
    [
        (["--map", "name=姓名", "--out", "o.csv"], "--table, --map and --out go together"),
        (["--table", "missing.csv", "--map", "name=a", "--out", "o.csv"], "is not a file"),
        (
            ["--table", "IN", "--map", "name=a", "--out", "o.txt"],
            "--out must end in .csv or .parquet",
        ),
        (["--table", "IN", "--map", "name=a", "--out", "IN"], "--out must differ from --table"),
        (["--table", "IN", "--map", "foo=姓名", "--out", "o.csv"], "--map field 'foo' is unknown"),
        (["--table", "IN", "--map", "name=none", "--out", "o.csv"], "--map column 'none' is not"),
    ],
)
def test_link_table_bad_input(tmp_path, capsys, args, message):
    src = tmp_path / "in.csv"
    src.write_text("姓名,dob\n王伟,1980-01-01\n", encoding="utf-8")
    args = [
        str(src) if a == "IN" else (str(tmp_path / a) if a.endswith((".csv", ".txt")) else a)
        for a in args
    ]
    code = main(["link", *args, "--workspace", str(tmp_path)])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err


def test_link_without_a_warehouse(tmp_path, capsys):
    assert main(["link", "--workspace", str(tmp_path)]) == 2
    assert "run `outreach ingest`" in capsys.readouterr().err
