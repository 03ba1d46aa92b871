"""Index reload without downtime: POST /admin/reload, or SIGHUP to the server process.

The new index is loaded beside the live one and swapped in with one reference assignment
(``QAService.load``); queries already running finish on the index they started with. A
corrupt index, or one built with another embedder, is refused and the old one keeps serving.

The other replicas and workers load the same published build by themselves within
``QA_RELOAD_POLL_SECONDS`` (``qa_service.replica``); the reload answers once every one of
them serves it or has refused it, or after ``wait`` seconds, with what each one serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from ...index import IndexError_
from ...replica import Replica
from ...storage import ReplicaStatus, StorageError
from ..deps import require_admin
from ..errors import error_response
from ..responses import JSONResponse
from ..schemas import ErrorResponse

log = logging.getLogger("qa_service.admin")


@contextlib.asynccontextmanager
async def sighup_reload(app: FastAPI) -> AsyncIterator[None]:
    """SIGHUP triggers the same reload, in a thread so the event loop keeps serving."""
    loop = asyncio.get_running_loop()

    def on_sighup() -> None:
        log.info("SIGHUP received: reloading the index")
        loop.run_in_executor(None, _reload_quietly, app.state.replica)

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


def _reload_quietly(replica: Replica) -> None:
    with contextlib.suppress(IndexError_):  # already logged; the old index keeps serving
        replica.reload()


router = APIRouter(prefix="/admin", tags=["admin"], lifespan=sighup_reload)


class ReloadParams(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt parameter is a 422, not ignored

    wait: float = Field(10.0, ge=0, le=120, description="seconds to wait for every replica")


def _replicas(replica: Replica, peers: list[ReplicaStatus]) -> list[dict]:
    now = replica.clock()
    return [p.to_dict(now) for p in peers]


@router.post(
    "/reload",
    summary="Load the published index beside the live one and swap it in; wait for the "
    "other replicas to serve it too",
    dependencies=[Depends(require_admin)],
    responses={
        401: {"model": ErrorResponse},
        403: {"model": ErrorResponse},
        409: {"model": ErrorResponse, "description": "refused; the old index keeps serving"},
    },
)
async def reload(request: Request, params: Annotated[ReloadParams, Query()]) -> JSONResponse:
    wait = params.wait
    replica: Replica = request.app.state.replica
    try:
        result = await run_in_threadpool(replica.reload)
    except IndexError_ as exc:
        return error_response(409, str(exc), serving=request.app.state.service.manifest)
    try:
        peers, all_serving = await run_in_threadpool(replica.wait_for, result["build_id"], wait)
        replicas: list[dict] | None = _replicas(replica, peers)
        problem = None
    except StorageError as exc:  # reloaded here; the others cannot be seen
        replicas, all_serving, problem = None, False, str(exc)
    return JSONResponse(
        {
            "status": "reloaded",
            **result,
            "all_serving": all_serving,
            "replicas": replicas,
            **({"replicas_error": problem} if problem else {}),
            "manifest": request.app.state.service.manifest,
        }
    )


@router.get(
    "/replicas",
    summary="Every serving process seen lately: the build it serves, the build published, "
    "and why it refused that one if it did",
    dependencies=[Depends(require_admin)],
    responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}},
)
async def replicas(request: Request) -> JSONResponse:
    replica: Replica = request.app.state.replica
    peers = await run_in_threadpool(replica.peers)
    published = replica.published()
    return JSONResponse(
        {
            "published": published,
            "all_serving": all(p.build_id == published for p in peers),
            "replicas": _replicas(replica, peers),
        }
    )
