"""``Annotated`` dependencies, so route signatures read like a spec.

- :data:`ServiceDep`: the application's :class:`~serving.runtime.service.Service`
  (started on first use);
- :data:`SettingsDep`: the workspace settings;
- :data:`ConnDep`: a database connection for the request (a transaction when the route writes);
- :data:`PrincipalDep`: the caller behind a valid bearer token, else a 401 problem;
- :data:`RequestIdDep`: the request id.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Connection

from core.settings import Settings
from serving.api.problems import ApiError, request_id
from serving.runtime.auth import Principal
from serving.runtime.service import Service

_bearer = HTTPBearer(auto_error=False, description="A token from `outreach token create`.")


async def get_service(request: Request) -> Service:
    """The app's service, started on first use (once; later calls return at once)."""
    service: Service = request.app.state.service
    return service.start()


ServiceDep = Annotated[Service, Depends(get_service)]


async def get_settings(service: ServiceDep) -> Settings:
    """The workspace settings."""
    return service.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_conn(service: ServiceDep) -> Iterator[Connection]:
    """A connection in one transaction, committed when the route returns without error."""
    with service.engine.begin() as conn:
        yield conn


ConnDep = Annotated[Connection, Depends(get_conn)]


def unauthorized() -> ApiError:
    """The one 401 answer, whatever was wrong with the token."""
    return ApiError(401, "a valid bearer token is required", {"WWW-Authenticate": "Bearer"})


async def get_principal(
    request: Request,
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller; missing, malformed, unknown, expired and revoked tokens all answer 401.

    The principal is kept on ``request.state`` so that a refusal's audit row names it."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized()
    token = credentials.credentials
    principal = service.cached_principal(token)
    if principal is None:
        principal = await service.principal_of(token)
    if principal is None:
        raise unauthorized()
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_request_id(request: Request) -> str:
    """The request id (an async dependency: sync ones cost a thread hop per request)."""
    return request_id(request)


RequestIdDep = Annotated[str, Depends(get_request_id)]
