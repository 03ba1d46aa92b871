from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from ...serving import DRAINING
from ..deps import ServiceDep
from ..responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="200 only when an index is loaded and warm and the server is not stopping; the "
    "body gives its manifest, and whether the database answers",
)
async def readyz(service: ServiceDep, request: Request) -> JSONResponse:
    manifest = service.manifest
    if DRAINING.is_set():
        return JSONResponse({"status": "draining", "reason": "stopping"}, status_code=503)
    if manifest is None:
        reason = service.load_error or "no index loaded"
        return JSONResponse({"status": "not_ready", "reason": reason}, status_code=503)
    # A lost database degrades logging and the console, not answers: still ready, and said.
    storage = getattr(request.app.state, "storage", None)
    problem = await run_in_threadpool(storage.health) if storage is not None else None
    database = "ok" if problem is None else f"unavailable: {problem}"
    return JSONResponse({"status": "ready", "manifest": manifest, "database": database})
