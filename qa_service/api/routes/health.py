from __future__ import annotations

from fastapi import APIRouter

from ..deps import ServiceDep
from ..responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz", summary="200 only when an index is loaded; the body gives its manifest")
async def readyz(service: ServiceDep) -> JSONResponse:
    manifest = service.manifest
    if manifest is None:
        reason = service.load_error or "no index loaded"
        return JSONResponse({"status": "not_ready", "reason": reason}, status_code=503)
    return JSONResponse({"status": "ready", "manifest": manifest})
