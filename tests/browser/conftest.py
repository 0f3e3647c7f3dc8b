"""Browser tests: the web pages in Debian's headless Chromium, driven by Playwright.

Once per session: the trained fixture county is copied and scored (township lists, 10 %
capacity), tokens are issued for a caseworker (one township), a supervisor (the county), an
auditor and a data scientist, the real server runs (``outreach serve --port 0``, a subprocess),
and one browser is launched. Each test gets new browser contexts (signed in from a stored
session per role, so the token form is filled once per role). Every page a test visits is
saved as a full-page screenshot under ``test-artifacts/browser/`` (the path is printed at the
end). Without ``/usr/bin/chromium`` or axe-core the tests skip, saying which command installs
them (``bash scripts/browser-deps.sh``); with ``CI=true`` they fail instead.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from browser_world import AS_OF, COUNTY, ROLES, TOWNSHIP, comparable
from support.browser_harness import (
    ROOT,
    BrowserDeps,
    LiveServer,
    axe_violations,
    describe_violations,
    find_browser,
    launch_options,
    sign_in,
)

from core.settings import Settings

ARTIFACTS = ROOT / "test-artifacts" / "browser"

_report: list[str] = []


def _on_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in _report:
        terminalreporter.write_line(line, bold=True, yellow=line.startswith(("SKIP", "FAIL")))


@pytest.fixture(scope="session")
def browser_deps() -> BrowserDeps:
    """Chromium and axe-core on disk, else a loud skip (a failure with ``CI=true``)."""
    found = find_browser()
    if isinstance(found, str):
        if _on_ci():
            _report.append(f"FAILED browser tests (CI=true): {found}")
            pytest.fail(f"browser tests: {found} (CI=true requires them)", pytrace=False)
        _report.append(f"SKIPPED browser tests: {found}")
        pytest.skip(f"browser tests: {found}")
    return found


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """The screenshot folder, emptied at the start of the session."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    _report.append(f"browser test screenshots and server log: {ARTIFACTS}")
    return ARTIFACTS


@pytest.fixture(scope="session")
def web_settings(browser_deps, trained_workspace, tmp_path_factory) -> Settings:
    """The trained fixture county scored into its service database (township lists), with the
    sample policy comparison for ``/twin``."""
    from support.service_seed import add_twin_comparison

    from core.settings import load_settings
    from serving.batch.priority import ListSpec
    from serving.batch.scoring import score

    ws = tmp_path_factory.mktemp("browser") / "ws"
    shutil.copytree(trained_workspace, ws)
    settings = load_settings(ws, environ={})
    score(settings, dt.date.fromisoformat(AS_OF), ListSpec(level="township", capacity_share=0.1))
    add_twin_comparison(settings)
    return settings


@pytest.fixture(scope="session")
def web_tokens(web_settings) -> dict[str, str]:
    """A token per role: caseworker of one township, supervisor of the county, auditor, data
    scientist."""
    from serving.runtime import auth
    from serving.store import db

    engine = db.make_engine(web_settings.service_db_url)
    scopes = {"caseworker": TOWNSHIP, "supervisor": COUNTY}
    try:
        with engine.begin() as conn:
            return {r: auth.create_token(conn, r, scopes.get(r))[0] for r in ROLES}
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def live_server(web_settings, web_tokens, artifacts) -> Iterator[LiveServer]:
    """The real server on a free loopback port (log: test-artifacts/browser/server.log)."""
    with LiveServer(web_settings.workspace, artifacts / "server.log") as server:
        yield server


@pytest.fixture(scope="session")
def chromium(browser_deps) -> Iterator[Any]:
    """One headless system Chromium for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(**launch_options(browser_deps.chromium))
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def signed_in_states() -> dict[str, Path]:
    """A stored signed-in session (cookies) per role, made lazily by :meth:`Web.context`."""
    return {}


@pytest.fixture(scope="session")
def axe_source(browser_deps) -> str:
    return browser_deps.axe.read_text(encoding="utf-8")


@dataclass
class Web:
    """One test's view of the site: contexts, visits with screenshots, axe, the database."""

    base: str
    tokens: dict[str, str]
    settings: Settings
    browser: Any
    states: dict[str, Path]
    state_dir: Path
    shots: Path
    test_name: str
    axe_source: str
    contexts: list[Any] = field(default_factory=list)
    csp_errors: list[str] = field(default_factory=list)
    _count: int = 0

    def context(self, role: str | None = None, **options: Any) -> Any:
        """A new browser context; signed in as ``role`` (from its stored session) when given."""
        if role is not None and role not in self.states:
            fresh = self.browser.new_context()
            page = fresh.new_page()
            sign_in(page, self.base, self.tokens[role])
            path = self.state_dir / f"{role}.json"
            fresh.storage_state(path=str(path))
            fresh.close()
            self.states[role] = path
        if role is not None:
            options.setdefault("storage_state", str(self.states[role]))
        context = self.browser.new_context(**options)
        context.set_default_timeout(15_000)
        context.on("console", self._console)
        self.contexts.append(context)
        return context

    def page(self, role: str | None = None, **options: Any) -> Any:
        """A new page in a new context (see :meth:`context`)."""
        return self.context(role, **options).new_page()

    def goto(self, page: Any, path: str) -> Any:
        """Open ``path`` (relative to the server), screenshot it, return the response."""
        response = page.goto(self.base + path)
        self.shot(page)
        return response

    def not_found_text(self, page: Any, template: str, asked: str) -> str:
        """Open ``template.format(asked)``, expect 404; the page's text with ``asked`` and the
        request id blanked, to compare a foreign subject's page with a nonexistent one's."""
        response = self.goto(page, template.format(asked))
        assert response.status == 404, template.format(asked)
        return comparable(page.locator("body").inner_text(), asked)

    def shot(self, page: Any, label: str = "") -> Path:
        """Save a full-page screenshot named after the test, a counter and the URL path."""
        self._count += 1
        where = label or page.url.removeprefix(self.base).split("?")[0] or "root"
        slug = re.sub(r"[^A-Za-z0-9]+", "_", where).strip("_")[:60] or "root"
        path = self.shots / f"{self.test_name}-{self._count:02d}-{slug}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def check_axe(self, page: Any) -> None:
        """No serious or critical axe-core violation on the page as it is now."""
        found = axe_violations(page, self.axe_source)
        where = page.url.removeprefix(self.base)
        assert not found, f"axe on {where}:\n{describe_violations(found)}"

    def scalar(self, query: str, **params: Any) -> Any:
        """One value from the service database (read beside the server)."""
        engine = sa.create_engine(self.settings.service_db_url)
        try:
            with engine.connect() as conn:
                return conn.execute(sa.text(query), params).scalar_one()
        finally:
            engine.dispose()

    def listed(self, index: int = 0) -> str:
        """The reference of the household at rank ``index + 1`` on the caseworker's list."""
        return str(
            self.scalar(
                "SELECT household_id FROM list_entries WHERE jurisdiction_code = :t "
                "ORDER BY rank LIMIT 1 OFFSET :i",
                t=TOWNSHIP,
                i=index,
            )
        )

    def record_pair(self, household: str) -> str:
        """``a=<key>&b=<key>``: two linked records of a household (for the linkage pages)."""
        from support.service_seed import household_records

        a, b = household_records(self.settings, household)
        return f"a={a}&b={b}"

    def count(self, table: str, **equal: str) -> int:
        """Rows of a service-database table, optionally where columns equal values."""
        where = " AND ".join(f"{column} = :{column}" for column in equal)
        return int(self.scalar(f"SELECT count(*) FROM {table} WHERE {where or '1 = 1'}", **equal))

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.csp_errors.append(message.text)


@pytest.fixture
def web(
    request, live_server, web_tokens, web_settings, chromium, signed_in_states, artifacts,
    axe_source, tmp_path_factory,
) -> Iterator[Web]:  # fmt: skip
    """The per-test helper; closes its contexts at the end and refuses CSP violations."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", request.node.name).strip("_")[:80]
    helper = Web(
        base=live_server.url,
        tokens=web_tokens,
        settings=web_settings,
        browser=chromium,
        states=signed_in_states,
        state_dir=tmp_path_factory.getbasetemp(),
        shots=artifacts,
        test_name=name,
        axe_source=axe_source,
    )
    try:
        yield helper
    finally:
        for context in helper.contexts:
            context.close()
    assert not helper.csp_errors, "CSP violations:\n" + "\n".join(helper.csp_errors)
