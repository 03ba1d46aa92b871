"""Durable query log and feedback: the records and the interface every backend implements.

The query log holds the masked question, the result ids and scores, the decision, the latency,
the channel and the time; feedback rows sit beside it. Text is masked with
:func:`qa_service.pii.mask_pii` before it reaches the database.

Backends, one module each, chosen by ``QA_DATABASE_URL`` (``open_storage``): SQLite in
``QA_DATA_DIR`` by default (one host, any number of workers), PostgreSQL for several hosts.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..conversation import KEEP_TURNS, Turn

if TYPE_CHECKING:
    from ..service import Answer

log = logging.getLogger(__name__)

DB_FILENAME = "qa-service.sqlite3"
VERDICTS = ("correct", "incorrect", "unanswerable")
SOURCES = ("customer", "agent")
# Customer-facing channels: what the review queue and the gap report look at.
CUSTOMER_CHANNELS = ("widget", "api")
# Confidence under which an answered question still goes to review, besides every
# escalation: answers the confidence model is least sure of get a human look.
REVIEW_BELOW = 0.95

# One entry per schema version; never edit a released one, append a new one.
MIGRATIONS: list[tuple[str, list[str]]] = [
    (
        "query log and feedback",
        [
            """CREATE TABLE queries (
                id          TEXT PRIMARY KEY,
                created_at  TEXT NOT NULL,
                channel     TEXT NOT NULL,
                language    TEXT NOT NULL,
                question    TEXT NOT NULL,
                escalate    INTEGER NOT NULL,
                reason      TEXT,
                confidence  REAL NOT NULL,
                answer_id   TEXT,
                results     TEXT NOT NULL,
                latency_ms  REAL NOT NULL
            )""",
            """CREATE TABLE feedback (
                id          INTEGER PRIMARY KEY AUTOINCREMENT,
                created_at  TEXT NOT NULL,
                query_id    TEXT NOT NULL,
                passage_id  TEXT,
                faq_id      TEXT,
                verdict     TEXT NOT NULL CHECK (verdict IN ('correct', 'incorrect', 'unanswerable')),
                reason      TEXT,
                comment     TEXT,
                source      TEXT NOT NULL CHECK (source IN ('customer', 'agent'))
            )""",
        ],
    ),
    (
        "indexes for the review queue and the feedback listing",
        [
            "CREATE INDEX queries_created ON queries (created_at)",
            "CREATE INDEX queries_review ON queries (escalate, confidence)",
            "CREATE INDEX feedback_query ON feedback (query_id)",
            "CREATE INDEX feedback_created ON feedback (created_at)",
        ],
    ),
    (
        "conversations and small talk",
        [
            "ALTER TABLE queries ADD COLUMN conversation_id TEXT",
            "ALTER TABLE queries ADD COLUMN reply_kind TEXT",
            "ALTER TABLE queries ADD COLUMN understood_as TEXT",
            "CREATE INDEX queries_conversation ON queries (conversation_id, created_at)",
        ],
    ),
]
SCHEMA_VERSION = len(MIGRATIONS)


class StorageError(RuntimeError):
    """The database cannot be opened or used; the message says why, in one line."""


class StorageUnavailable(StorageError):
    """The database went away while serving: the API answers 503 and recovers with it."""


def now_iso() -> str:
    """UTC, millisecond precision, sortable as text."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class QueryRecord:
    id: str
    created_at: str
    channel: str
    language: str
    question: str
    escalate: bool
    reason: str | None
    confidence: float
    answer_id: str | None
    results: list[dict]
    latency_ms: float
    conversation_id: str | None = None
    reply_kind: str | None = None  # small talk ("greeting"...): replied to, not answered
    understood_as: str | None = None  # a follow-up read with its context (masked)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FeedbackRecord:
    id: int
    created_at: str
    query_id: str
    passage_id: str | None
    faq_id: str | None
    verdict: str
    reason: str | None
    comment: str | None
    source: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ReviewItem:
    query: QueryRecord
    feedback_count: int
    agent_feedback_count: int
    times_asked: int = 1  # customer questions of the same wording in the queue

    def to_dict(self) -> dict[str, Any]:
        return dict(
            self.query.to_dict(),
            feedback_count=self.feedback_count,
            agent_feedback_count=self.agent_feedback_count,
            times_asked=self.times_asked,
        )


def faq_id_of(passage_id: str | None) -> str | None:
    """Passage ids are ``<faq_id>#<n>``."""
    return passage_id.split("#", 1)[0] if passage_id else None


class Storage(ABC):
    """What the service, the API and the CLI need from a database."""

    # Query-log lines dropped because the database failed (``/metrics``).
    dropped_log_lines = 0

    def health(self) -> str | None:
        """None when the database answers, else why not (one line, for ``/readyz``)."""
        return None

    @abstractmethod
    def log_query(self, answer: Answer, channel: str) -> None:
        """QAService's ``query_log`` hook; must never raise into the request."""

    @abstractmethod
    def get_query(self, query_id: str) -> QueryRecord | None: ...

    @abstractmethod
    def conversation(self, conversation_id: str, limit: int = 50) -> list[QueryRecord]:
        """The conversation's logged turns, oldest first (masked as stored)."""

    @abstractmethod
    def recent_turns(self, conversation_id: str, n: int = KEEP_TURNS) -> list[Turn]:
        """The conversation's last ``n`` logged turns, oldest first (``Conversations``)."""

    def add_turn(self, conversation_id: str, turn: Turn) -> None:  # noqa: B027
        """Nothing to do: ``log_query`` stored the turn."""

    @abstractmethod
    def add_feedback(
        self,
        query_id: str,
        verdict: str,
        *,
        passage_id: str | None = None,
        reason: str | None = None,
        comment: str | None = None,
        source: str = "customer",
    ) -> FeedbackRecord: ...

    @abstractmethod
    def list_feedback(
        self, *, limit: int = 50, source: str | None = None, query_id: str | None = None
    ) -> list[FeedbackRecord]: ...

    @abstractmethod
    def review_queue(
        self, *, limit: int = 50, below: float = REVIEW_BELOW, include_reviewed: bool = False
    ) -> list[ReviewItem]:
        """Recent customer questions that escalated or answered with low confidence."""

    @abstractmethod
    def verified(self) -> list[tuple[QueryRecord, list[FeedbackRecord]]]:
        """Queries with agent feedback, each with that feedback oldest first."""

    @abstractmethod
    def gap_questions(
        self, *, channels: Iterable[str] = CUSTOMER_CHANNELS, since: str | None = None
    ) -> list[QueryRecord]:
        """Escalated customer questions, plus any an agent marked unanswerable."""

    @abstractmethod
    def close(self) -> None: ...


def _query(row: Any) -> QueryRecord:
    return QueryRecord(
        id=row["id"],
        created_at=row["created_at"],
        channel=row["channel"],
        language=row["language"],
        question=row["question"],
        escalate=bool(row["escalate"]),
        reason=row["reason"],
        confidence=row["confidence"],
        answer_id=row["answer_id"],
        results=json.loads(row["results"]),
        latency_ms=row["latency_ms"],
        conversation_id=row["conversation_id"],
        reply_kind=row["reply_kind"],
        understood_as=row["understood_as"],
    )


def _feedback(row: Any) -> FeedbackRecord:
    return FeedbackRecord(
        id=row["id"],
        created_at=row["created_at"],
        query_id=row["query_id"],
        passage_id=row["passage_id"],
        faq_id=row["faq_id"],
        verdict=row["verdict"],
        reason=row["reason"],
        comment=row["comment"],
        source=row["source"],
    )
