"""The last resort: an unexpected exception becomes a logged 500 JSON answer that carries the
request id, so support can find the log line. (No input should ever get here.)"""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from qa_service.api import create_app
from qa_service.logging import JsonFormatter


@pytest.fixture(scope="module")
def client(service) -> TestClient:
    app = create_app(service=service)

    def explode() -> None:
        raise RuntimeError("bug reached with card 4111 1111 1111 1111")

    # A route with a deliberate bug, added to the real app with its real middleware stack.
    app.add_api_route("/explode", explode, methods=["GET"])
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_unexpected_exception_is_a_logged_500_with_the_request_id(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="qa_service.api"):
        r = client.get("/explode", headers={"X-Request-ID": "support-ticket-42"})
    assert r.status_code == 500
    assert r.headers["x-request-id"] == "support-ticket-42"
    body = r.json()
    assert body["request_id"] == "support-ticket-42" and "internal error" in body["error"]
    assert "4111" not in r.text  # the exception text stays out of the answer
    records = [rec for rec in caplog.records if rec.name == "qa_service.api"]
    assert len(records) == 1 and records[0].exc_info
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["request_id"] == "support-ticket-42"
    assert "RuntimeError" in line["exc"] and "[CARD]" in line["exc"]
    assert "4111 1111 1111 1111" not in line["exc"]
    # The server keeps answering.
    assert client.get("/healthz").status_code == 200
