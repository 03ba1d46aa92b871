"""JSON log lines: one object per line, the request id on every line, PII masked."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import httpx

from qa_service.logging import JsonFormatter, request_id_var
from tests.api.live_server import start_server


def _capture(fn) -> list[dict]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("qa_service.test_logging")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    try:
        fn(log)
    finally:
        log.removeHandler(handler)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_one_json_object_per_line_with_the_request_id() -> None:
    def emit(log: logging.Logger) -> None:
        log.info("outside a request")
        token = request_id_var.set("rid-123")
        try:
            log.warning("inside %s", "a request", extra={"route": "/v1/query", "ms": 1.5})
        finally:
            request_id_var.reset(token)

    outside, inside = _capture(emit)
    assert outside["msg"] == "outside a request" and "request_id" not in outside
    assert inside["request_id"] == "rid-123" and inside["level"] == "warning"
    assert inside["msg"] == "inside a request"
    assert inside["route"] == "/v1/query" and inside["ms"] == 1.5
    assert inside["ts"].endswith("Z") and inside["logger"] == "qa_service.test_logging"


def test_pii_is_masked_in_messages_extras_and_tracebacks() -> None:
    card, phone, mail = "4111 1111 1111 1111", "13812345678", "alice@example.com"

    def emit(log: logging.Logger) -> None:
        log.info("card %s phone %s", card, phone, extra={"who": mail, "tags": [phone]})
        try:
            raise ValueError(f"bad e-mail {mail}")
        except ValueError:
            log.exception("failed for %s", mail)

    lines = _capture(emit)
    text = json.dumps(lines, ensure_ascii=False)
    for raw in (card, phone, mail):
        assert raw not in text
    assert lines[0]["msg"] == "card [CARD] phone [PHONE]"
    assert lines[0]["who"] == "[EMAIL]" and lines[0]["tags"] == ["[PHONE]"]
    assert "ValueError: bad e-mail [EMAIL]" in lines[1]["exc"]


def test_lone_surrogates_and_odd_values_still_give_valid_json() -> None:
    def emit(log: logging.Logger) -> None:
        log.info("broken \ud800 text", extra={"obj": object(), "path": Path("/x")})

    (first,) = _capture(emit)
    assert first["msg"] == "broken ? text" and first["path"] == "/x"
    # A bad format string loses neither the line nor its content.
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "bad %d", ("text",), None)
    assert "text" in json.loads(JsonFormatter().format(record))["msg"]


def test_server_access_log_is_json_and_masks_pii_in_paths(index_dir: Path, tmp_path: Path) -> None:
    srv = start_server(tmp_path, index_dir)
    try:
        r = httpx.get(
            srv.url + "/v1/users/alice@example.com/13812345678",
            headers={"X-Request-ID": "trace-me-1"},
        )
        assert r.status_code == 404
    finally:
        srv.stop()
    records = [json.loads(line) for line in srv.logs().splitlines()]
    access = [r for r in records if r.get("request_id") == "trace-me-1"]
    assert len(access) == 1 and access[0]["logger"] == "qa_service.access"
    assert access[0]["msg"] == "GET /v1/users/[EMAIL]/[PHONE] 404"
    assert access[0]["route"] == "unmatched" and access[0]["status"] == 404
    assert "alice@example.com" not in srv.logs() and "13812345678" not in srv.logs()
