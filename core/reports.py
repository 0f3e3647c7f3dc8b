"""Reports are data: every stage's report is written as JSON at a documented path.

``<workspace>/data/reports/<stage>/<UTC time>.json``, and the same text as ``latest.json`` beside
it, so the newest report of a stage is always at a fixed path.

Example:
    >>> path = write_report(tmp_path / "reports", "ingest", {"rows": 3})  # doctest: +SKIP
    >>> path.name  # doctest: +SKIP
    '20261201T120000123456Z.json'
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def report_json(report: Any) -> str:
    """The report as indented JSON (non-ASCII kept; dates and paths as text)."""
    return json.dumps(report, ensure_ascii=False, indent=2, default=str)


def write_report(reports_dir: Path, stage: str, report: Any) -> Path:
    """Write a stage's report to ``<reports_dir>/<stage>/<UTC time>.json`` and ``latest.json``.

    Args:
        reports_dir: the workspace's reports folder (``Settings.reports_dir``).
        stage: the stage's folder name (``ingest``, ``train``, ``outcomes-export`` ...).
        report: anything JSON can hold (dates and paths are written as text).

    Returns:
        The path of the time-stamped file.
    """
    folder = reports_dir / stage
    folder.mkdir(parents=True, exist_ok=True)
    text = report_json(report)
    path = folder / f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}.json"
    path.write_text(text, encoding="utf-8")
    latest = folder / f".latest.{os.getpid()}.tmp"
    latest.write_text(text, encoding="utf-8")
    latest.replace(folder / "latest.json")
    return path
