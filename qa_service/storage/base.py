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

from ..pii import mask_pii
from ..pipeline.context import KEEP_TURNS, Turn

if TYPE_CHECKING:
    from ..pipeline.respond import Answer

log = logging.getLogger(__name__)

DB_FILENAME = "qa-service.sqlite3"
VERDICTS = ("correct", "incorrect", "unanswerable")
SOURCES = ("customer", "agent")
# Customer-facing channels: what the review queue and the gap report look at.
CUSTOMER_CHANNELS = ("widget", "api")
# Confidence under which an answered question still goes to review, besides every
# escalation: answers the confidence model is least sure of get a human look.
REVIEW_BELOW = 0.95

# Each serving process, what it serves and when it last said so (``qa_service.replica``).
REPLICAS_TABLE = """CREATE TABLE replicas (
    id          TEXT PRIMARY KEY,
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    started_at  TEXT NOT NULL,
    seen_at     DOUBLE PRECISION NOT NULL,
    build_id    TEXT,
    published   TEXT,
    error       TEXT
)"""
# One row per client: its GCRA "theoretical arrival time" in epoch seconds (``ratelimit``).
RATE_LIMITS_TABLE = """CREATE TABLE rate_limits (
    key      TEXT PRIMARY KEY,
    tat      DOUBLE PRECISION NOT NULL,
    allowed  BOOLEAN NOT NULL
)"""

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
    (
        "replicas and the shared rate limit",
        [
            REPLICAS_TABLE.replace("DOUBLE PRECISION", "REAL"),
            RATE_LIMITS_TABLE.replace("DOUBLE PRECISION", "REAL"),
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
class ReplicaStatus:
    """What one serving process reports: the build it serves, the build published in the
    index directory, and why it refused that one if it did."""

    id: str
    host: str
    pid: int
    started_at: str
    seen_at: float  # epoch seconds of its last report
    build_id: str | None
    published: str | None
    error: str | None = None

    def to_dict(self, now: float | None = None) -> dict[str, Any]:
        d = asdict(self)
        if now is not None:
            d["seen_s_ago"] = round(max(0.0, now - self.seen_at), 1)
        return d


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
    # Every call is local file I/O (SQLite): short enough to make on the event loop, where a
    # lone question is answered (``api.routes.query``). A server's round trips, and its
    # waits while it is gone, are not.
    local = False

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

    # Replicas and the shared rate limit -----------------------------------------------

    @abstractmethod
    def report_replica(self, status: ReplicaStatus) -> None:
        """Insert or refresh this process's row."""

    @abstractmethod
    def replicas(self, seen_since: float) -> list[ReplicaStatus]:
        """Every process that reported at or after ``seen_since`` (epoch seconds)."""

    @abstractmethod
    def forget_replica(self, replica_id: str, older_than: float | None = None) -> None:
        """Drop this process's row (it is stopping), and any not seen since ``older_than``."""

    @abstractmethod
    def take_token(self, key: str, interval: float, burst: float, now: float) -> tuple[bool, float]:
        """One GCRA step for ``key`` (``ratelimit.gcra``), atomic across processes:
        whether the request may pass, and the stored arrival time after the step."""

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


# SQL and row handling both backends share; ``mark`` is the driver's placeholder ("?", "%s")
# and ``seq`` the column that orders rows written in the same millisecond.


def turns_of(rows: Iterable[Any]) -> list[Turn]:
    """Conversation turns from query rows, newest first, as oldest first."""
    return [
        Turn(
            question=r["question"],
            faq_id=r["answer_id"].split("#", 1)[0] if r["answer_id"] else None,
            escalated=bool(r["escalate"]),
            reason=r["reason"],
            reply_kind=r["reply_kind"],
            understood_as=r["understood_as"],
            language=r["language"],
            unhelpful=bool(r["unhelpful"]),
        )
        for r in reversed(list(rows))
    ]


def recent_turns_sql(mark: str, seq: str) -> str:
    # A customer's "not helpful" vote on a turn counts as a failure of it (``failing``).
    return (
        "SELECT question, answer_id, escalate, reason, reply_kind, understood_as, language,"
        " EXISTS (SELECT 1 FROM feedback f WHERE f.query_id = queries.id"
        " AND f.source = 'customer' AND f.verdict = 'incorrect') AS unhelpful"
        " FROM queries"
        f" WHERE conversation_id = {mark} ORDER BY created_at DESC, {seq} DESC LIMIT {mark}"
    )


def review_sql(mark: str, seq: str, include_reviewed: bool) -> str:
    """One row per wording: the newest copy, with how often it was asked. A wording an agent
    has judged once counts as reviewed. Emergencies come first. Arguments: the customer
    channels, the low-confidence cut, the limit."""
    marks = ",".join([mark] * len(CUSTOMER_CHANNELS))
    reviewed = """EXISTS (SELECT 1 FROM feedback f JOIN queries r ON r.id = f.query_id
                          WHERE f.source = 'agent' AND r.question = q.question)"""
    return f"""
        WITH c AS (
          SELECT q.*,
                 (SELECT COUNT(*) FROM feedback f WHERE f.query_id = q.id) AS n_fb,
                 (SELECT COUNT(*) FROM feedback f
                   WHERE f.query_id = q.id AND f.source = 'agent') AS n_agent,
                 COUNT(*) OVER (PARTITION BY q.question) AS times_asked,
                 ROW_NUMBER() OVER (
                   PARTITION BY q.question ORDER BY q.created_at DESC, q.{seq} DESC
                 ) AS newest
          FROM queries q
          WHERE q.channel IN ({marks}) AND (q.escalate = TRUE OR q.confidence < {mark})
            AND q.reply_kind IS NULL
          {"" if include_reviewed else "AND NOT " + reviewed}
        )
        SELECT * FROM c WHERE newest = 1
        ORDER BY (reason = 'urgent') DESC NULLS LAST, created_at DESC LIMIT {mark}
    """


def query_row(answer: Answer, channel: str) -> tuple:
    """The query log's row for one answer, in column order, its text masked."""
    results = [{"id": p["id"], "faq_id": p["faq_id"], "score": p["score"]} for p in answer.passages]
    return (
        answer.query_id,
        now_iso(),
        channel,
        answer.language,
        mask_pii(answer.question),
        bool(answer.escalate),
        (answer.escalation or {}).get("reason"),
        float(answer.confidence),
        answer.answer["id"] if answer.answer else None,
        json.dumps(results, ensure_ascii=False),
        round(float(answer.latency_ms), 3),
        answer.conversation_id,
        (answer.reply or {}).get("kind"),
        mask_pii(answer.understood_as) if answer.understood_as else None,
    )


def replica_rows(rows: Iterable[Any]) -> list[ReplicaStatus]:
    return [
        ReplicaStatus(
            id=r["id"],
            host=r["host"],
            pid=int(r["pid"]),
            started_at=r["started_at"],
            seen_at=float(r["seen_at"]),
            build_id=r["build_id"],
            published=r["published"],
            error=r["error"],
        )
        for r in rows
    ]


def report_replica_sql(mark: str) -> str:
    return (
        "INSERT INTO replicas (id, host, pid, started_at, seen_at, build_id, published, error)"
        f" VALUES ({', '.join([mark] * 8)}) ON CONFLICT (id) DO UPDATE SET"
        " seen_at = excluded.seen_at, build_id = excluded.build_id,"
        " published = excluded.published, error = excluded.error"
    )


def replica_args(s: ReplicaStatus) -> tuple:
    return (s.id, s.host, s.pid, s.started_at, s.seen_at, s.build_id, s.published, s.error)


def take_token_sql(param: str, greatest: str) -> str:
    """GCRA as one upsert, so concurrent processes cannot both take the last token: the row's
    arrival time moves on by ``interval`` when the request is within ``burst``, else stays.
    ``param`` formats a named parameter (":{}", "%({})s"); ``greatest`` is MAX or GREATEST."""
    key, now, interval, burst = (param.format(n) for n in ("key", "now", "interval", "burst"))
    late = f"{greatest}(rate_limits.tat, {now})"
    return f"""
        INSERT INTO rate_limits (key, tat, allowed) VALUES ({key}, {now} + {interval}, TRUE)
        ON CONFLICT (key) DO UPDATE SET
          allowed = ({late} - {now} <= {burst}),
          tat = CASE WHEN {late} - {now} <= {burst} THEN {late} + {interval}
                     ELSE rate_limits.tat END
        RETURNING allowed, tat
    """


# Rows of clients whose bucket has refilled say nothing: dropped every so many calls.
PRUNE_EVERY = 1000
PRUNE_RATE_LIMITS_SQL = "DELETE FROM rate_limits WHERE tat < {}"


def review_items(rows: Iterable[Any]) -> list[ReviewItem]:
    return [
        ReviewItem(_query(r), int(r["n_fb"]), int(r["n_agent"]), int(r["times_asked"]))
        for r in rows
    ]


def feedback_sql(mark: str, source: str | None, query_id: str | None) -> tuple[str, list[Any]]:
    """The feedback listing, newest first; the limit is the last argument."""
    where, args = [], []
    if source:
        where.append(f"source = {mark}")
        args.append(source)
    if query_id:
        where.append(f"query_id = {mark}")
        args.append(query_id)
    sql = "SELECT * FROM feedback" + (" WHERE " + " AND ".join(where) if where else "")
    return sql + f" ORDER BY id DESC LIMIT {mark}", args


VERIFIED_FEEDBACK_SQL = "SELECT * FROM feedback WHERE source = 'agent' ORDER BY created_at, id"
VERIFIED_QUERIES_SQL = (
    "SELECT * FROM queries WHERE id IN"
    " (SELECT query_id FROM feedback WHERE source = 'agent') ORDER BY created_at"
)


def verified_pairs(
    fb_rows: Iterable[Any], q_rows: Iterable[Any]
) -> list[tuple[QueryRecord, list[FeedbackRecord]]]:
    by_query: dict[str, list[FeedbackRecord]] = {}
    for r in fb_rows:
        by_query.setdefault(r["query_id"], []).append(_feedback(r))
    return [(_query(r), by_query.get(r["id"], [])) for r in q_rows]
