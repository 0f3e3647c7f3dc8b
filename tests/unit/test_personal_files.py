"""Files of personal data written for a person to read (``core.personal_files``): owner-only,
named by the UTC time they were written, and found by that time when they are past retention."""

from __future__ import annotations

import datetime as dt
import os

from core.personal_files import files_before, owner_only_dir, write_owner_only, written_at

AT = dt.datetime(2026, 12, 7, 23, 5, 9, tzinfo=dt.UTC)


def test_a_file_is_owner_only_in_an_owner_only_folder(tmp_path) -> None:
    folder = tmp_path / "reports" / "review"
    folder.mkdir(parents=True, mode=0o755)
    os.chmod(folder, 0o755)  # an existing open folder is closed too
    path = write_owner_only(folder, "link-review", ".csv", b"name\n", AT)
    assert folder.stat().st_mode & 0o777 == 0o700
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_bytes() == b"name\n"
    assert path.name.startswith("link-review-20261207T230509Z-") and path.suffix == ".csv"
    assert written_at(path.name) == AT


def test_two_files_in_one_second_never_overwrite(tmp_path) -> None:
    a = write_owner_only(tmp_path, "x", ".csv", b"a", AT)
    b = write_owner_only(tmp_path, "x", ".csv", b"b", AT)
    assert a != b and a.read_bytes() == b"a" and b.read_bytes() == b"b"


def test_old_files_are_found_by_their_name_else_their_time(tmp_path) -> None:
    folder = owner_only_dir(tmp_path / "f")
    old = write_owner_only(folder, "r", ".csv", b"", AT - dt.timedelta(days=31))
    new = write_owner_only(folder, "r", ".csv", b"", AT - dt.timedelta(days=1))
    stray = folder / "marked copy.csv"  # put there by hand: its modification time counts
    stray.write_bytes(b"")
    gone = (AT - dt.timedelta(days=40)).timestamp()
    os.utime(stray, (gone, gone))
    fresh = folder / "fresh.xlsx"
    fresh.write_bytes(b"")
    os.utime(fresh, (AT.timestamp(), AT.timestamp()))
    cut = AT - dt.timedelta(days=30)
    assert files_before(folder, cut) == sorted([old, stray])
    assert new not in files_before(folder, cut)
    assert files_before(tmp_path / "none", cut) == []


def test_a_name_without_a_stamp_has_no_time() -> None:
    assert written_at("linked-review.csv") is None
    assert written_at("subject-report-20261207T230509Z-zzzzzz.json") is None
