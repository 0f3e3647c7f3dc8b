"""No ID number or name in anything ingest, link and features print or write outside the warehouse.

The warehouse (and its quarantine) holds personal data by design; reports, snapshots, the
linkage model, terminal output and error messages must not. Scanned against every ID number
(18- and 15-digit forms) and every name of the fixture county's truth.
"""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from outreach.cli import main

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def secrets_of_the_county(fixture_world) -> tuple[set[str], set[str]]:
    persons = pq.read_table(fixture_world / "truth" / "persons.parquet").to_pandas()
    ids = {i for i in persons["id_number"].dropna()}
    ids |= {i[:6] + i[8:17] for i in ids}  # legacy forms
    names = {n for n in persons["name"].dropna() if len(n) >= 2}
    return ids, names


def _leaks(text: str, ids: set[str], names: set[str]) -> list[str]:
    found = [f"id {i[:3]}..." for i in ids if i in text]
    found += [f"name {n[:1]}*" for n in names if n in text]
    return found


def test_outputs_hold_no_id_number_or_name(fixture_workspace, secrets_of_the_county, capsys):
    ids, names = secrets_of_the_county
    ws = fixture_workspace
    capsys.readouterr()
    assert main(["features", "--as-of", "2024-06-30", "--workspace", str(ws)]) == 0
    assert main(["link", "--workspace", str(ws)]) == 0
    out, err = capsys.readouterr()
    assert not _leaks(out + err, ids, names)
    written = [
        p
        for p in (ws / "data").rglob("*")
        if p.is_file() and p.suffix != ".duckdb" and not p.name.endswith(".wal")
    ]
    assert any(p.suffix == ".json" for p in written) and any(
        p.suffix == ".parquet" for p in written
    )
    for path in written:
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            text = table.to_pandas().to_csv() + str(table.schema.metadata)
        else:
            text = path.read_text(encoding="utf-8")
        assert not _leaks(text, ids, names), path


def test_error_messages_hold_no_id_number_or_name(fixture_world, tmp_path, capsys):
    ids, names = set(), set()
    persons = pq.read_table(fixture_world / "truth" / "persons.parquet").to_pandas()
    ids, names = set(persons["id_number"].dropna()), set(persons["name"].dropna())
    raw = tmp_path / "raw" / "agencies" / "visits"
    raw.mkdir(parents=True)
    # a CSV whose header is a person's record: the reader must not echo it
    row = persons.iloc[0]
    (raw / "2023-03.csv").write_text(f"{row['id_number']},{row['name']}\n1,2,3\n", "utf-8")
    code = main(["ingest", "--raw", str(tmp_path / "raw"), "--workspace", str(tmp_path / "w")])
    out, err = capsys.readouterr()
    assert code == 2
    assert not _leaks(out + err, ids, names)
    report = (tmp_path / "w" / "data" / "reports" / "ingest" / "latest.json").read_text("utf-8")
    assert not _leaks(report, ids, names)
