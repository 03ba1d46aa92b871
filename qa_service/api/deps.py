"""The API's dependencies, in one place: the service, the settings, the storage, and the two
tokens (agent: the console, the review queue, handoffs, agent feedback; admin: reloads)."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..config import Settings
from ..service import QAService
from ..storage import Storage


# Dependencies are ``async def``: FastAPI runs a plain ``def`` one in the thread pool, a
# thread hop per request for a lookup.
async def get_service(request: Request) -> QAService:
    return request.app.state.service


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_storage(request: Request) -> Storage:
    return request.app.state.storage


ServiceDep = Annotated[QAService, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
StorageDep = Annotated[Storage, Depends(get_storage)]


def _same(given: str, expected: str) -> bool:
    # Constant time, so a token cannot be guessed byte by byte from response timings.
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


# The agent token ------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def agent_locked(settings: Settings) -> bool:
    """No token, but listening beyond loopback: the console and the queue stay shut, since
    they show customers' questions to whoever reaches the port."""
    return not settings.agent_token and not is_loopback(settings.host)


def agent_token_ok(request: Request, settings: Settings) -> bool:
    """True when the request carries the agent token (Bearer or X-Agent-Token), or when
    none is configured and the server listens on loopback only."""
    expected = settings.agent_token
    if not expected:
        return not agent_locked(settings)
    given = request.headers.get("x-agent-token", "")
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        given = auth[7:].strip()
    return _same(given, expected)


def check_agent(request: Request, settings: Settings) -> None:
    """403 while the console is off, 401 without the agent token; nothing when it is there."""
    if agent_token_ok(request, settings):
        return
    if agent_locked(settings):
        raise HTTPException(
            403,
            f"the agent console is off: the server listens on {settings.host} without an agent "
            "token; set QA_AGENT_TOKEN (or bind to 127.0.0.1)",
        )
    raise HTTPException(
        401,
        "agent token required: send it as 'Authorization: Bearer <token>'",
        headers={"WWW-Authenticate": 'Bearer realm="agent"'},
    )


async def require_agent(request: Request, settings: SettingsDep) -> None:
    check_agent(request, settings)


# The admin token ------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, description="QA_ADMIN_TOKEN")


async def require_admin(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """403 when no admin token is configured, 401 unless the bearer token matches it."""
    expected = settings.admin_token
    if not expected:
        raise HTTPException(403, "admin endpoints are disabled: QA_ADMIN_TOKEN is not set")
    if not _same(credentials.credentials if credentials else "", expected):
        raise HTTPException(
            401, "missing or invalid admin token", headers={"WWW-Authenticate": "Bearer"}
        )
