"""Index reload without downtime: POST /admin/reload, or SIGHUP to the server process.

The new index is loaded beside the live one and swapped in with one reference assignment
(``QAService.load``); queries already running finish on the index they started with. A
corrupt index, or one built with another embedder, is refused and the old one keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import signal
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ...index import IndexError_
from ...service import QAService
from ..deps import SettingsDep
from ..errors import error_response
from ..responses import JSONResponse
from ..schemas import ErrorResponse

log = logging.getLogger("qa_service.admin")
_bearer = HTTPBearer(auto_error=False, description="QA_ADMIN_TOKEN")


def require_admin(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """403 when no admin token is configured, 401 unless the bearer token matches it."""
    expected = settings.admin_token
    if not expected:
        raise HTTPException(403, "admin endpoints are disabled: QA_ADMIN_TOKEN is not set")
    given = credentials.credentials if credentials else ""
    # compare_digest: the time taken does not reveal how much of the token matched.
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        raise HTTPException(
            401, "missing or invalid admin token", headers={"WWW-Authenticate": "Bearer"}
        )


def reload_index(app: Any) -> dict:
    """Load the configured index directory beside the live one and swap; IndexError_ if not."""
    service: QAService = app.state.service
    metrics = getattr(app.state, "metrics", None)
    before = (service.manifest or {}).get("build_id")
    try:
        manifest = service.load(app.state.settings.index_dir)
    except IndexError_ as exc:
        if metrics is not None:
            metrics.reloads.labels("refused").inc()
        log.warning("index reload refused, still serving %s: %s", before, exc)
        raise
    if metrics is not None:
        metrics.reloads.labels("ok").inc()
    after = manifest.get("build_id")
    log.info("index reloaded: %s -> %s", before, after, extra={"build_id": after})
    return {"previous_build_id": before, "build_id": after, "changed": before != after}


@contextlib.asynccontextmanager
async def sighup_reload(app: FastAPI) -> AsyncIterator[None]:
    """SIGHUP triggers the same reload, in a thread so the event loop keeps serving."""
    loop = asyncio.get_running_loop()

    def on_sighup() -> None:
        log.info("SIGHUP received: reloading the index")
        loop.run_in_executor(None, _reload_quietly, app)

    try:
        loop.add_signal_handler(signal.SIGHUP, on_sighup)
        installed = True
    except (NotImplementedError, RuntimeError, ValueError, AttributeError):
        installed = False  # not the main thread (tests) or no SIGHUP on this platform
    try:
        yield
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGHUP)


def _reload_quietly(app: Any) -> None:
    with contextlib.suppress(IndexError_):  # already logged; the old index keeps serving
        reload_index(app)


router = APIRouter(prefix="/admin", tags=["admin"], lifespan=sighup_reload)


@router.post(
    "/reload",
    summary="Load the rebuilt index beside the live one and swap it in",
    dependencies=[Depends(require_admin)],
    responses={
        401: {"model": ErrorResponse},
        403: {"model": ErrorResponse},
        409: {"model": ErrorResponse, "description": "refused; the old index keeps serving"},
    },
)
async def reload(request: Request) -> JSONResponse:
    try:
        result = await run_in_threadpool(reload_index, request.app)
    except IndexError_ as exc:
        return error_response(409, str(exc), serving=request.app.state.service.manifest)
    return JSONResponse(
        {"status": "reloaded", **result, "manifest": request.app.state.service.manifest}
    )
