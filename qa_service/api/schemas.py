"""Request and response models of the HTTP contract (docs/api.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..pipeline.normalise import clean

Channel = Literal["widget", "agent", "eval", "api"]
MAX_QUESTION_CHARS = 1000


class QueryRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    question: str = Field(
        description="1 to 1000 characters after trimming", examples=["忘记密码了怎么办?"]
    )
    top_k: int = Field(default=3, ge=1, le=20)
    channel: Channel = "api"
    conversation_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="the conversation this question belongs to; a new one when absent",
    )
    lang: Literal["zh", "en"] | None = Field(
        default=None,
        description="the reply's language, as the widget's data-lang sets it; when absent the "
        "message and its conversation set it",
    )

    @field_validator("question")
    @classmethod
    def _question_length(cls, v: str) -> str:
        v = clean(v)
        if not v:
            raise ValueError("question is empty after trimming")
        if len(v) > MAX_QUESTION_CHARS:
            raise ValueError(
                f"question has {len(v)} characters; at most {MAX_QUESTION_CHARS} allowed"
            )
        return v


class RelatedOut(BaseModel):
    faq_id: str
    title: str


class SpanOut(BaseModel):
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class OriginalOut(BaseModel):
    lang: str
    title: str | None = None
    text: str


class PassageOut(BaseModel):
    id: str
    faq_id: str
    title: str
    text: str
    score: float
    source: str
    # Entries that complete this answer (the contact entry lists each channel): ask their title.
    related: list[RelatedOut] = []
    # The sentence that answers best, as character offsets into ``text`` (shown in bold).
    highlights: list[SpanOut] = []
    lang: str = Field(default="zh", description="the language of ``text``")
    original: OriginalOut | None = Field(
        default=None, description="the text as the corpus wrote it, when ``text`` renders it"
    )


class OtherPassageOut(BaseModel):
    id: str
    text: str
    lang: str = "zh"
    original: OriginalOut | None = None


class AnswerOut(PassageOut):
    # The entry's other passages, one tap away: the customer is never left with half an answer.
    other_passages: list[OtherPassageOut] = []


class EscalationOut(BaseModel):
    url: str
    # A corpus's own escalating acts bring their own codes; clients treat an unknown one like
    # low_confidence.
    reason: str = Field(
        examples=[
            "low_confidence",
            "ambiguous",
            "out_of_scope",
            "no_index",
            "human_requested",
            "urgent",
        ]
    )
    message: str
    # When the best entry is on topic but lacks the detail asked for: that entry, to ask.
    related: list[RelatedOut] = []
    handoff_id: str | None = Field(
        default=None, description="opens the conversation for an agent: GET /v1/handoffs/{id}"
    )


class QueryResponse(BaseModel):
    query_id: str
    question: str
    escalate: bool
    confidence: float = Field(ge=0, le=1)
    answer: AnswerOut | None
    passages: list[PassageOut]
    escalation: EscalationOut | None
    language: Literal["zh", "en"]
    conversation_id: str
    reply: ReplyOut | None = None
    understood_as: str | None = Field(
        default=None, description="a follow-up as the service read it, with its context"
    )
    offer_human: OfferOut | None = None


class OfferOut(BaseModel):
    """After repeated failure: a person offered up front, whatever the reply."""

    url: str
    message: str


class ReplyOut(BaseModel):
    """Small talk: what the service says back ("greeting", "thanks", "goodbye", "ack")."""

    kind: str
    text: str


class ErrorResponse(BaseModel):
    error: str
    detail: object | None = None
