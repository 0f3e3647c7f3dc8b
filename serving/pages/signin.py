"""Sign-in with an API token, sign-out, and the home page (each role's landing page).

``GET /signin`` shows the form and sets the short-lived ``outreach_signin`` cookie its CSRF
token is tied to; ``POST /signin`` verifies the token like the API does and starts a session
(303 to the role's home) or answers the form again with 401. ``POST /signout`` ends the
session in the ``web_sessions`` table (303 to ``/signin``; the cookie stays refused after a
restart). ``GET /`` sends each role home: caseworkers to their own list,
supervisors to the township index, auditors to ``/audit``, data scientists to the model page.
"""

from __future__ import annotations

import logging
import re
import secrets

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from serving.api.problems import record_denied
from serving.pages.session import COOKIE, SIGNIN_COOKIE, SIGNIN_SECONDS
from serving.pages.web import (
    PageError,
    PageServiceDep,
    ViewerDep,
    check_csrf,
    home_of,
    is_https,
    pages_of,
    read_form,
    render,
    signin_redirect,
)

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
_PRESESSION = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


def _presession(request: Request) -> tuple[str, bool]:
    """The browser's sign-in nonce (cookie) and whether it is new."""
    value = request.cookies.get(SIGNIN_COOKIE, "")
    if _PRESESSION.match(value):
        return value, False
    return secrets.token_urlsafe(24), True


def _signin_page(request: Request, status: int, error: bool) -> Response:
    pre, new = _presession(request)
    csrf = pages_of(request).sessions().signin_csrf(pre)
    response = render(request, "signin.html", {"signin_csrf": csrf, "error": error}, status)
    if new:
        response.set_cookie(
            SIGNIN_COOKIE, pre, max_age=SIGNIN_SECONDS, path="/signin", httponly=True,
            samesite="strict", secure=is_https(request),
        )  # fmt: skip
    return response


@router.get("/signin")
async def signin_form(request: Request) -> Response:
    """The sign-in form."""
    return _signin_page(request, 200, error=False)


@router.post("/signin")
async def signin(request: Request, service: PageServiceDep) -> Response:
    """Start a session for a valid token (303 home), else the form again with 401."""
    form = await read_form(request)
    if form is None:
        raise PageError(422, "invalid")
    pre = request.cookies.get(SIGNIN_COOKIE, "")
    if not _PRESESSION.match(pre):
        raise PageError(403, "csrf")
    check_csrf(pages_of(request).sessions().signin_csrf(pre), form)
    token = str(form.get("token") or "").strip()
    principal = await anyio.to_thread.run_sync(service.verify, token) if token else None
    if principal is None:
        record_denied(request, 401, "signin")
        return _signin_page(request, 401, error=True)
    sessions = pages_of(request).sessions()
    value, session = sessions.issue(principal.token_id)
    await anyio.to_thread.run_sync(sessions.begin, session)
    log.info("web session started (token %s, %s)", principal.token_id, principal.role)
    response = RedirectResponse(home_of(principal), status_code=303)
    response.set_cookie(
        COOKIE, value, path="/", httponly=True, samesite="strict", secure=is_https(request)
    )
    response.delete_cookie(SIGNIN_COOKIE, path="/signin", httponly=True, samesite="strict",
                           secure=is_https(request))  # fmt: skip
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    """End the session (its cookie is refused from now on) and go to the sign-in page."""
    sessions = pages_of(request).sessions()
    session = sessions.read(request.cookies.get(COOKIE))
    if session is not None:
        form = await read_form(request)
        if form is None:
            raise PageError(422, "invalid")
        check_csrf(sessions.csrf_token(session), form)
        await anyio.to_thread.run_sync(sessions.end, session)
    return signin_redirect(request)


@router.get("/")
async def home(viewer: ViewerDep) -> Response:
    """The role's home page."""
    return RedirectResponse(home_of(viewer.principal), status_code=303)
