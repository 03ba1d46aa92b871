from __future__ import annotations

import asyncio
import contextvars
from typing import Any

from fastapi import APIRouter, Request

from ...metrics import observe_answer
from ...pipeline.respond import Answer
from ...storage import CUSTOMER_CHANNELS
from ..responses import JSONResponse
from ..schemas import ErrorResponse, QueryRequest, QueryResponse

router = APIRouter(prefix="/v1", tags=["query"])
PATH = "/v1/query"


async def answer_query(state: Any, req: QueryRequest) -> Answer:
    """Ask the service, then count the answer and queue its handoff: the one body of
    POST /v1/query, whichever way the request came in (``qa_service.api.fastpath``).

    A question alone in the process is answered on the event loop itself: handing it to a
    thread and back cost 0.7 ms of a 4.6 ms answer at concurrency 1, the thread waking on a
    core whose caches hold something else (docs/performance.md). With company, or when its
    turns and its log line are a database server's round trips, it goes to the app's query
    threads, where the encoder batches the questions that wait together."""
    service = state.service
    args = (req.question, req.top_k, req.channel, req.conversation_id, req.lang)
    state.queries_in_flight += 1
    try:
        # One turn of the loop first: requests read in the same turn start and count, so
        # "alone" means alone and a burst still reaches the threads.
        await asyncio.sleep(0)
        if state.queries_in_flight == 1 and state.inline_queries:
            answer = service.ask(*args)
        else:
            # The context goes along, so what ask() logs carries this request's id.
            call = contextvars.copy_context().run
            loop = asyncio.get_running_loop()
            answer = await loop.run_in_executor(state.query_threads, call, service.ask, *args)
    finally:
        state.queries_in_flight -= 1
    observe_answer(state, answer)
    webhook = getattr(state, "webhook", None)
    if webhook is not None and answer.escalate and req.channel in CUSTOMER_CHANNELS:
        webhook.submit(answer.query_id)  # a batch evaluation opens no tickets
    return answer


@router.post(
    "/query",
    response_model=QueryResponse,
    responses={422: {"model": ErrorResponse}},
    summary="Best-matching FAQ passages for a question, with escalation when unsure",
)
async def query(req: QueryRequest, request: Request) -> JSONResponse:
    return JSONResponse((await answer_query(request.app.state, req)).to_dict())
