"""What every page shares: the signed-in viewer, rendering, errors, forms and auditing.

- :data:`ViewerDep`: the caller behind a valid session cookie (else a 303 to ``/signin``); the
  token row is re-checked through the service's token cache on every request;
- :func:`render`: a Jinja2 template in the page's language (``?lang=`` / ``lang`` cookie);
- :class:`PageError`: a 403 / 404 / 422 / 503 answered as an HTML page. A household or area
  outside the caller's area answers the same 404 page as one that does not exist (the page
  names neither; only the request id differs);
- :func:`read_form` and :func:`check_csrf`: every POST form is read with limits and refused
  (403, nothing changed) without its session's CSRF token;
- :func:`audited`: the API's audit rows (:mod:`serving.api.common`), waited for, and a 503 page
  when the log cannot be written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import anyio.to_thread
import jinja2
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from core.settings import Settings
from serving.api.common import audit_async, audit_now
from serving.api.deps import get_service
from serving.api.problems import ApiError, record_denied, request_id
from serving.pages import i18n, present
from serving.pages.modeldata import ModelDataCache
from serving.pages.session import COOKIE, CSRF_FIELD, LANG_COOKIE, Session, Sessions, load_key
from serving.pages.session import same_token as _same
from serving.runtime.audit import AuditWriteError
from serving.runtime.auth import Principal
from serving.runtime.service import Service
from serving.store.db import AuditEvent
from serving.store.websessions import Limits, SessionTable

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
MAX_FIELDS = 60
MAX_FORM_BYTES = 64 * 1024

HOME = {
    "caseworker": None,  # their own jurisdiction's list
    "supervisor": "/lists",
    "auditor": "/audit",
    "data_scientist": "/audit/model",
}


class PageError(Exception):
    """A page answered with an error status (``kind``: ``forbidden``, ``not_found``,
    ``csrf``, ``invalid``, ``unavailable``)."""

    def __init__(self, status: int, kind: str) -> None:
        super().__init__(kind)
        self.status = status
        self.kind = kind


def not_found() -> PageError:
    """The one 404 page, whatever was not found or outside the caller's area."""
    return PageError(404, "not_found")


def forbidden() -> PageError:
    """The role may not open this page (decided before any lookup)."""
    return PageError(403, "forbidden")


class SignInRequired(Exception):
    """No valid session: the page answers 303 to ``/signin``."""


class Pages:
    """The pages' long-lived parts, one per application (``app.state.pages``).

    Args:
        settings: the workspace settings (where the session key lives, the session timeouts).
        engine: the service database (the ``web_sessions`` table); None: signed cookies only.
        cache_seconds: how long a session check is trusted (the service's token cache).
    """

    def __init__(
        self, settings: Settings, engine: Engine | None = None, cache_seconds: float = 2.0
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.cache_seconds = cache_seconds
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(
            short_ref=present.short_ref, probability=present.probability, utc=present.utc
        )
        self._sessions: Sessions | None = None
        self._lock = threading.Lock()
        self.caches: dict[str, Any] = {}
        self.model_data = ModelDataCache()

    def sessions(self) -> Sessions:
        """The session signer (the key is read or created on first use)."""
        if self._sessions is None:
            with self._lock:
                if self._sessions is None:
                    key = load_key(self.settings.session_key_path, self.settings.key_environ())
                    config = self.settings.service
                    limits = Limits(
                        idle=dt.timedelta(minutes=config.session_idle_minutes),
                        absolute=dt.timedelta(hours=config.session_hours),
                    )
                    table = SessionTable(self.engine, limits) if self.engine else None
                    self._sessions = Sessions(
                        key, max_age=limits.absolute.total_seconds(), table=table,
                        cache_seconds=self.cache_seconds,
                    )  # fmt: skip
        return self._sessions


def pages_of(request: Request) -> Pages:
    """The app's :class:`Pages`."""
    return request.app.state.pages


@dataclasses.dataclass(frozen=True)
class Viewer:
    """The signed-in caller of a page."""

    principal: Principal
    session: Session
    csrf: str

    @property
    def role(self) -> str:
        return self.principal.role


async def get_viewer(request: Request) -> Viewer:
    """The caller behind the session cookie; :class:`SignInRequired` when there is none, it
    is tampered, signed out, idle or too old, or its token has expired or been revoked."""
    service = await get_service(request)
    sessions = pages_of(request).sessions()
    session = sessions.read(request.cookies.get(COOKIE))
    if session is None:
        raise SignInRequired()
    if not sessions.recently_valid(session) and not await anyio.to_thread.run_sync(
        sessions.valid, session
    ):
        raise SignInRequired()
    principal = service.cached_principal_of_id(session.token_id)
    if principal is None:
        principal = await service.principal_of_id(session.token_id)
    if principal is None:
        raise SignInRequired()
    viewer = Viewer(principal, session, sessions.csrf_token(session))
    request.state.viewer = viewer  # error pages show the same navigation
    return viewer


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


async def get_page_service(request: Request) -> Service:
    """The app's service (started on first use)."""
    return await get_service(request)


PageServiceDep = Annotated[Service, Depends(get_page_service)]


def home_of(principal: Principal) -> str:
    """The role's home page."""
    path = HOME[principal.role]
    return path if path is not None else f"/lists/{principal.jurisdiction}"


def lang_of(request: Request) -> str:
    """The page language."""
    return i18n.pick_lang(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))


def is_https(request: Request) -> bool:
    """Whether the page was requested over https (cookies are then ``Secure``): directly, or
    through a proxy of ``[service] trusted_proxies`` saying so (``X-Forwarded-Proto``, applied
    to the request's scheme by :mod:`serving.api.forwarded`)."""
    return request.url.scheme == "https"


def _lang_urls(request: Request) -> dict[str, str]:
    """The page itself in each language: query-only relative links (``?village=…&lang=en``),
    so a page never repeats its own path (a 404 page names nothing it was asked for)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return {lang: "?" + urlencode([*kept, ("lang", lang)]) for lang in i18n.LANGS}


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a page in the request's language (and remember a ``?lang=`` choice)."""
    lang = lang_of(request)
    viewer = getattr(request.state, "viewer", None)
    values = {
        "lang": lang,
        "html_lang": i18n.HTML_LANG[lang],
        "t": i18n.translator(lang),
        "program_name": lambda code: i18n.program_name(lang, code),
        "score_line": lambda band, p: present.score_line(lang, band, p),
        "band_label": lambda band: present.band_label(lang, band),
        "reasons_of": lambda explanation: present.reasons_of(explanation, lang),
        "loc": lambda obj: getattr(obj, "en" if lang == "en" else "zh"),
        "verify_texts": lambda items: present.verify_texts(items, lang),
        "viewer": viewer,
        "request_id": request_id(request),
        "lang_urls": _lang_urls(request),
        "path": request.url.path,
        "csrf_field": CSRF_FIELD,
        **(context or {}),
    }
    html = pages_of(request).env.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status, headers=dict(headers or {}))
    chosen = request.query_params.get("lang")
    if chosen in i18n.LANGS and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(
            LANG_COOKIE, chosen, max_age=365 * 86400, path="/", samesite="lax",
            secure=is_https(request),
        )  # fmt: skip
    return response


DENIED_KINDS = {"forbidden": "role", "not_found": "not_found", "csrf": "csrf"}


def error_page(request: Request, exc: PageError) -> HTMLResponse:
    """The page of a :class:`PageError`; refusals (403, CSRF, 404 of a signed-in viewer) are
    recorded as ``denied`` audit rows (capped per caller, :mod:`serving.runtime.denials`)."""
    if exc.kind in DENIED_KINDS and (exc.kind != "not_found" or hasattr(request.state, "viewer")):
        record_denied(request, exc.status, DENIED_KINDS[exc.kind])
    bare = {lang: f"?lang={lang}" for lang in i18n.LANGS}  # echo nothing that was asked for
    context = {"kind": exc.kind, "status": exc.status, "lang_urls": bare}
    return render(request, "error.html", context, exc.status)


def signin_redirect(request: Request) -> RedirectResponse:
    """303 to the sign-in page, dropping a dead session cookie."""
    response = RedirectResponse("/signin", status_code=303)
    if COOKIE in request.cookies:
        response.delete_cookie(COOKIE, path="/", secure=is_https(request), httponly=True,
                               samesite="strict")  # fmt: skip
    return response


def from_api(exc: ApiError) -> PageError:
    """The page answer of an API error raised by a reused API function."""
    kinds = {403: "forbidden", 404: "not_found", 422: "invalid", 503: "unavailable"}
    return PageError(exc.status, kinds.get(exc.status, "not_found"))


async def read_form(request: Request) -> FormData | None:
    """The posted form (urlencoded or multipart, no files, bounded), or None when unreadable."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_FORM_BYTES):
        return None
    try:
        form = await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=MAX_FORM_BYTES)
    except (StarletteHTTPException, MultiPartException, ValueError, UnicodeDecodeError):
        return None
    if any(not isinstance(v, str) for _, v in form.multi_items()):
        return None
    return form


def check_csrf(expected: str, form: FormData) -> None:
    """403 (the CSRF page, nothing changed) unless the form carries the expected token."""
    if not _same(expected, form.get(CSRF_FIELD)):
        raise PageError(403, "csrf")


def audited(service: Service, event: AuditEvent) -> None:
    """Append an audit row and wait for its commit (from a worker thread); 503 page if down."""
    try:
        audit_now(service, event)
    except (AuditWriteError, TimeoutError):
        raise PageError(503, "unavailable") from None


async def audited_async(service: Service, event: AuditEvent) -> None:
    """:func:`audited` from the event loop."""
    try:
        await audit_async(service, event)
    except (AuditWriteError, TimeoutError):
        raise PageError(503, "unavailable") from None


def no_store(response: Response) -> Response:
    """Mark a response as not to be stored (personal data)."""
    response.headers["Cache-Control"] = "no-store"
    return response
