"""PostgreSQL storage: one database shared by every replica (``QA_DATABASE_URL=postgresql://…``).

psycopg 3 with a connection pool. Migrations are versioned like SQLite's and run on start
under an advisory lock, so replicas starting together do not race. Every write commits
before it returns, so a 201 means the record is stored. A query-log write that fails is
logged and dropped: the customer still gets the answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..pii import mask_pii
from ..pipeline.context import KEEP_TURNS, Turn
from .base import (
    CUSTOMER_CHANNELS,
    PRUNE_EVERY,
    PRUNE_RATE_LIMITS_SQL,
    RATE_LIMITS_TABLE,
    REPLICAS_TABLE,
    REVIEW_BELOW,
    SOURCES,
    VERDICTS,
    VERIFIED_FEEDBACK_SQL,
    VERIFIED_QUERIES_SQL,
    FeedbackRecord,
    QueryRecord,
    ReplicaStatus,
    ReviewItem,
    Storage,
    StorageError,
    StorageUnavailable,
    _feedback,
    _query,
    faq_id_of,
    feedback_sql,
    log,
    now_iso,
    query_row,
    recent_turns_sql,
    replica_args,
    replica_rows,
    report_replica_sql,
    review_items,
    review_sql,
    take_token_sql,
    turns_of,
    verified_pairs,
)

if TYPE_CHECKING:
    from ..pipeline.respond import Answer

# An arbitrary constant: the advisory lock every replica takes to migrate.
MIGRATION_LOCK = 7_305_001
# One entry per schema version, as in SQLite; never edit a released one.
PG_MIGRATIONS: list[tuple[str, list[str]]] = [
    (
        "query log, feedback and conversations",
        [
            """CREATE TABLE queries (
                seq             BIGSERIAL UNIQUE,
                id              TEXT PRIMARY KEY,
                created_at      TEXT NOT NULL,
                channel         TEXT NOT NULL,
                language        TEXT NOT NULL,
                question        TEXT NOT NULL,
                escalate        BOOLEAN NOT NULL,
                reason          TEXT,
                confidence      DOUBLE PRECISION NOT NULL,
                answer_id       TEXT,
                results         TEXT NOT NULL,
                latency_ms      DOUBLE PRECISION NOT NULL,
                conversation_id TEXT,
                reply_kind      TEXT,
                understood_as   TEXT
            )""",
            """CREATE TABLE feedback (
                id          BIGSERIAL PRIMARY KEY,
                created_at  TEXT NOT NULL,
                query_id    TEXT NOT NULL,
                passage_id  TEXT,
                faq_id      TEXT,
                verdict     TEXT NOT NULL CHECK (verdict IN ('correct', 'incorrect', 'unanswerable')),
                reason      TEXT,
                comment     TEXT,
                source      TEXT NOT NULL CHECK (source IN ('customer', 'agent'))
            )""",
            "CREATE INDEX queries_created ON queries (created_at)",
            "CREATE INDEX queries_review ON queries (escalate, confidence)",
            "CREATE INDEX queries_conversation ON queries (conversation_id, created_at)",
            "CREATE INDEX feedback_query ON feedback (query_id)",
            "CREATE INDEX feedback_created ON feedback (created_at)",
        ],
    ),
    ("replicas and the shared rate limit", [REPLICAS_TABLE, RATE_LIMITS_TABLE]),
]
PG_SCHEMA_VERSION = len(PG_MIGRATIONS)
# How long a query-log write waits for a connection before it drops the line.
LOG_WAIT_S = 1.0
# How long any other call waits before it reports the database unavailable (a 503).
WAIT_S = 3.0


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class PostgresStorage(Storage):
    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 8, timeout: float = 10.0):
        try:
            import psycopg
            from psycopg.rows import dict_row
            from psycopg_pool import ConnectionPool
        except ImportError as exc:  # the postgres extra is not installed
            raise StorageError(
                "QA_DATABASE_URL names PostgreSQL, but psycopg is not installed: "
                "pip install 'qa-service[postgres]'"
            ) from exc
        self.url = url
        try:
            # Fail fast, in one line, on a database that is not there; the pool would retry.
            psycopg.connect(url, connect_timeout=5).close()
        except psycopg.Error as exc:
            raise StorageError(f"cannot use the PostgreSQL database: {_one_line(exc)}") from None
        try:
            self._pool = ConnectionPool(
                url,
                min_size=min_size,
                max_size=max_size,
                timeout=timeout,
                kwargs={"row_factory": dict_row, "autocommit": True},
                # A connection is checked before use: after the database restarts, broken
                # ones are replaced, and the service recovers by itself.
                check=ConnectionPool.check_connection,
                open=True,
            )
            self._pool.wait(timeout)
            self._migrate()
        except Exception as exc:
            if hasattr(self, "_pool"):
                self._pool.close()
            if isinstance(exc, StorageError):
                raise
            raise StorageError(f"cannot use the PostgreSQL database: {exc}") from exc

    # Schema --------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        with self._pool.connection() as conn:
            row = conn.execute("SELECT max(version) AS v FROM schema_migrations").fetchone()
        return int(row["v"] or 0)

    def _migrate(self) -> None:
        with self._pool.connection() as conn, conn.transaction():
            # Transaction-scoped: released at commit, even if this process dies meanwhile.
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations"
                " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            row = conn.execute("SELECT max(version) AS v FROM schema_migrations").fetchone()
            version = int(row["v"] or 0)
            if version > PG_SCHEMA_VERSION:
                raise StorageError(
                    f"the database has schema version {version}, newer than this qa-service "
                    f"understands ({PG_SCHEMA_VERSION}); upgrade qa-service"
                )
            for number, (name, statements) in enumerate(PG_MIGRATIONS, start=1):
                if number <= version:
                    continue
                for sql in statements:
                    conn.execute(sql)
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (%s, %s, %s)", (number, name, now_iso())
                )

    def _all(self, sql: str, args: Iterable[Any] | Mapping[str, Any] = ()) -> list[dict]:
        params = args if isinstance(args, Mapping) else tuple(args)
        try:
            with self._pool.connection(timeout=WAIT_S) as conn:
                cur = conn.execute(sql, params)
                return cur.fetchall() if cur.description is not None else []
        except Exception as exc:  # psycopg errors and pool timeouts alike
            log.error("database unavailable: %s", _one_line(exc))
            raise StorageUnavailable(f"the database is unavailable: {_one_line(exc)}") from exc

    def health(self) -> str | None:
        try:
            self._all("SELECT 1")
        except StorageUnavailable as exc:
            return str(exc)
        return None

    # Query log -----------------------------------------------------------------------

    def log_query(self, answer: Answer, channel: str) -> None:
        row = query_row(answer, channel)
        try:
            # A short wait: a database that is gone must not hold up the answer.
            with self._pool.connection(timeout=LOG_WAIT_S) as conn:
                conn.execute(
                    "INSERT INTO queries (id, created_at, channel, language, question, escalate,"
                    " reason, confidence, answer_id, results, latency_ms, conversation_id,"
                    " reply_kind, understood_as)"
                    " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
                    " ON CONFLICT (id) DO NOTHING",
                    row,
                )
        except Exception as exc:  # a pool timeout as much as a database error
            # The customer still gets the answer; the question itself stays out of the log.
            self.dropped_log_lines += 1
            log.error("query log write failed for %s: %s", answer.query_id, _one_line(exc))

    def recent_turns(self, conversation_id: str, n: int = KEEP_TURNS) -> list[Turn]:
        return turns_of(self._all(recent_turns_sql("%s", "seq"), (conversation_id, int(n))))

    def conversation(self, conversation_id: str, limit: int = 50) -> list[QueryRecord]:
        rows = self._all(
            "SELECT * FROM queries WHERE conversation_id = %s"
            " ORDER BY created_at DESC, seq DESC LIMIT %s",
            (conversation_id, int(limit)),
        )
        return [_query(r) for r in reversed(rows)]

    def get_query(self, query_id: str) -> QueryRecord | None:
        rows = self._all("SELECT * FROM queries WHERE id = %s", (query_id,))
        return _query(rows[0]) if rows else None

    # Feedback ------------------------------------------------------------------------

    def add_feedback(
        self,
        query_id: str,
        verdict: str,
        *,
        passage_id: str | None = None,
        reason: str | None = None,
        comment: str | None = None,
        source: str = "customer",
    ) -> FeedbackRecord:
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
        if source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
        created = now_iso()
        comment = mask_pii(comment) if comment else None
        reason = mask_pii(reason) if reason else None
        values = (created, query_id, passage_id, faq_id_of(passage_id), verdict, reason, comment)
        # Autocommit: the INSERT is committed (and, with PostgreSQL's defaults, flushed to
        # its WAL) before the id comes back, so a 201 means the record is kept.
        rows = self._all(
            "INSERT INTO feedback (created_at, query_id, passage_id, faq_id, verdict, reason,"
            " comment, source) VALUES (%s,%s,%s,%s,%s,%s,%s,%s) RETURNING id",
            (*values, source),
        )
        return FeedbackRecord(int(rows[0]["id"]), *values, source)

    def list_feedback(
        self, *, limit: int = 50, source: str | None = None, query_id: str | None = None
    ) -> list[FeedbackRecord]:
        sql, args = feedback_sql("%s", source, query_id)
        return [_feedback(r) for r in self._all(sql, (*args, int(limit)))]

    # Review and closing the loop ---------------------------------------------------

    def review_queue(
        self, *, limit: int = 50, below: float = REVIEW_BELOW, include_reviewed: bool = False
    ) -> list[ReviewItem]:
        sql = review_sql("%s", "seq", include_reviewed)
        return review_items(self._all(sql, (*CUSTOMER_CHANNELS, float(below), int(limit))))

    def verified(self) -> list[tuple[QueryRecord, list[FeedbackRecord]]]:
        return verified_pairs(self._all(VERIFIED_FEEDBACK_SQL), self._all(VERIFIED_QUERIES_SQL))

    def gap_questions(
        self, *, channels: Iterable[str] = CUSTOMER_CHANNELS, since: str | None = None
    ) -> list[QueryRecord]:
        channels = list(channels)
        marks = ",".join(["%s"] * len(channels))
        sql = f"""
            SELECT * FROM queries q
            WHERE ((q.escalate AND q.channel IN ({marks}))
               OR EXISTS (SELECT 1 FROM feedback f WHERE f.query_id = q.id
                          AND f.source = 'agent' AND f.verdict = 'unanswerable'))
        """
        args: list[Any] = list(channels)
        if since:
            sql += " AND q.created_at >= %s"
            args.append(since)
        return [_query(r) for r in self._all(sql + " ORDER BY created_at", args)]

    # Replicas and the shared rate limit -----------------------------------------------

    def report_replica(self, status: ReplicaStatus) -> None:
        self._all(report_replica_sql("%s"), replica_args(status))

    def replicas(self, seen_since: float) -> list[ReplicaStatus]:
        rows = self._all("SELECT * FROM replicas WHERE seen_at >= %s ORDER BY id", (seen_since,))
        return replica_rows(rows)

    def forget_replica(self, replica_id: str, older_than: float | None = None) -> None:
        self._all(
            "DELETE FROM replicas WHERE id = %s OR seen_at < %s",
            (replica_id, older_than if older_than is not None else 0.0),
        )

    _TAKE_TOKEN = take_token_sql("%({})s", "GREATEST")
    _takes = 0

    def take_token(self, key: str, interval: float, burst: float, now: float) -> tuple[bool, float]:
        args = {"key": key, "now": now, "interval": interval, "burst": burst}
        # The upsert locks the client's row: replicas taking tokens for one client queue on it.
        row = self._all(self._TAKE_TOKEN, args)[0]
        self._takes += 1
        if self._takes % PRUNE_EVERY == 0:
            self._all(PRUNE_RATE_LIMITS_SQL.format("%s"), (now,))
        return bool(row["allowed"]), float(row["tat"])

    def close(self) -> None:
        self._pool.close()
