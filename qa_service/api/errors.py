"""Error responses: every failure a client can cause is a clear 4xx JSON body.

FastAPI reports unparsable bodies either as a ``json_invalid`` validation error or as a bare
400 whose cause is the real reason (bad UTF-8, nesting too deep, an absurd number); both are
turned here into a message that says what to fix. Error bodies never echo the request body.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..storage import StorageUnavailable
from .responses import JSONResponse
from .schemas import ErrorResponse

log = logging.getLogger("qa_service.api")


def safe_text(value: Any) -> str:
    """A string that always serialises (lone surrogates replaced)."""
    return str(value).encode("utf-8", "replace").decode("utf-8")


def error_response(
    status: int, message: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {"error": safe_text(message)}
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers)


def internal_error(request_id: str | None) -> JSONResponse:
    return error_response(
        500,
        "internal error; quote the request id to support",
        request_id=request_id,
    )


def _json_position(doc: Any, pos: int) -> str:
    """'line L column C' for a character position in the parsed document."""
    if not isinstance(doc, str) or not isinstance(pos, int):
        return f"position {pos}"
    line = doc.count("\n", 0, pos) + 1
    col = pos - (doc.rfind("\n", 0, pos) + 1) + 1
    return f"line {line} column {col}"


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    for e in errors:
        if e.get("type") == "json_invalid":
            loc = e.get("loc", ())
            pos = loc[1] if len(loc) > 1 else 0
            reason = (e.get("ctx") or {}).get("error", "invalid JSON")
            where = _json_position(getattr(exc, "body", None), pos)
            return error_response(400, f"malformed JSON: {reason} at {where}")
    detail = [
        {
            "loc": [safe_text(x) if isinstance(x, str) else x for x in e.get("loc", ())],
            "msg": safe_text(e.get("msg", "")),
            "type": safe_text(e.get("type", "")),
        }
        for e in errors
    ]
    summary = "; ".join(f"{'.'.join(map(str, d['loc'][1:])) or 'body'}: {d['msg']}" for d in detail)
    return error_response(422, f"invalid request: {summary}", detail=detail)


def _body_parse_message(cause: BaseException | None) -> str:
    if isinstance(cause, UnicodeDecodeError):
        return (
            f"request body is not valid UTF-8 (byte 0x{cause.object[cause.start]:02x} "
            f"at offset {cause.start})"
        )
    if isinstance(cause, RecursionError):
        return "malformed JSON: nested too deeply"
    if isinstance(cause, ValueError):
        return f"malformed JSON: {cause}"
    return "the request body could not be parsed as JSON"


async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    headers = dict(exc.headers or {})
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        return error_response(400, _body_parse_message(exc.__cause__), headers=headers)
    if exc.status_code == 404 and exc.detail == "Not Found":
        message = f"no such endpoint: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"method {request.method} is not allowed here"
    else:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
    # "detail" keeps FastAPI's own shape for clients that read it.
    return error_response(exc.status_code, message, headers=headers or None, detail=exc.detail)


def document_error_responses(
    app: FastAPI, *, body_limit: bool, rate_limited: Callable[[str, str], bool] | None
) -> None:
    """Add the answers the middleware may give (400, 413, 429) to every operation in
    /openapi.json, so the published contract lists every status a client can meet."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema and app.openapi_schema.get("x-error-responses"):
            return app.openapi_schema
        schema = build()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas.setdefault("ErrorResponse", ErrorResponse.model_json_schema())
        ref = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
        for path, operations in schema.get("paths", {}).items():
            for method, op in operations.items():
                responses = op.setdefault("responses", {})
                if "requestBody" in op:
                    responses.setdefault(
                        "400", {"description": "Malformed JSON or invalid UTF-8", "content": ref}
                    )
                    if body_limit:
                        responses.setdefault(
                            "413", {"description": "Request body too large", "content": ref}
                        )
                if rate_limited is not None and rate_limited(method.upper(), path):
                    responses.setdefault(
                        "429",
                        {
                            "description": "Too many requests; see the Retry-After header",
                            "content": ref,
                            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                        },
                    )
        schema["x-error-responses"] = True
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


async def storage_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # A route that needs the database while it is gone: retry later, nothing half-stored.
    return JSONResponse({"error": str(exc)}, status_code=503, headers={"Retry-After": "5"})


def install(app: FastAPI) -> None:
    app.add_exception_handler(StorageUnavailable, storage_unavailable)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
