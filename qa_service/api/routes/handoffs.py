"""GET /v1/handoffs/{id}: an escalation as a helpdesk or an agent takes it over.

The id is the escalating turn's query id (``escalation.handoff_id``, also in the escalation
link). The record is machine-readable: why it was handed over, a one-line summary, the masked
transcript of the whole conversation up to that turn, the entries suggested and the
confidence, so the person never asks the customer to repeat."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path
from fastapi.concurrency import run_in_threadpool

from ...storage import QueryRecord
from ..deps import StorageDep, require_agent
from ..responses import JSONResponse
from ..schemas import ErrorResponse
from .feedback import QUERY_ID, _error

router = APIRouter(prefix="/v1", tags=["handoffs"])
SUMMARY_CHARS = 120


def _turn(q: QueryRecord) -> dict:
    return {
        "query_id": q.id,
        "at": q.created_at,
        "question": q.question,
        "understood_as": q.understood_as,
        "answered_with": q.answer_id,
        "escalated": q.escalate,
        "reason": q.reason,
        "reply_kind": q.reply_kind,
        "confidence": q.confidence,
    }


def handoff_record(turn: QueryRecord, transcript: list[QueryRecord]) -> dict:
    question = turn.understood_as or turn.question
    summary = f"{turn.reason or 'escalated'}: {question}"
    if len(summary) > SUMMARY_CHARS:
        summary = summary[: SUMMARY_CHARS - 1] + "…"
    return {
        "handoff_id": turn.id,
        "action": "handoff",  # a field to switch on, not a phrase to match
        "reason": turn.reason,
        "summary": summary,
        "created_at": turn.created_at,
        "channel": turn.channel,
        "language": turn.language,
        "conversation_id": turn.conversation_id,
        "confidence": turn.confidence,
        "suggested": turn.results,
        "transcript": [_turn(t) for t in transcript],
    }


@router.get(
    "/handoffs/{handoff_id}",
    dependencies=[Depends(require_agent)],
    responses={
        401: {"model": ErrorResponse},
        403: {"model": ErrorResponse},
        404: {"model": ErrorResponse},
    },
    summary="An escalation with its masked conversation, for the agent who takes it (agent token)",
)
async def get_handoff(
    storage: StorageDep,
    handoff_id: str = Path(pattern=QUERY_ID),
) -> JSONResponse:
    turn = await run_in_threadpool(storage.get_query, handoff_id)
    if turn is None or not turn.escalate:
        return _error(404, f"no handoff {handoff_id}")
    transcript = [turn]
    if turn.conversation_id:
        turns = await run_in_threadpool(storage.conversation, turn.conversation_id)
        upto = next((i for i, t in enumerate(turns) if t.id == turn.id), len(turns) - 1)
        transcript = turns[: upto + 1] or [turn]
    return JSONResponse(handoff_record(turn, transcript))
