"""ASGI middleware: request ids and access metrics, body-size limit, per-client rate limit,
security headers and CORS.

Pure ASGI classes rather than ``BaseHTTPMiddleware``: they add no task per request and see
every message, which the body limit needs for chunked uploads.

Order, outermost first: request context -> security headers -> CORS -> rate limit -> body
limit -> the query fast path (``fastpath``) -> app. So 413 and 429 answers still carry a
request id, CORS and security headers, and a fast answer passes every check a routed one does.
"""

from __future__ import annotations

import logging
import math
import re
import time
import uuid
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import Settings
from ..logging import request_id_var
from ..metrics import Metrics
from ..pii import mask_pii
from ..ratelimit import RateLimiter
from .errors import document_error_responses, error_response, internal_error
from .fastpath import QueryFastPath, replayed

log = logging.getLogger("qa_service.api")
access_log = logging.getLogger("qa_service.access")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
CLIENT_CLOSED = 499  # nginx's code for "the client went away before the answer"
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
API_PREFIXES = ("/v1/", "/admin/")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# FastAPI's own /docs and /redoc pages load Swagger UI from a CDN with an inline bootstrap
# script; they hold no customer data, so they get a looser policy than the product pages.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "worker-src 'self' blob:; object-src 'none'; frame-ancestors 'none'"
)


def _templates(app: Any) -> list[tuple[re.Pattern[str], str]]:
    """Path templates of the app's API, from its OpenAPI paths (built once per app)."""
    cached = getattr(app.state, "_route_templates", None)
    if cached is None:
        try:
            paths = list(app.openapi().get("paths", {}))
        except Exception:  # no schema, no templates: the label falls back to "unmatched"
            paths = []
        cached = [
            (re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(p)) + "$"), p)
            for p in paths
        ]
        app.state._route_templates = cached
    return cached


def route_template(scope: Scope) -> str:
    """The matched route's path template: bounded label values, whatever the URL."""
    route = scope.get("route")
    if route is not None and getattr(route, "path", None):
        return route.path
    app = scope.get("app")
    if app is not None and hasattr(app, "openapi"):  # answered before routing (413, 429)
        for rx, template in _templates(app):
            if rx.match(scope["path"]):
                return template
    return "unmatched"


class RequestContextMiddleware:
    """Request id in and out, access log, metrics, and the last-resort 500."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id", "")
        rid = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id_var.set(rid)
        status = CLIENT_CLOSED  # stays so when the client leaves before any answer
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = rid
                # The time spent in the app, so a client can tell it from the network's.
                headers["Server-Timing"] = f"app;dur={(time.perf_counter() - t0) * 1000:.2f}"
            await send(message)

        t0 = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            status = 500
            log.exception(
                "unhandled error on %s %s",
                scope["method"],
                mask_pii(scope["path"]),
                extra={"request_id": rid},
            )
            if not started:
                try:
                    await internal_error(rid)(scope, receive, send_with_id)
                except Exception:  # the client is gone; nothing left to tell it
                    pass
        finally:
            seconds = time.perf_counter() - t0
            route = route_template(scope)
            if self.metrics is not None:
                self.metrics.observe_request(scope["method"], route, status, seconds)
            if access_log.isEnabledFor(logging.INFO):  # its arguments cost a mask and a dict
                access_log.info(
                    "%s %s %d",
                    scope["method"],
                    mask_pii(scope["path"]),
                    status,
                    extra={
                        "request_id": rid,
                        "route": route,
                        "status": status,
                        "ms": round(seconds * 1000, 2),
                        "client": (scope.get("client") or ("-",))[0],
                    },
                )
            request_id_var.reset(token)


class BodyLimitMiddleware:
    """413 for bodies over ``max_bytes``, whether announced by Content-Length or chunked.

    The body is read (up to the limit) before the app runs, so the app never sees a partial
    body and a chunked upload cannot grow past the limit in memory. An oversized body that
    is not absurdly large is read to its end and dropped before the 413: closing a socket with
    unread data makes the kernel send a reset, and the client would lose the answer.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, drain_bytes: int = 1 << 20) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.drain_bytes = max(drain_bytes, max_bytes)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, drained: bool) -> None:
        response = error_response(
            413,
            f"request body too large: at most {self.max_bytes} bytes allowed",
            headers=None if drained else {"Connection": "close"},
            limit=self.max_bytes,
        )
        await response(scope, receive, send)

    async def _drain(self, receive: Receive, seen: int, more: bool) -> bool | None:
        """Read and drop the rest of the body; True if it all came, None if the client left."""
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return None
            seen += len(message.get("body", b""))
            more = message.get("more_body", False)
            if seen > self.drain_bytes:
                return not more
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.max_bytes <= 0:
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            drained = int(length) <= self.drain_bytes and await self._drain(receive, 0, True)
            if drained is not None:
                await self._reject(scope, receive, send, bool(drained))
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # client went away mid-upload
                return
            body = message.get("body", b"")
            size += len(body)
            more = message.get("more_body", False)
            if size > self.max_bytes:
                drained = await self._drain(receive, size, more)
                if drained is not None:
                    await self._reject(scope, receive, send, drained)
                return
            chunks.append(body)
            if not more:
                break
        await self.app(scope, replayed(b"".join(chunks), receive), send)


def is_rate_limited(method: str, path: str) -> bool:
    """The API is limited; health, metrics and plain page loads are not."""
    if path in EXEMPT_PATHS:
        return False
    return method not in ("GET", "HEAD") or path.startswith(API_PREFIXES)


class RateLimitMiddleware:
    """429 + Retry-After per client address on the API; pages, health and metrics are free."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter | None) -> None:
        self.app = app
        self.limiter = limiter

    @staticmethod
    def limited(scope: Scope) -> bool:
        return is_rate_limited(scope["method"], scope["path"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limiter = self.limiter
        if scope["type"] != "http" or limiter is None or not self.limited(scope):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown",))[0]
        if limiter.blocking:  # a round trip to a server: off the event loop
            wait = await anyio.to_thread.run_sync(limiter.acquire, client)
        else:
            wait = limiter.acquire(client)
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(wait))
        response = error_response(
            429,
            f"too many requests: at most {limiter.limit.per_minute} a minute;"
            f" retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )
        await response(scope, receive, send)


class SecurityHeadersMiddleware:
    """nosniff everywhere; CSP, framing and referrer rules on HTML pages."""

    def __init__(self, app: ASGIApp, docs_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.docs_paths = docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"] in self.docs_paths

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", DOCS_CSP if docs else CSP)
                    headers.setdefault("X-Frame-Options", "DENY")
                    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class JSONCORSMiddleware(CORSMiddleware):
    """Starlette's CORS handling, with a refused preflight answered in the API's JSON error
    shape instead of plain text."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        headers = {
            k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")
        }
        message = bytes(response.body).decode("utf-8", "replace")
        return error_response(response.status_code, message, headers=headers)


def install(
    app: FastAPI, settings: Settings, metrics: Metrics | None, limiter: RateLimiter | None
) -> None:
    """Add the middleware stack; ``add_middleware`` prepends, so innermost goes first."""
    app.add_middleware(QueryFastPath)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RateLimitMiddleware, limiter=limiter)
    if settings.cors_origins:
        app.add_middleware(
            JSONCORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Authorization", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
            max_age=600,
        )
    docs = tuple(p for p in (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url) if p)
    app.add_middleware(SecurityHeadersMiddleware, docs_paths=docs)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    document_error_responses(
        app,
        body_limit=settings.max_body_bytes > 0,
        rate_limited=is_rate_limited if limiter is not None else None,
    )
