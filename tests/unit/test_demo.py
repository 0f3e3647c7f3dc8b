"""`outreach demo`'s orchestration: stage order, reuse on a second run, failures, the port."""

from __future__ import annotations

import socket

import pytest

from core.errors import ConfigError
from core.settings import load_settings
from outreach import demo


@pytest.fixture
def settings(tmp_path, monkeypatch):
    s = load_settings(tmp_path / "ws")
    demo.ensure_workspace(s.workspace)
    prints = {"fp": "A"}
    monkeypatch.setattr(demo, "deliveries_fingerprint", lambda _s: prints["fp"])
    return s, prints


class _Report:
    def as_dict(self) -> dict:
        return {"ok": True}


def _runner(fail: str | None = None):
    """Stand-in stage functions that record their calls (a failing one raises, as stages do)."""
    calls: list[str] = []

    def stage(name: str):
        def call(settings) -> _Report:
            calls.append(name)
            assert settings.workspace.name == "ws"
            if name == fail:
                raise ConfigError(f"{name} failed")
            return _Report()

        return call

    names = [("simulate", None), ("ingest", None), ("link", "link"), ("features", "features")]
    names += [("train", "train"), ("score", None)]
    return [(n, key, stage(n)) for n, key in names], calls


def test_the_demo_runs_the_pipeline_stage_functions_in_order():
    assert [name for name, _, _ in demo.pipeline_stages()] == [
        "simulate", "ingest", "link", "features", "train", "score"
    ]  # fmt: skip


def test_first_run_runs_every_stage_in_order_then_reuses(settings):
    s, prints = settings
    stages, calls = _runner()
    said: list[str] = []
    times = demo.run_stages(s, said.append, stages)
    assert calls == ["simulate", "ingest", "link", "features", "train", "score"]
    assert [t.name for t in times] == calls and not any(t.reused for t in times)
    assert any(line.startswith("[6/8] score: ") for line in said)
    assert (s.reports_dir / "score" / "latest.json").exists()  # each stage's report is written

    stages, calls = _runner()
    times = demo.run_stages(s, lambda _m: None, stages)
    assert calls == ["simulate", "ingest", "score"]  # nothing new was ingested
    assert [t.name for t in times if t.reused] == ["link", "features", "train"]

    prints["fp"] = "B"  # a new delivery: link, features and train run again
    stages, calls = _runner()
    demo.run_stages(s, lambda _m: None, stages)
    assert calls == ["simulate", "ingest", "link", "features", "train", "score"]


def test_a_failed_stage_stops_the_demo_with_its_error_and_is_not_marked_done(settings):
    s, _ = settings
    stages, calls = _runner(fail="features")
    with pytest.raises(ConfigError, match=r"^features failed$"):
        demo.run_stages(s, lambda _m: None, stages)
    assert calls[-1] == "features"
    stages, calls = _runner()
    demo.run_stages(s, lambda _m: None, stages)
    assert calls == ["simulate", "ingest", "features", "train", "score"]  # link was done


def test_a_damaged_state_file_only_costs_a_rebuild(settings):
    s, _ = settings
    (s.workspace / demo.STATE_FILE).write_text("{not json", encoding="utf-8")
    stages, calls = _runner()
    demo.run_stages(s, lambda _m: None, stages)
    assert "link" in calls


def test_bind_falls_back_to_a_free_port_when_taken():
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        sock = demo.bind("127.0.0.1", port)
        assert sock.getsockname()[1] not in (port, 0)
        sock.close()
    finally:
        taken.close()


def test_summary_lists_each_stage_and_the_total():
    lines = demo.summary([demo.StageTime("link", 12.0, False), demo.StageTime("train", 0, True)])
    assert lines[0].split() == ["link", "12.0", "s"]
    assert lines[1].split() == ["train", "reused"]
    assert lines[-1].split() == ["total", "12.0", "s"]


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--port", "70000"], "--port must be between 0 and 65535"),
     (["--port", "abc"], "Invalid value for '--port'")],
)  # fmt: skip
def test_demo_bad_flags_give_one_line_and_exit_2(tmp_path, capsys, args, message):
    from outreach.cli import main

    assert main(["demo", *args, "--workspace", str(tmp_path / "ws")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err
    assert not (tmp_path / "ws").exists()  # nothing was started
