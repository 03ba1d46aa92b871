"""POST /v1/query without FastAPI's per-request machinery.

A valid question is answered here: its body is validated by the same pydantic model, asked
of the same service and answered by the same code (``routes.query.answer_query``) as the
FastAPI route, inside the same middleware (request id, metrics, rate and body limits,
headers). Anything else (another content type, malformed JSON, an invalid field) goes on to
that route, which stays declared for /openapi.json, so every error keeps its answer.

What this skips is routing, dependency solving, FastAPI's exception and exit-stack layers and
anyio's thread hand-off (with the ranking changes of the same step: one worker from 314-339 to
415-441 uncached req/s at 32 connections, 5.3 to 4.4 ms at one; docs/performance.md).
"""

from __future__ import annotations

from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..storage import StorageUnavailable
from .errors import storage_unavailable
from .responses import JSONResponse
from .routes.query import PATH, answer_query, router
from .schemas import QueryRequest


def is_json(content_type: str | None) -> bool:
    """What FastAPI reads as JSON: no content type, application/json or application/*+json
    (parameters such as charset aside, in any case)."""
    if not content_type:
        return True
    main, _, sub = content_type.partition(";")[0].strip().lower().partition("/")
    return main == "application" and "/" not in sub and (sub == "json" or sub.endswith("+json"))


async def read_body(receive: Receive) -> bytes | None:
    """The whole body, or None when the client left before sending it."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


# The route's template labels a fast request's metrics, as the router would.
ROUTE = next(r for r in router.routes if getattr(r, "path", None) == PATH)


class QueryFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != PATH
            or scope["method"] != "POST"
            or not is_json(Headers(scope=scope).get("content-type"))
        ):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:
            return
        try:
            req = QueryRequest.model_validate_json(body)
        except ValidationError:
            await self.app(scope, replayed(body, receive), send)
            return
        scope["route"] = ROUTE
        try:
            answer = await answer_query(scope["app"].state, req)
        except StorageUnavailable as exc:
            response = await storage_unavailable(None, exc)  # type: ignore[arg-type]
        else:
            response = JSONResponse(answer.to_dict())
        await response(scope, receive, send)


def replayed(body: bytes, receive: Receive) -> Receive:
    """``receive`` for the app inside: the body already read, then whatever comes after it."""
    pending: Message | None = {"type": "http.request", "body": body, "more_body": False}

    async def replay() -> Message:
        nonlocal pending
        if pending is not None:
            message, pending = pending, None
            return message
        return await receive()

    return replay
