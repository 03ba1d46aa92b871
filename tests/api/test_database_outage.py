"""PostgreSQL goes away and comes back: answers never stop, the routes that need the
database say 503, the dropped log lines are counted, and the service recovers by itself."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qa_service.api import create_app
from qa_service.config import Settings
from qa_service.service import QAService

from ..postgres_server import PostgresServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def own_postgres():
    """A server of this test's own, since the test stops it."""
    try:
        server = PostgresServer()
    except FileNotFoundError as exc:
        if os.environ.get("CI") or os.environ.get("QA_TEST_REQUIRE_POSTGRES"):
            raise
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    yield server
    server.stop()


def test_a_lost_database_degrades_logging_not_answers(
    own_postgres: PostgresServer, tmp_path: Path, index_dir: Path, embedder
) -> None:
    settings = Settings(
        corpus=ROOT / "corpus",
        index_dir=index_dir,
        data_dir=tmp_path,
        database_url=own_postgres.new_database(),
        rate_limit_per_minute=0,
    )
    service = QAService(settings, embedder=embedder)
    service.load()
    with TestClient(create_app(settings, service)) as c:
        asked = c.post("/v1/query", json={"question": "忘记密码了怎么办?"}).json()
        vote = {"query_id": asked["query_id"], "verdict": "correct"}
        assert c.post("/v1/feedback", json=vote).status_code == 201
        assert c.get("/readyz").json()["database"] == "ok"

        own_postgres.pause()
        during = c.post("/v1/query", json={"question": "提现手续费是多少"})
        assert during.status_code == 200 and during.json()["answer"]["faq_id"] == "withdrawal-fees"
        r = c.post(
            "/v1/feedback", json={"query_id": during.json()["query_id"], "verdict": "correct"}
        )
        assert r.status_code == 503 and "database is unavailable" in r.json()["error"]
        assert r.headers["retry-after"]
        assert c.get("/v1/review").status_code == 503
        ready = c.get("/readyz")
        assert ready.status_code == 200 and ready.json()["database"].startswith("unavailable")
        metrics = c.get("/metrics").text
        dropped = [
            line for line in metrics.splitlines() if line.startswith("qa_query_log_dropped_total")
        ]
        assert dropped and float(dropped[0].split()[-1]) >= 1

        own_postgres.start()
        # The pool reconnects by itself, with back-off: readiness says when it has.
        deadline = time.monotonic() + 60
        while c.get("/readyz").json()["database"] != "ok":
            assert time.monotonic() < deadline, "the database did not come back within 60 s"
            time.sleep(0.5)
        after = c.post("/v1/query", json={"question": "账户被冻结了怎么办"}).json()
        vote = {"query_id": after["query_id"], "verdict": "correct"}
        assert c.post("/v1/feedback", json=vote).status_code == 201
        assert c.get("/readyz").json()["database"] == "ok"
