"""The query fast path: valid questions are answered without the router, with the real
service; everything else reaches the FastAPI route untouched, body included."""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi.testclient import TestClient

from qa_service.api import create_app
from qa_service.api.fastpath import QueryFastPath, is_json
from qa_service.storage import StorageUnavailable


class Route:
    """Stands for the rest of the app: records what reached it."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope, receive, send) -> None:
        message = await receive()
        self.bodies.append(message.get("body", b""))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def call(app, fast: QueryFastPath, chunks: list[bytes], content_type: str | None):
    headers = [(b"content-type", content_type.encode())] if content_type else []
    scope = {"type": "http", "method": "POST", "path": "/v1/query", "headers": headers}
    scope["app"] = app
    incoming = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    sent: list[dict] = []

    async def receive():
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(fast(scope, receive, send))
    status = sent[0]["status"]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return status, body, scope


@pytest.fixture(scope="module")
def app(service):
    return create_app(service=service)


def test_a_valid_question_is_answered_without_the_route(app) -> None:
    route = Route()
    fast = QueryFastPath(route)
    body = json.dumps({"question": "忘记密码了怎么办?", "channel": "eval"}).encode()
    # Sent in two pieces, as a chunked upload arrives when the body limit is off.
    status, out, scope = call(app, fast, [body[:9], body[9:]], "application/json; charset=utf-8")
    assert status == 200 and route.bodies == []
    answer = json.loads(out)
    assert answer["answer"]["faq_id"] == "password-reset" and answer["escalate"] is False
    assert scope["route"].path == "/v1/query"  # labels the request's metrics


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"question": "hi",', "application/json"),  # malformed JSON
        (b'{"question": "  "}', "application/json"),  # empty after trimming
        (b'{"question": "hi", "top_k": 99}', None),  # out of range
        (b'["question"]', "application/json"),  # not an object
        (b'{"question": "hi"}', "text/plain"),  # not JSON by its type: not even read
    ],
)
def test_anything_else_reaches_the_route_with_its_body(app, body, content_type) -> None:
    route = Route()
    status, _, _ = call(app, QueryFastPath(route), [body], content_type)
    assert status == 299 and route.bodies == [body]


def test_json_content_types_are_those_fastapi_parses() -> None:
    assert is_json(None) and is_json("application/json") and is_json("Application/JSON")
    assert is_json("application/vnd.api+json; charset=utf-8")
    assert not is_json("text/plain") and not is_json("application/x-www-form-urlencoded")
    assert not is_json("application/json/extra") and not is_json("json")


def test_errors_and_metrics_are_the_routes(service) -> None:
    with TestClient(create_app(service=service)) as c:
        ok = c.post("/v1/query", json={"question": "提现手续费是多少"})
        assert ok.status_code == 200 and ok.headers["x-request-id"]
        assert ok.headers["server-timing"].startswith("app;dur=")
        bad = c.post(
            "/v1/query", content=b'{"question": ', headers={"content-type": "application/json"}
        )
        assert bad.status_code == 400 and bad.json()["error"].startswith("malformed JSON")
        invalid = c.post("/v1/query", json={"question": "hi", "channel": "fax"})
        assert invalid.status_code == 422 and invalid.json()["detail"][0]["loc"] == [
            "body",
            "channel",
        ]
        metrics = c.get("/metrics").text
    lines = [line for line in metrics.splitlines() if line.startswith("qa_http_requests_total")]
    assert any('route="/v1/query"' in line and 'status="200"' in line for line in lines)
    assert any('route="/v1/query"' in line and 'status="422"' in line for line in lines)


def test_a_lost_database_is_a_503_as_on_the_route(service, monkeypatch) -> None:
    app = create_app(service=service)

    def down(*args, **kwargs):
        raise StorageUnavailable("the database is unavailable: gone")

    monkeypatch.setattr(service, "ask", down)
    with TestClient(app) as c:
        r = c.post("/v1/query", json={"question": "提现手续费是多少"})
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert "database is unavailable" in r.json()["error"]


def _threads_asked(service, monkeypatch, settings=None, concurrent: int = 1) -> list[str]:
    """The names of the threads ask() ran on for ``concurrent`` simultaneous questions."""
    import threading

    import httpx

    names: list[str] = []
    ask = service.ask

    def recording(*args, **kwargs):
        names.append(threading.current_thread().name)
        return ask(*args, **kwargs)

    monkeypatch.setattr(service, "ask", recording)
    app = create_app(settings or service.settings, service)

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            body = {"question": "提现手续费是多少", "channel": "eval"}
            replies = await asyncio.gather(
                *(c.post("/v1/query", json=body) for _ in range(concurrent))
            )
        assert all(r.status_code == 200 for r in replies)

    asyncio.run(run())
    return names


def test_a_lone_question_is_answered_on_the_event_loop(service, monkeypatch) -> None:
    (name,) = _threads_asked(service, monkeypatch)
    assert not name.startswith("qa-query")


def test_questions_with_company_go_to_the_query_threads(service, monkeypatch) -> None:
    names = _threads_asked(service, monkeypatch, concurrent=8)
    assert len(names) == 8 and all(n.startswith("qa-query") for n in names)


def test_inline_answers_can_be_turned_off(service, monkeypatch) -> None:
    settings = service.settings.model_copy(update={"inline_lone_queries": False})
    (name,) = _threads_asked(service, monkeypatch, settings)
    assert name.startswith("qa-query")


def test_a_database_server_keeps_every_question_on_the_threads(
    postgres, settings, embedder, monkeypatch, tmp_path
) -> None:
    from qa_service.service import QAService

    remote = settings.model_copy(
        update={"database_url": postgres.new_database(), "data_dir": tmp_path}
    )
    service = QAService(remote, embedder=embedder)
    service.load()
    (name,) = _threads_asked(service, monkeypatch, remote)
    assert name.startswith("qa-query")
