"""SQLite storage: query log, feedback, review queue, migrations, concurrency, durability."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

import pytest

from qa_service.config import Settings
from qa_service.pipeline.respond import Answer
from qa_service.service import QAService
from qa_service.storage import (
    DB_FILENAME,
    MIGRATIONS,
    SCHEMA_VERSION,
    SQLiteStorage,
    Storage,
    StorageError,
    open_storage,
)

CARD = "4111111111111111"
PHONE = "13812345678"


@pytest.fixture()
def storage(tmp_path: Path) -> SQLiteStorage:
    s = SQLiteStorage(tmp_path / DB_FILENAME)
    yield s
    s.close()


@pytest.fixture(params=["sqlite", "postgres"])
def any_storage(request, tmp_path: Path):
    """Each backend behind the same interface: the tests below run against both."""
    if request.param == "sqlite":
        s = SQLiteStorage(tmp_path / DB_FILENAME)
    else:
        from qa_service.storage.postgres import PostgresStorage

        s = PostgresStorage(request.getfixturevalue("postgres").new_database())
    yield s
    s.close()


@pytest.fixture(scope="module")
def answers(service: QAService) -> dict[str, Answer]:
    """Real answers from the real service: one confident, one escalated, one with PII."""
    return {
        "answered": service.ask("忘记密码了怎么办?"),
        "escalated": service.ask("今天天气怎么样"),
        "pii": service.ask(f"卡号{CARD}绑定失败,手机{PHONE},邮箱 zhang@qq.com"),
    }


def raw(path: Path, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, args).fetchall()


def test_new_database_is_wal_and_current(storage: SQLiteStorage) -> None:
    assert raw(storage.path, "PRAGMA journal_mode") == [("wal",)]
    assert storage.schema_version == SCHEMA_VERSION == len(MIGRATIONS)


def test_query_log_row(any_storage: Storage, answers: dict[str, Answer]) -> None:
    a = answers["answered"]
    any_storage.log_query(a, "widget")
    rec = any_storage.get_query(a.query_id)
    assert rec is not None
    assert rec.question == a.question and rec.channel == "widget" and rec.language == "zh"
    assert rec.escalate is False and rec.reason is None and rec.confidence == a.confidence
    assert rec.answer_id == a.answer["id"]
    assert rec.results == [
        {"id": p["id"], "faq_id": p["faq_id"], "score": p["score"]} for p in a.passages
    ]
    assert rec.latency_ms == pytest.approx(a.latency_ms, abs=0.001)
    assert rec.created_at.endswith("Z") and rec.created_at[:2] == "20"


def test_escalated_query_keeps_reason(any_storage: Storage, answers: dict[str, Answer]) -> None:
    a = answers["escalated"]
    any_storage.log_query(a, "api")
    rec = any_storage.get_query(a.query_id)
    assert rec.escalate is True and rec.reason == a.escalation["reason"]
    assert rec.answer_id is None and len(rec.results) == len(a.passages)


def test_question_is_masked_before_storage(
    storage: SQLiteStorage, answers: dict[str, Answer]
) -> None:
    storage.log_query(answers["pii"], "widget")
    stored = storage.get_query(answers["pii"].query_id).question
    assert stored == "卡号[CARD]绑定失败,手机[PHONE],邮箱 [EMAIL]"
    blob = b"".join(p.read_bytes() for p in storage.path.parent.iterdir())
    for secret in (CARD, PHONE, "zhang@qq.com"):
        assert secret.encode() not in blob


def test_feedback_is_stored_and_masked(any_storage: Storage, answers: dict[str, Answer]) -> None:
    a = answers["answered"]
    any_storage.log_query(a, "widget")
    first = any_storage.add_feedback(a.query_id, "correct", passage_id=a.answer["id"])
    second = any_storage.add_feedback(
        a.query_id,
        "incorrect",
        passage_id="account-safety#1",
        reason="wrong_entry",
        comment=f"customer left {PHONE}",
        source="agent",
    )
    assert second.id > first.id
    assert first.faq_id == "password-reset" and first.source == "customer"
    assert second.comment == "customer left [PHONE]" and second.faq_id == "account-safety"
    assert [f.id for f in any_storage.list_feedback()] == [second.id, first.id]
    assert [f.id for f in any_storage.list_feedback(source="agent")] == [second.id]
    assert [f.id for f in any_storage.list_feedback(query_id=a.query_id, limit=1)] == [second.id]


def test_feedback_rejects_bad_values(any_storage: Storage) -> None:
    with pytest.raises(ValueError, match="verdict"):
        any_storage.add_feedback("q_x", "maybe")
    with pytest.raises(ValueError, match="source"):
        any_storage.add_feedback("q_x", "correct", source="robot")


def test_review_queue(any_storage: Storage, answers: dict[str, Answer], service: QAService) -> None:
    any_storage.log_query(answers["answered"], "widget")  # confident: not for review
    any_storage.log_query(answers["escalated"], "widget")
    agent_side = service.ask("今天天气怎么样")
    any_storage.log_query(agent_side, "agent")  # agents' own searches are not customer questions
    queue = any_storage.review_queue()
    assert [i.query.id for i in queue] == [answers["escalated"].query_id]
    # Everything below the cut counts as low confidence.
    everything = {i.query.id for i in any_storage.review_queue(below=1.01)}
    assert answers["answered"].query_id in everything
    any_storage.add_feedback(answers["escalated"].query_id, "unanswerable", source="agent")
    assert any_storage.review_queue() == []
    again = any_storage.review_queue(include_reviewed=True)
    assert again[0].agent_feedback_count == 1 and again[0].feedback_count == 1


def test_verified_and_gap_questions(any_storage: Storage, answers: dict[str, Answer]) -> None:
    for a in answers.values():
        any_storage.log_query(a, "widget")
    a = answers["answered"]
    any_storage.add_feedback(a.query_id, "correct", passage_id=a.answer["id"])  # customer: ignored
    assert any_storage.verified() == []
    any_storage.add_feedback(a.query_id, "unanswerable", source="agent")
    any_storage.add_feedback(a.query_id, "correct", passage_id=a.answer["id"], source="agent")
    [(query, feedback)] = any_storage.verified()
    assert query.id == a.query_id and [f.verdict for f in feedback] == ["unanswerable", "correct"]
    gaps = {q.id for q in any_storage.gap_questions()}
    # Escalated customer questions, plus those an agent called unanswerable.
    expected = {x.query_id for x in answers.values() if x.escalate} | {a.query_id}
    assert gaps == expected
    assert any_storage.gap_questions(since="2999-01-01") == []


def test_data_survives_reopen(tmp_path: Path, answers: dict[str, Answer]) -> None:
    path = tmp_path / DB_FILENAME
    first = SQLiteStorage(path)
    first.log_query(answers["answered"], "widget")
    fb = first.add_feedback(answers["answered"].query_id, "correct", source="agent")
    first.close()
    second = SQLiteStorage(path)
    try:
        assert second.get_query(answers["answered"].query_id) is not None
        assert [f.id for f in second.list_feedback()] == [fb.id]
    finally:
        second.close()


def test_migrates_an_old_schema(tmp_path: Path, answers: dict[str, Answer]) -> None:
    path = tmp_path / DB_FILENAME
    with sqlite3.connect(path) as conn:
        for sql in MIGRATIONS[0][1]:
            conn.execute(sql)
        conn.execute("PRAGMA user_version = 1")
        conn.execute(
            "INSERT INTO feedback (created_at, query_id, verdict, source) "
            "VALUES ('2026-01-01T00:00:00.000Z', 'q_old', 'correct', 'agent')"
        )
    s = SQLiteStorage(path)
    try:
        assert s.schema_version == SCHEMA_VERSION
        assert [f.query_id for f in s.list_feedback()] == ["q_old"]
        names = {r[0] for r in raw(path, "SELECT name FROM sqlite_master WHERE type='index'")}
        assert {"queries_review", "feedback_query"} <= names
    finally:
        s.close()


def test_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / DB_FILENAME
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StorageError, match="newer than this qa-service"):
        SQLiteStorage(path)


def test_concurrent_writers(tmp_path: Path, answers: dict[str, Answer]) -> None:
    """Threads in one process and a second connection (another worker) write together."""
    path = tmp_path / DB_FILENAME
    one, two = SQLiteStorage(path), SQLiteStorage(path)
    qid = answers["answered"].query_id
    one.log_query(answers["answered"], "widget")
    errors: list[BaseException] = []

    def write(store: SQLiteStorage) -> None:
        try:
            for _ in range(50):
                store.add_feedback(qid, "correct", source="customer")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(s,)) for s in (one, two, one, two)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert raw(path, "SELECT COUNT(*), COUNT(DISTINCT id) FROM feedback") == [(200, 200)]
    finally:
        one.close()
        two.close()


def test_write_failure_never_reaches_the_caller(
    storage: SQLiteStorage, answers: dict[str, Answer], caplog: pytest.LogCaptureFixture
) -> None:
    with sqlite3.connect(storage.path) as conn:
        conn.execute("DROP TABLE queries")
    with caplog.at_level(logging.ERROR, logger="qa_service.storage"):
        storage.log_query(answers["pii"], "widget")
    assert "query log write failed" in caplog.text
    assert CARD not in caplog.text and "卡号" not in caplog.text


def test_open_storage_choices(tmp_path: Path) -> None:
    s = open_storage(Settings(data_dir=tmp_path / "nested" / "data"))
    assert s.path == tmp_path / "nested" / "data" / DB_FILENAME and s.path.exists()
    s.close()
    url = f"sqlite:///{tmp_path / 'other.db'}"
    s = open_storage(Settings(database_url=url))
    assert s.path == tmp_path / "other.db"
    s.close()
    # A PostgreSQL that cannot be reached is one clear line, not a traceback.
    with pytest.raises(StorageError, match="cannot use the PostgreSQL database") as exc:
        open_storage(Settings(database_url="postgresql://qa@127.0.0.1:1/qa"))
    assert "\n" not in str(exc.value)
    with pytest.raises(StorageError, match="unsupported scheme 'mysql'"):
        open_storage(Settings(database_url="mysql://x"))


def test_unusable_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageError, match="cannot open the database"):
        open_storage(Settings(data_dir=blocker))


def test_review_queue_shows_each_wording_once(any_storage: Storage, service: QAService) -> None:
    first, second = service.ask("我想申请退款"), service.ask("我想申请退款")
    other = service.ask("转账一直没到账")
    for a in (first, other, second):
        any_storage.log_query(a, "widget")
    queue = any_storage.review_queue()
    by_question = {i.query.question: i for i in queue}
    assert len(queue) == 2 and set(by_question) == {"我想申请退款", "转账一直没到账"}
    refund = by_question["我想申请退款"]
    assert refund.query.id == second.query_id and refund.times_asked == 2
    assert refund.to_dict()["times_asked"] == 2 and by_question["转账一直没到账"].times_asked == 1
    # An agent's verdict on any copy settles the wording.
    any_storage.add_feedback(first.query_id, "unanswerable", source="agent")
    assert [i.query.question for i in any_storage.review_queue()] == ["转账一直没到账"]
    assert len(any_storage.review_queue(include_reviewed=True)) == 2


def test_a_conversation_is_read_back_from_the_query_log(any_storage: Storage, service) -> None:
    """Turns logged by one worker are the context of the next turn on any other."""
    storage = any_storage
    a = service.ask("账户被冻结了怎么办", conversation_id="shared-1")
    storage.log_query(a, "widget")
    b = service.ask("你好", conversation_id="shared-1")
    storage.log_query(b, "widget")
    turns = storage.recent_turns("shared-1")
    assert [t.faq_id for t in turns] == ["account-frozen", None]
    assert turns[0].question == "账户被冻结了怎么办" and turns[1].reply_kind == "greeting"
    assert not turns[1].has_topic and turns[0].has_topic
    assert storage.recent_turns("nobody") == []
    assert turns[0].language == "zh" and not any(t.unhelpful for t in turns)
    # The customer's "not helpful" vote marks its turn; an agent's verdict does not.
    storage.add_feedback(b.query_id, "incorrect", source="agent")
    assert not any(t.unhelpful for t in storage.recent_turns("shared-1"))
    storage.add_feedback(a.query_id, "incorrect")
    assert [t.unhelpful for t in storage.recent_turns("shared-1")] == [True, False]
    # small talk stays out of the review queue, where every other customer question is
    queued = [i.query.question for i in storage.review_queue(below=1.01)]
    assert "账户被冻结了怎么办" in queued and "你好" not in queued


def test_postgres_migrates_once_when_replicas_start_together(postgres, answers) -> None:
    """Two replicas opening one new database at once: the advisory lock lets one migrate."""
    from qa_service.storage.postgres import PG_SCHEMA_VERSION, PostgresStorage

    url = postgres.new_database()
    opened: list[PostgresStorage] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            opened.append(PostgresStorage(url))
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(opened) == 3
    assert {s.schema_version for s in opened} == {PG_SCHEMA_VERSION}
    # what one replica logs, another reads: the shared store replicas need
    opened[0].log_query(answers["escalated"], "widget")
    assert opened[2].get_query(answers["escalated"].query_id) is not None
    for s in opened:
        s.close()
