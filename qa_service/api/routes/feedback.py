"""Feedback from customers and agents, and the agents' review listings.

``POST /v1/feedback`` answers 201 with the stored record, 404 when the query id was never
logged (feedback must point at a real question), 422 for a bad body (unknown verdict, malformed
ids, over-long comment). Recording feedback as ``source: agent`` and reading the listings need
the agent token when ``QA_AGENT_TOKEN`` is set (401 otherwise).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from ...storage import REVIEW_BELOW
from ..deps import SettingsDep, StorageDep, agent_locked, agent_token_ok, check_agent, require_agent
from ..responses import JSONResponse
from ..schemas import ErrorResponse

router = APIRouter(prefix="/v1", tags=["feedback"])

QUERY_ID = r"^q_[0-9A-HJKMNP-TV-Z]{26}$"
PASSAGE_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}(#[0-9]{1,6})?$"


def _error(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers or None)


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    query_id: str = Field(pattern=QUERY_ID, description="query_id returned by /v1/query")
    passage_id: str | None = Field(
        default=None, pattern=PASSAGE_ID, description="the passage judged, if any"
    )
    verdict: Literal["correct", "incorrect", "unanswerable"]
    reason: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="machine-readable code"
    )
    comment: str | None = Field(default=None, max_length=2000)
    source: Literal["customer", "agent"] = Field(
        default="customer", description="'agent' needs the agent token when one is configured"
    )


class FeedbackOut(BaseModel):
    id: int
    created_at: str
    query_id: str
    passage_id: str | None
    faq_id: str | None
    verdict: str
    reason: str | None
    comment: str | None
    source: str


@router.post(
    "/feedback",
    status_code=201,
    response_model=FeedbackOut,
    responses={
        401: {"model": ErrorResponse},
        404: {"model": ErrorResponse},
        422: {"model": ErrorResponse},
    },
    summary="Store a verdict on an answer; returns the stored record with its id",
)
async def post_feedback(
    body: FeedbackIn, request: Request, storage: StorageDep, settings: SettingsDep
) -> JSONResponse:
    if body.source == "agent":
        check_agent(request, settings)
    # With query logging switched off there is nothing to check the id against.
    if settings.log_queries:
        known = await run_in_threadpool(storage.get_query, body.query_id)
        if known is None:
            return _error(404, f"unknown query_id {body.query_id}")
    record = await run_in_threadpool(
        storage.add_feedback,
        body.query_id,
        body.verdict,
        passage_id=body.passage_id,
        reason=body.reason,
        comment=(body.comment or "").strip() or None,
        source=body.source,
    )
    return JSONResponse(record.to_dict(), status_code=201)


@router.get(
    "/feedback",
    dependencies=[Depends(require_agent)],
    responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}},
    summary="Recent feedback, newest first (agent token)",
)
async def list_feedback(
    storage: StorageDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    source: Literal["customer", "agent"] | None = None,
    query_id: Annotated[str | None, Query(pattern=QUERY_ID)] = None,
) -> JSONResponse:
    items = await run_in_threadpool(
        storage.list_feedback, limit=limit, source=source, query_id=query_id
    )
    return JSONResponse({"items": [r.to_dict() for r in items]})


@router.get(
    "/review",
    dependencies=[Depends(require_agent)],
    responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}},
    summary="Recent escalated or low-confidence customer questions, PII-masked (agent token)",
)
async def review(
    storage: StorageDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    below: Annotated[float, Query(ge=0.0, le=1.0, description="low-confidence cut")] = REVIEW_BELOW,
    include_reviewed: bool = False,
) -> JSONResponse:
    items = await run_in_threadpool(
        storage.review_queue, limit=limit, below=below, include_reviewed=include_reviewed
    )
    return JSONResponse({"items": [i.to_dict() for i in items]})


@router.get(
    "/agent/session",
    summary="Whether an agent token is needed and whether this request carries a valid one",
)
async def agent_session(request: Request, settings: SettingsDep) -> JSONResponse:
    # Always 200: the console asks this before it has a token, and a 401 here is no error.
    return JSONResponse(
        {
            "token_required": bool(settings.agent_token) or agent_locked(settings),
            "authenticated": agent_token_ok(request, settings),
        }
    )
