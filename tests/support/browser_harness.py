"""What the browser tests and ``scripts/screenshots.py`` share (a helper module; tests/ is on
sys.path, and the script puts it there).

- :func:`find_browser`: Debian's ``/usr/bin/chromium`` and the pinned ``axe.min.js`` that
  ``scripts/browser-deps.sh`` installs (Playwright never downloads a browser of its own here);
- :func:`launch_options`: Playwright's ``chromium.launch`` options for that browser;
- :class:`LiveServer`: the real application (``outreach serve --port 0``) in a subprocess, its
  port read from uvicorn's log, ready once ``/readyz`` answers 200;
- :func:`sign_in`: the token form, as a person fills it;
- :func:`axe_violations`: axe-core run in the page, serious and critical violations only.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = ROOT / ".cache" / "axe" / "axe.min.js"
SETUP_COMMAND = "bash scripts/browser-deps.sh"
# Chromium flags for a closed network (no background fetches, no QUIC) and no GPU
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERIOUS = ("serious", "critical")
_PORT = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


@dataclass(frozen=True)
class BrowserDeps:
    """The browser and the accessibility checker, both found on disk."""

    chromium: Path
    axe: Path


def find_browser() -> BrowserDeps | str:
    """The browser and axe-core, or the reason (with the set-up command) they are missing."""
    missing = []
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(f"{CHROMIUM} (Debian package chromium)")
    if not AXE_JS.is_file():
        missing.append(f"{AXE_JS.relative_to(ROOT)} (axe-core from npm)")
    if missing:
        return f"missing {' and '.join(missing)}: run `{SETUP_COMMAND}`"
    return BrowserDeps(CHROMIUM, AXE_JS)


def launch_options(chromium: Path) -> dict[str, Any]:
    """Headless Chromium from the system; ``--no-sandbox`` only as root (Chromium refuses the
    sandbox there)."""
    args = list(CHROMIUM_ARGS)
    if os.geteuid() == 0:
        args.append("--no-sandbox")
    return {"executable_path": str(chromium), "headless": True, "args": args}


class LiveServer:
    """``outreach serve`` on 127.0.0.1, port 0, for one workspace; its log goes to ``log_path``.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, workspace: Path, log_path: Path, timeout: float = 90.0) -> None:
        self.workspace = workspace
        self.log_path = log_path
        self.timeout = timeout
        self.url = ""
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> LiveServer:
        """Start the server and wait until ``/readyz`` answers 200.

        Raises:
            RuntimeError: the server exited or was not ready in time (with its log's tail).
        """
        env = {k: v for k, v in os.environ.items() if k != "OUTREACH_DB_URL"}
        env.update(OMP_NUM_THREADS="1", PYTHONHASHSEED="0", MLFLOW_DISABLE_TELEMETRY="true")
        cmd = [sys.executable, "-m", "outreach.cli", "serve", "--host", "127.0.0.1"]
        cmd += ["--port", "0", "--workspace", str(self.workspace)]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self._proc.returncode}): {self._tail()}")
            if not self.url:
                found = _PORT.search(self.log_path.read_text(errors="replace"))
                if found:
                    self.url = f"http://127.0.0.1:{found.group(1)}"
            if self.url and _status(self.url + "/readyz") == 200:
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server was not ready in {self.timeout:.0f} s: {self._tail()}")

    def stop(self) -> None:
        """SIGTERM (uvicorn shuts down cleanly), SIGKILL after 15 s."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-1500:]


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 (loopback only)
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return None


def sign_in(page: Any, base_url: str, token: str) -> Any:
    """Fill the sign-in form with ``token`` and submit it; returns the landing response."""
    page.goto(base_url + "/signin")
    page.fill("#signin-form input#token", token)
    with page.expect_navigation() as nav:
        page.click("#signin-form button[type=submit]")
    return nav.value


def axe_violations(page: Any, axe_source: str) -> list[dict[str, Any]]:
    """Run axe-core on the page; the violations of impact serious or critical.

    The script is evaluated through the DevTools protocol, which the page's CSP
    (``script-src 'self'``) does not govern, so the page is checked with its CSP in force
    (no ``bypass_csp``, no script tag).
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    found = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map(n => n.target.join(' '))}));
        }"""
    )
    return [v for v in found if v["impact"] in SERIOUS]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """One line per violation: impact, rule id, help, and up to five targets."""
    lines = []
    for v in violations:
        targets = ", ".join(v["targets"][:5]) + (" …" if len(v["targets"]) > 5 else "")
        lines.append(f"{v['impact']}: {v['id']} ({v['help']}) at {targets}")
    return "\n".join(lines)
