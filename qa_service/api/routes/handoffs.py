"""GET /v1/handoffs/{id}: an escalation as a helpdesk or an agent takes it over
(``qa_service.handoffs`` says what the record holds)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path
from fastapi.concurrency import run_in_threadpool

from ...handoffs import load_handoff
from ..deps import StorageDep, require_agent
from ..responses import JSONResponse
from ..schemas import ErrorResponse
from .feedback import QUERY_ID, _error

router = APIRouter(prefix="/v1", tags=["handoffs"])


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
    record = await run_in_threadpool(load_handoff, storage, handoff_id)
    if record is None:
        return _error(404, f"no handoff {handoff_id}")
    return JSONResponse(record)
