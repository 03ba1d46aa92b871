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
    """Ask the service on the app's query threads, then count the answer and queue its
    handoff: the one body of POST /v1/query, whichever way the request came in
    (``qa_service.api.fastpath``)."""
    service = state.service
    # The context goes along, so what ask() logs carries this request's id.
    call = contextvars.copy_context().run
    answer = await asyncio.get_running_loop().run_in_executor(
        state.query_threads,
        call,
        service.ask,
        req.question,
        req.top_k,
        req.channel,
        req.conversation_id,
        req.lang,
    )
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
