"""`outreach evaluate`: bad input is one line and exit 2, before any work."""

from __future__ import annotations

import pytest

from outreach.cli import main


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--months", "3"], "--months must be at least 6"),
        (["--n-boot", "5"], "--n-boot must be at least 20"),
        (["--months", "x"], "Invalid value for '--months'"),
        ([], "no warehouse at"),
    ],
)
def test_bad_evaluate_input_is_one_line(tmp_path, capsys, args, message):
    assert main(["evaluate", *args, "--workspace", str(tmp_path / "ws")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
