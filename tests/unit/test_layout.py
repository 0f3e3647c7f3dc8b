"""The layout holds: the layer contract, small modules, no stage importing the CLI.

The layer contract itself is declared once, in pyproject.toml ([tool.importlinter]); `make lint`
runs it too. Here it runs in `make test` so that CI checks it on every submission.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "policies", "simulator", "features", "training", "serving", "outreach")
MAX_LINES = 500
LONG_BY_NATURE = {
    "simulator/names.py": "the name tables (surnames, given-name characters, their frequencies)",
}
"""Modules allowed past :data:`MAX_LINES`, and why. Generated migrations are also exempt."""


def _modules(folders: tuple[str, ...] = PACKAGES) -> list[Path]:
    return sorted(p for pkg in folders for p in (REPO / pkg).rglob("*.py"))


def test_the_layer_contract_is_kept() -> None:
    """outreach > serving > training > features | simulator > policies > core; no cycles."""
    exe = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(exe), "--config", str(REPO / "pyproject.toml")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " 0 broken" in done.stdout


@pytest.mark.parametrize(
    "path",
    _modules((*PACKAGES, "tests", "bench", "scripts")),
    ids=lambda p: str(p.relative_to(REPO)),
)
def test_no_module_is_over_500_lines(path: Path) -> None:
    rel = path.relative_to(REPO).as_posix()
    if rel in LONG_BY_NATURE or "/migrations/versions/" in rel:
        return
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{rel} has {n} lines (split it by what it does)"


def test_no_stage_imports_the_cli_or_the_composition_root() -> None:
    """Stages expose functions; only the CLI package composes them (never the other way)."""
    offenders = []
    for path in _modules():
        rel = path.relative_to(REPO).as_posix()
        if rel.startswith("outreach/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{rel}: {n}" for n in names if n.split(".")[0] == "outreach"]
    assert offenders == []
