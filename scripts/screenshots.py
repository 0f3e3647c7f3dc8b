"""Regenerate the README screenshots: the visit list (phone), the household page and coverage
(desktop).

    .venv/bin/python scripts/screenshots.py                      # builds a small county first
    .venv/bin/python scripts/screenshots.py --workspace .        # what `make demo` built
    .venv/bin/python scripts/screenshots.py --workspace . --audit  # + docs/img/audit-model.png

With ``--workspace`` the workspace must be simulated, trained and scored (as ``make demo``
leaves it); without it a small county (400 households, 24 months, seed 7) is built in a
temporary folder through the ``outreach`` CLI (about a minute). The script issues short-lived
tokens (revoked at the end), serves the workspace on a free loopback port, signs in with the
token form in Debian's headless Chromium (``bash scripts/browser-deps.sh`` installs it) and
writes ``visit-list.png`` (390x844 phone viewport), ``household.png`` and ``coverage.png``
(1280x900 desktop) into ``--out`` (default ``docs/img``). On the small county it builds, it
first records a few visit outcomes through the household pages, so the list's cards and the
coverage table show work in progress (a kept workspace is left as it is).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the browser harness shared with tests/browser/

from support.browser_harness import (  # noqa: E402
    LiveServer,
    find_browser,
    launch_options,
    sign_in,
)

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "device_scale_factor": 1}
SMALL = ["--households", "400", "--months", "24", "--seed", "7"]
SMALL_AS_OF = "2024-12-31"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Write docs/img/visit-list.png, household.png and coverage.png from a "
        "served workspace (see the module docstring).",
    )
    parser.add_argument(
        "--workspace",
        type=Path,
        help="a simulated, trained and scored workspace (default: build a small one in a "
        "temporary folder)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="output folder")
    parser.add_argument(
        "--township", help="9-digit township of the caseworker (default: the longest list)"
    )
    parser.add_argument("--lang", choices=["zh", "en"], default="zh", help="page language")
    parser.add_argument("--audit", action="store_true", help="also write audit-model.png")
    return parser.parse_args(argv)


def outreach(*args: str, workspace: Path) -> str:
    """Run an ``outreach`` command on the workspace; its standard output.

    Raises:
        SystemExit: the command failed (its output is shown).
    """
    cmd = [sys.executable, "-m", "outreach.cli", *args, "--workspace", str(workspace)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MLFLOW_DISABLE_TELEMETRY": "true"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-2000:] + done.stderr[-2000:])
        raise SystemExit(f"outreach {args[0]} failed ({done.returncode})")
    return done.stdout


def build_small(workspace: Path) -> None:
    """Simulate, ingest, link, build snapshots, train and score a small county."""
    steps = [
        ["simulate", *SMALL],
        ["ingest"],
        ["link"],
        ["features", "--from", "2023-01-31", "--to", SMALL_AS_OF],
        ["train"],
        ["score", "--as-of", SMALL_AS_OF, "--capacity-share", "0.1"],
    ]
    for step in steps:
        print(f"outreach {' '.join(step)}", flush=True)
        outreach(*step, workspace=workspace)


def busiest_township(workspace: Path) -> str:
    """The township with the most visit-list entries (ties: the smallest code)."""
    import sqlalchemy as sa

    from core.settings import load_settings

    engine = sa.create_engine(load_settings(workspace).service_db_url)
    query = (
        "SELECT substr(jurisdiction_code, 1, 9) AS t FROM list_entries "
        "GROUP BY t ORDER BY count(*) DESC, t LIMIT 1"
    )
    try:
        with engine.connect() as conn:
            found = conn.execute(sa.text(query)).scalar()
    finally:
        engine.dispose()
    if not found:
        raise SystemExit(f"no visit list in {workspace}: run `outreach score` first")
    return str(found)


def settle(page) -> None:
    """Wait for the network and the fonts, so the picture shows the page as drawn."""
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready.then(() => true)")


OUTCOMES = ("in_need", "visited", "not_found")


def record(page, base: str, refs: list[str], lang: str) -> None:
    """Record one outcome per household through its page (today's date)."""
    for ref, outcome in zip(refs, OUTCOMES, strict=False):
        page.goto(f"{base}/households/{ref}{lang}")
        page.locator("form#outcome-form select[name=outcome]").select_option(outcome)
        with page.expect_navigation():
            page.locator("form#outcome-form [type=submit]").click()


def capture(
    base: str, tokens: dict[str, str], township: str, args: argparse.Namespace, outcomes: bool
) -> None:
    """Sign in and write the screenshots."""
    from playwright.sync_api import sync_playwright

    deps = find_browser()
    if isinstance(deps, str):
        raise SystemExit(deps)
    args.out.mkdir(parents=True, exist_ok=True)
    lang = f"?lang={args.lang}"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(**launch_options(deps.chromium))
        phone = browser.new_context(**PHONE).new_page()
        sign_in(phone, base, tokens["caseworker"])
        desktop = browser.new_context(**DESKTOP)
        desktop.add_cookies(phone.context.cookies())
        page = desktop.new_page()
        phone.goto(f"{base}/lists/{township}{lang}")
        refs = phone.locator("tr[data-testid=list-row]").evaluate_all(
            "rs => rs.map(r => r.dataset.ref)"
        )
        if outcomes:
            record(page, base, refs[1:4], lang)
        phone.goto(f"{base}/lists/{township}{lang}")
        settle(phone)
        for ref in refs[:2]:  # the day's selection under way
            phone.locator(f"input[name=ref][value={ref}]").check()
        phone.evaluate("window.scrollTo(0, 0)")
        written = [args.out / "visit-list.png"]
        phone.screenshot(path=str(written[-1]))

        page.goto(f"{base}/households/{refs[0]}{lang}")
        settle(page)
        written.append(args.out / "household.png")
        page.screenshot(path=str(written[-1]))

        page.goto(f"{base}/coverage/{township}{lang}")
        settle(page)
        written.append(args.out / "coverage.png")
        page.screenshot(path=str(written[-1]), full_page=True)

        if args.audit:
            page = browser.new_context(**DESKTOP).new_page()
            sign_in(page, base, tokens["auditor"])
            page.goto(f"{base}/audit/model{lang}")
            settle(page)
            written.append(args.out / "audit-model.png")
            page.screenshot(path=str(written[-1]))  # the top: the card's head and first chart
        browser.close()
    for path in written:
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if isinstance(found := find_browser(), str):
        raise SystemExit(found)
    with tempfile.TemporaryDirectory(prefix="outreach-shots-") as tmp:
        workspace = args.workspace.resolve() if args.workspace else Path(tmp) / "ws"
        if args.workspace is None:
            # a fixed pseudonym key for this synthetic county only: the same references, so
            # the same pictures, on every run
            os.environ.setdefault("OUTREACH_HMAC_KEY", "screenshots of a synthetic county only")
            build_small(workspace)
        township = args.township or busiest_township(workspace)
        roles = {"caseworker": ["--jurisdiction", township], "auditor": []}
        if not args.audit:
            del roles["auditor"]
        tokens = {
            role: outreach("token", "create", "--role", role, *scope, "--days", "1",
                           "--holder", f"screenshot {role}",
                           workspace=workspace).strip()
            for role, scope in roles.items()
        }  # fmt: skip
        try:
            with LiveServer(workspace, Path(tmp) / "server.log") as server:
                capture(server.url, tokens, township, args, args.workspace is None)
        finally:
            if args.workspace is not None:  # a kept workspace keeps no live demo token
                for token in tokens.values():
                    outreach("token", "revoke", token.split("_")[1], workspace=workspace)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
