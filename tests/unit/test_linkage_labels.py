"""Labels files and the clerical-review table of ``link --table`` (pure parts)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import ConfigError, DataContractError
from core.personal_files import written_at
from features.linkage.table import _components
from features.linkage.table_labels import force_labels, read_labels
from features.linkage.table_prep import parse_map
from features.linkage.table_quality import measured_quality
from features.linkage.table_review import review_table, uncertain_pairs, write_review


def _pairs() -> pd.DataFrame:
    return pd.DataFrame(
        {"uid_l": [0, 0, 1, 2], "uid_r": [1, 2, 2, 3], "match_weight": [10.0, 3.0, 2.5, -4.0],
         "match_probability": [0.999, 0.89, 0.85, 0.06], "mw_name": [8.0, 2.0, 2.0, -5.0]}
    )  # fmt: skip


def test_pair_and_cluster_labels(tmp_path):
    f = tmp_path / "l.csv"
    f.write_text("record_l,record_r,match\n0,1,1\n2,3,否\n1,2,\n", encoding="utf-8")
    labels = read_labels(f, 4)
    assert labels.matches == [(0, 1)] and labels.apart == [(2, 3)]
    assert labels.label_column(4).tolist()[:2] == ["m0", "m0"]
    f.write_text("record,cluster\n0,a\n1,a\n3,b\n", encoding="utf-8")
    assert read_labels(f, 4).clusters == {0: "a", 1: "a", 3: "b"}
    for text, message in [
        ("a,b\n1,2\n", "needs columns"),
        ("record_l,record_r,match\n0,9,1\n", "record 9 is not in the table"),
        ("record_l,record_r,match\n0,1,maybe\n", "is not 1/0"),
        ("record_l,record_r,match\nx,1,1\n", "'x' is not a record number"),
    ]:
        f.write_text(text, encoding="utf-8")
        with pytest.raises(DataContractError, match=message):
            read_labels(f, 4)
    with pytest.raises(ConfigError, match="is not a file"):
        read_labels(tmp_path / "none.csv", 4)


def test_marked_pairs_are_resolved_as_marked(tmp_path):
    f = tmp_path / "l.csv"
    f.write_text("record_l,record_r,match\n0,1,0\n2,3,1\n", encoding="utf-8")
    labels = read_labels(f, 4)
    pairs = force_labels(_pairs(), labels)
    clusters = _components(4, pairs, labels)
    assert clusters[0] != clusters[1] and clusters[2] == clusters[3]
    q = measured_quality(clusters, labels, pd.Series([1, 1, 1, 1]))
    assert q["precision"] == q["recall"] == 1.0 and q["labels"] == "pairs"
    # a chain through a third record may not join a pair marked apart either
    chain = _pairs().assign(match_probability=[0.2, 0.95, 0.95, 0.06])
    apart = read_labels(f, 4)
    apart.matches = []
    assert len(set(_components(4, force_labels(chain, apart), apart)[:2])) == 2


def test_review_file_is_owner_only_and_side_by_side(tmp_path):
    frame = pd.DataFrame(
        {"姓名": ["张伟", "张玮", "李娜", "李那"], "dob": ["1980", None, "1", "2"]}
    )
    m = parse_map("name=姓名,birth_date=dob", list(frame.columns))
    levels = [
        {"is_null_level": True, "label_for_charts": "null"},
        {"label_for_charts": "exact", "m_probability": 0.9, "u_probability": 0.001},
        {"label_for_charts": "different", "m_probability": 0.1, "u_probability": 0.999},
    ]
    model = {"comparisons": [{"output_column_name": "name", "comparison_levels": levels}]}
    assert uncertain_pairs(_pairs(), 2)["uid_l"].tolist() == [0, 1]  # closest to weight 3.17
    rows = review_table([frame], [m], _pairs(), model, 2)
    assert rows.loc[0, ["name_l", "name_r"]].tolist() == ["张伟", "李娜"]
    assert (rows["match"] == "").all()
    assert rows["agreement_name"].tolist() == ["null", "null"]  # weight 2 is nearest 0
    assert review_table([frame], [m], _pairs(), model, 4)["agreement_name"].iloc[2] == "exact"
    folder = tmp_path / "reports" / "review"
    for suffix in (".csv", ".xlsx"):
        path, n = write_review(folder, [frame], [m], _pairs(), model, 3, suffix)
        assert n == 3 and path.parent == folder and path.suffix == suffix
        assert path.name.startswith("link-review-") and written_at(path.name) is not None
        assert path.stat().st_mode & 0o777 == 0o600
        assert folder.stat().st_mode & 0o777 == 0o700
        assert len(read_labels(path, 4).matches) == 0  # unmarked: nothing learned
    assert len(list(folder.iterdir())) == 2  # one new file per run, never overwritten
    assert np.isfinite(rows["match_weight"]).all()
