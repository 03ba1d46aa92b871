from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from ...metrics import observe_answer
from ...storage import CUSTOMER_CHANNELS
from ..deps import ServiceDep
from ..responses import JSONResponse
from ..schemas import ErrorResponse, QueryRequest, QueryResponse

router = APIRouter(prefix="/v1", tags=["query"])


@router.post(
    "/query",
    response_model=QueryResponse,
    responses={422: {"model": ErrorResponse}},
    summary="Best-matching FAQ passages for a question, with escalation when unsure",
)
async def query(req: QueryRequest, service: ServiceDep, request: Request) -> JSONResponse:
    answer = await run_in_threadpool(
        service.ask, req.question, req.top_k, req.channel, req.conversation_id, req.lang
    )
    observe_answer(request.app.state, answer)
    webhook = getattr(request.app.state, "webhook", None)
    if webhook is not None and answer.escalate and req.channel in CUSTOMER_CHANNELS:
        webhook.submit(answer.query_id)  # a batch evaluation opens no tickets
    return JSONResponse(answer.to_dict())
