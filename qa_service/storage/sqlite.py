"""SQLite storage: one file in QA_DATA_DIR, shared by the workers of one host.

WAL mode, so the CLI (``feedback export``, ``gaps``) can read while the server writes. The
schema version lives in ``PRAGMA user_version``; :data:`MIGRATIONS` moves any older file
forward on open.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..pii import mask_pii
from ..pipeline.context import KEEP_TURNS, Turn
from .base import (
    CUSTOMER_CHANNELS,
    MIGRATIONS,
    PRUNE_EVERY,
    PRUNE_RATE_LIMITS_SQL,
    REVIEW_BELOW,
    SCHEMA_VERSION,
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


class SQLiteStorage(Storage):
    local = True

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One connection shared by the server's threads, serialised by a lock: SQLite
            # writes one at a time anyway, and each statement here takes well under a ms.
            self._conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=10.0
            )
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open the database {self.path}: {exc}") from exc
        self._lock = threading.Lock()
        self._conn.row_factory = sqlite3.Row
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a power cut may lose the last commits, never corrupt the file.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA busy_timeout=10000")
            self._migrate()
        except StorageError:
            self._conn.close()
            raise
        except sqlite3.Error as exc:
            self._conn.close()
            raise StorageError(f"cannot use the database {self.path}: {exc}") from exc

    # Schema --------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        with self._lock:
            return self._conn.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        with self._lock:
            # IMMEDIATE takes the write lock first, so two processes starting together
            # cannot both apply the same migration.
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                version = self._conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise StorageError(
                        f"{self.path} has schema version {version}, newer than this "
                        f"qa-service understands ({SCHEMA_VERSION}); upgrade qa-service"
                    )
                for number, (_, statements) in enumerate(MIGRATIONS, start=1):
                    if number <= version:
                        continue
                    for sql in statements:
                        self._conn.execute(sql)
                    self._conn.execute(f"PRAGMA user_version = {number}")
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    # Query log -----------------------------------------------------------------------

    def log_query(self, answer: Answer, channel: str) -> None:
        row = query_row(answer, channel)
        try:
            with self._lock:
                self._conn.execute(
                    "INSERT OR IGNORE INTO queries (id, created_at, channel, language, question,"
                    " escalate, reason, confidence, answer_id, results, latency_ms,"
                    " conversation_id, reply_kind, understood_as)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    row,
                )
        except sqlite3.Error as exc:
            # The customer still gets the answer; the question itself stays out of the log.
            self.dropped_log_lines += 1
            log.error("query log write failed for %s: %s", answer.query_id, exc)

    def recent_turns(self, conversation_id: str, n: int = KEEP_TURNS) -> list[Turn]:
        with self._lock:
            rows = self._conn.execute(
                recent_turns_sql("?", "rowid"), (conversation_id, int(n))
            ).fetchall()
        return turns_of(rows)

    def conversation(self, conversation_id: str, limit: int = 50) -> list[QueryRecord]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT * FROM queries WHERE conversation_id = ?"
                " ORDER BY created_at DESC, rowid DESC LIMIT ?",
                (conversation_id, int(limit)),
            ).fetchall()
        return [_query(r) for r in reversed(rows)]

    def get_query(self, query_id: str) -> QueryRecord | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM queries WHERE id = ?", (query_id,)).fetchone()
        return _query(row) if row else None

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
        with self._lock:
            # A 201 promises the record is kept: this commit is synced to disk (FULL), not
            # only handed to the OS as the query log's are (NORMAL), so a power cut keeps it.
            self._conn.execute("PRAGMA synchronous=FULL")
            try:
                cur = self._conn.execute(
                    "INSERT INTO feedback (created_at, query_id, passage_id, faq_id, verdict,"
                    " reason, comment, source) VALUES (?,?,?,?,?,?,?,?)",
                    (*values, source),
                )
            finally:
                self._conn.execute("PRAGMA synchronous=NORMAL")
            new_id = int(cur.lastrowid or 0)
        return FeedbackRecord(new_id, *values, source)

    def list_feedback(
        self, *, limit: int = 50, source: str | None = None, query_id: str | None = None
    ) -> list[FeedbackRecord]:
        sql, args = feedback_sql("?", source, query_id)
        with self._lock:
            rows = self._conn.execute(sql, (*args, int(limit))).fetchall()
        return [_feedback(r) for r in rows]

    # Review and closing the loop ---------------------------------------------------

    def review_queue(
        self, *, limit: int = 50, below: float = REVIEW_BELOW, include_reviewed: bool = False
    ) -> list[ReviewItem]:
        sql = review_sql("?", "rowid", include_reviewed)
        with self._lock:
            rows = self._conn.execute(
                sql, (*CUSTOMER_CHANNELS, float(below), int(limit))
            ).fetchall()
        return review_items(rows)

    def verified(self) -> list[tuple[QueryRecord, list[FeedbackRecord]]]:
        with self._lock:
            fb_rows = self._conn.execute(VERIFIED_FEEDBACK_SQL).fetchall()
            q_rows = self._conn.execute(VERIFIED_QUERIES_SQL).fetchall()
        return verified_pairs(fb_rows, q_rows)

    def gap_questions(
        self, *, channels: Iterable[str] = CUSTOMER_CHANNELS, since: str | None = None
    ) -> list[QueryRecord]:
        channels = list(channels)
        marks = ",".join("?" * len(channels))
        sql = f"""
            SELECT * FROM queries q
            WHERE (q.escalate = 1 AND q.channel IN ({marks}))
               OR EXISTS (SELECT 1 FROM feedback f WHERE f.query_id = q.id
                          AND f.source = 'agent' AND f.verdict = 'unanswerable')
        """
        args: list[Any] = list(channels)
        if since:
            sql = f"SELECT * FROM ({sql}) WHERE created_at >= ?"
            args.append(since)
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY created_at", args).fetchall()
        return [_query(r) for r in rows]

    # Replicas and the shared rate limit -----------------------------------------------

    def report_replica(self, status: ReplicaStatus) -> None:
        with self._lock:
            self._conn.execute(report_replica_sql("?"), replica_args(status))

    def replicas(self, seen_since: float) -> list[ReplicaStatus]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT * FROM replicas WHERE seen_at >= ? ORDER BY id", (seen_since,)
            ).fetchall()
        return replica_rows(rows)

    def forget_replica(self, replica_id: str, older_than: float | None = None) -> None:
        with self._lock:
            self._conn.execute(
                "DELETE FROM replicas WHERE id = ? OR seen_at < ?",
                (replica_id, older_than if older_than is not None else 0.0),
            )

    _TAKE_TOKEN = take_token_sql(":{}", "MAX")
    _takes = 0

    def take_token(self, key: str, interval: float, burst: float, now: float) -> tuple[bool, float]:
        args = {"key": key, "now": now, "interval": interval, "burst": burst}
        with self._lock:
            # One statement, one implicit transaction: the workers of a host share the count.
            allowed, tat = self._conn.execute(self._TAKE_TOKEN, args).fetchone()
            self._takes += 1
            if self._takes % PRUNE_EVERY == 0:
                self._conn.execute(PRUNE_RATE_LIMITS_SQL.format("?"), (now,))
        return bool(allowed), float(tat)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
