"""App factory: wires settings, the QAService facade and the routers."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError

from .. import __version__
from ..config import Settings
from ..service import QAService
from .responses import JSONResponse
from .routes import health, query

log = logging.getLogger("qa_service.api")


def create_app(settings: Settings | None = None, service: QAService | None = None) -> FastAPI:
    settings = settings or (service.settings if service else Settings())
    if service is None:
        service = QAService(settings)
        if not service.try_load():
            log.warning("index not loaded: %s", service.load_error)
    app = FastAPI(
        title="qa-service",
        version=__version__,
        description="OKPAY FAQ answering with escalation to human support.",
        default_response_class=JSONResponse,
    )
    app.state.settings = settings
    app.state.service = service

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        summary = "; ".join(
            f"{'.'.join(map(str, e['loc'][1:])) or 'body'}: {e['msg']}" for e in errors
        )
        return JSONResponse(
            {"error": f"invalid request: {summary}", "detail": errors}, status_code=422
        )

    app.include_router(health.router)
    app.include_router(query.router)
    return app
