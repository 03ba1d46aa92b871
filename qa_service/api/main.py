"""App factory: wires settings, the QAService facade and the routers."""

from __future__ import annotations

import contextlib
import gc
import logging
import sys
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from threadpoolctl import threadpool_limits

from .. import __version__
from ..config import Settings
from ..handoffs import HandoffWebhook
from ..metrics import Metrics
from ..ratelimit import open_limiter
from ..replica import Replica
from ..service import QAService
from ..storage import Storage, open_storage
from . import docs, errors, middleware
from .responses import JSONResponse
from .routes import admin, feedback, handoffs, health, metrics, query, web

log = logging.getLogger("qa_service.api")
# Names reserved for examples (RFC 2606): an escalation link there reaches no one.
# Young-generation collections every 10,000 net allocations instead of 700: a request
# allocates a few thousand objects, nearly all freed before it ends.
GC_THRESHOLDS = (10_000, 20, 20)
# Threads that run QAService.ask, as many as anyio's default limiter lent the route before: under
# load they wait on the encoder together, and micro-batching makes one call of their questions.
QUERY_THREADS = 40
PLACEHOLDER_SUFFIXES = (
    ".example",
    ".invalid",
    ".test",
    "example.com",
    "example.net",
    "example.org",
)


def create_app(settings: Settings | None = None, service: QAService | None = None) -> FastAPI:
    settings = settings or (service.settings if service else Settings())
    if service is None:
        service = QAService(settings)
        if not service.try_load():
            log.warning("index not loaded: %s", service.load_error)
    app = FastAPI(
        title="qa-service",
        version=__version__,
        description="FAQ answering with escalation to human support.",
        default_response_class=JSONResponse,
        docs_url=None,  # served below from packaged assets, not from a CDN
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.service = service
    app.state.query_threads = query_threads()  # replaced by each lifespan's own
    app.state.queries_in_flight = 0
    # Query log and feedback share one store; an injected service may bring its own.
    if isinstance(service.query_log, Storage):
        app.state.storage = service.query_log
    else:
        app.state.storage = open_storage(settings)
        if settings.log_queries:
            service.query_log = app.state.storage
    if service.query_log is app.state.storage:
        # Conversations are read from the log: every worker sees every turn.
        service.conversations = app.state.storage

    # A lone question is answered on the event loop only where ask() reaches no server: a
    # database that is slow or gone would hold up every request in the process.
    store = service.query_log
    app.state.inline_queries = settings.inline_lone_queries and (
        store is None or getattr(store, "local", False)
    )

    # Shared like the store it lives in: every worker and replica counts against one limit.
    limiter = app.state.limiter = open_limiter(settings, app.state.storage)
    app.state.metrics = Metrics(
        lambda: service.manifest,
        lambda: app.state.storage.dropped_log_lines,
        (lambda: limiter.errors) if limiter is not None else None,
    )
    app.state.replica = Replica(service, app.state.storage, settings, app.state.metrics)
    app.state.webhook = None
    if settings.handoff_webhook_url:
        app.state.webhook = HandoffWebhook(
            settings.handoff_webhook_url,
            app.state.storage,
            secret=settings.handoff_webhook_secret,
            attempts=settings.handoff_webhook_attempts,
            backoff=settings.handoff_webhook_backoff_seconds,
            on_outcome=lambda outcome: app.state.metrics.webhooks.labels(outcome).inc(),
        )
    errors.install(app)
    middleware.install(app, settings, app.state.metrics, limiter)

    app.include_router(health.router)
    app.include_router(query.router)
    app.include_router(admin.router)
    app.include_router(metrics.router)
    app.include_router(feedback.router)
    app.include_router(handoffs.router)
    app.include_router(web.router)
    docs.install(app)
    warn_on_placeholders(settings)
    return app


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Follow the published index while serving; leave the replica list when stopping."""
    replica: Replica = app.state.replica
    replica.start()
    app.state.query_threads = query_threads()
    # The model, the index and the app are loaded and live as long as the process: moved out
    # of the collector's reach, and collections made rarer, a request stops paying for
    # full passes over them (about 3% of the event loop's time under load, py-spy).
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    # A request hands the GIL between the event loop, its worker thread and the encoder's
    # batch several times; at Python's default 5 ms each hand-off to a waiting thread can
    # stall that long (docs/performance.md: one worker 357-400 -> 434-443 req/s at c=32).
    sys.setswitchinterval(app.state.settings.switch_interval_ms / 1000.0)
    # Every matrix product of a query, not only the encoder's, on QA_THREADS BLAS threads:
    # OpenBLAS splits a product as small as the not-covered examples against the question
    # over both cores, and its spinning helper then competes with the event loop
    # (docs/performance.md). Requests and workers supply the parallelism.
    threadpool_limits(app.state.settings.threads, user_api="blas")
    try:
        yield
    finally:
        app.state.query_threads.shutdown(wait=False)
        await run_in_threadpool(replica.stop)
        if app.state.webhook is not None:
            await run_in_threadpool(app.state.webhook.close)
        if app.state.limiter is not None:
            app.state.limiter.close()


def query_threads() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(QUERY_THREADS, thread_name_prefix="qa-query")


def warn_on_placeholders(settings: Settings) -> None:
    """Say at start what a deployment must still set."""
    host = urlsplit(settings.escalation_url).hostname or ""
    if host == "example" or host.endswith(PLACEHOLDER_SUFFIXES):
        log.warning(
            "escalations link to the placeholder %s: set QA_ESCALATION_URL to your support page",
            settings.escalation_url,
        )
