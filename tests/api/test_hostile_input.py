"""Garbage at a real server: every answer is a 200 with a normalised question or a clear 4xx
JSON error, never a 5xx, and the server log stays clean."""

from __future__ import annotations

import json
import socket
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.live_server import LiveServer, start_server

JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, index_dir: Path) -> Iterator[LiveServer]:
    srv = start_server(tmp_path_factory.mktemp("hostile"), index_dir)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


def post_raw(client: httpx.Client, body: bytes, headers: dict[str, str] = JSON) -> httpx.Response:
    return client.post("/v1/query", content=body, headers=headers)


def assert_clear_4xx(r: httpx.Response, status: int | None = None, says: str = "") -> dict:
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    if status is not None:
        assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert isinstance(body["error"], str) and body["error"]
    assert says.lower() in body["error"].lower(), body["error"]
    return body


def assert_clean_answer(r: httpx.Response) -> dict:
    assert r.status_code == 200, r.text
    body = r.json()
    q = body["question"]
    assert q == q.strip() and q
    assert not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in q), repr(q)
    assert 0.0 <= body["confidence"] <= 1.0
    return body


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"question": "pass', "malformed JSON"),
        (b"{", "malformed JSON"),
        (b'{"question": "a",}', "malformed JSON"),
        (b'{"question": "a"} trailing', "malformed JSON"),
        (b"{'question': 'a'}", "malformed JSON"),
        (b'{"question": "\\x41"}', "malformed JSON"),
        (b'{"question": "a\nb"}', "malformed JSON"),  # raw newline inside a string
        (b'{"question": "a", "top_k": 1' + b"1" * 5000 + b"}", "malformed JSON"),
    ],
)
def test_malformed_json_is_400_with_the_reason(
    client: httpx.Client, body: bytes, says: str
) -> None:
    assert_clear_4xx(post_raw(client, body), 400, says)


def test_malformed_json_names_line_and_column(client: httpx.Client) -> None:
    body = assert_clear_4xx(post_raw(client, b'{\n  "question": "a"\n  "top_k": 3\n}'), 400)
    assert "line 3 column 3" in body["error"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"question": "\xff\xfe"}',
        b'{"question": "\xc0\xaf"}',  # overlong encoding of '/'
        b'{"question": "\xe5\xbf"}',  # truncated multi-byte sequence
        b'{"question": "\x80abc"}',  # stray continuation byte
    ],
)
def test_invalid_utf8_is_400(client: httpx.Client, body: bytes) -> None:
    assert_clear_4xx(post_raw(client, body), 400, "not valid UTF-8")


@pytest.mark.parametrize(
    "question",
    [
        '"\\ud800忘记密码"',  # lone high surrogate, escaped
        '"忘记密码\\udc00"',  # lone low surrogate, escaped
        '"\\udfff\\ud800"',  # reversed pair
    ],
)
def test_lone_surrogates_are_dropped(client: httpx.Client, question: str) -> None:
    r = post_raw(client, ('{"question": ' + question + "}").encode())
    if r.status_code == 200:
        assert "忘记密码" in assert_clean_answer(r)["question"]
    else:  # nothing left after dropping them
        assert_clear_4xx(r, 422, "empty")


def test_raw_surrogate_bytes_are_dropped(client: httpx.Client) -> None:
    # CESU-8 bytes of U+D800: Python's JSON decoder lets them through as a lone surrogate.
    r = post_raw(client, '{"question": "忘记密码'.encode() + b"\xed\xa0\x80" + b'"}')
    if r.status_code == 200:
        assert assert_clean_answer(r)["question"] == "忘记密码"
    else:
        assert_clear_4xx(r, 400, "UTF-8")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("忘记\u0000密码", "忘记密码"),
        ("忘记密码\u0007\u001b[31m了", "忘记密码 [31m了"),
        ("\u200b忘记\u202e密码\ufeff", "忘记 密码"),
        ("  忘记密码  \t\r\n ", "忘记密码"),
    ],
)
def test_nul_and_control_characters_are_normalised(
    client: httpx.Client, raw: str, expected: str
) -> None:
    r = client.post("/v1/query", json={"question": raw})
    assert assert_clean_answer(r)["question"] == expected


@pytest.mark.parametrize("raw", ["\u0000", "\u0000\u0001\u0002", "\u200b\u200b", "\x7f \x9f"])
def test_only_control_characters_is_422(client: httpx.Client, raw: str) -> None:
    assert_clear_4xx(client.post("/v1/query", json={"question": raw}), 422, "empty")


def test_deep_nesting_is_400(client: httpx.Client) -> None:
    deep = b"[" * 5000 + b"]" * 5000
    assert_clear_4xx(post_raw(client, deep), 400, "nested too deeply")
    inside = b'{"question": "a", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    assert_clear_4xx(post_raw(client, inside), 400, "nested too deeply")


def test_moderate_nesting_in_an_ignored_field_still_answers(client: httpx.Client) -> None:
    body = b'{"question": "\xe5\xbf\x98\xe8\xae\xb0\xe5\xaf\x86\xe7\xa0\x81", "x": '
    body += b'{"a":' * 200 + b"1" + b"}" * 200 + b"}"
    assert_clean_answer(post_raw(client, body))


@pytest.mark.parametrize(
    "payload",
    [
        [],
        "忘记密码",
        42,
        None,
        {"question": ["忘记密码"]},
        {"question": {"$ne": ""}},
        {"question": None},
        {"question": True},
        {"question": "密码", "top_k": 1e309},
        {"question": "密码", "top_k": -(2**80)},
        {"question": "密码", "top_k": "NaN"},
        {"question": "密码", "channel": "widget\u0000"},
        {"question": "密码", "channel": "'; DROP TABLE queries; --"},
        {"question": "x" * 1001},
        {"question": "密码" * 600},
    ],
)
def test_wrong_shapes_and_types_are_422(client: httpx.Client, payload: object) -> None:
    r = post_raw(client, json.dumps(payload).encode())
    body = assert_clear_4xx(r, 422, "invalid request")
    assert body["detail"] and all("loc" in d and "msg" in d for d in body["detail"])


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_standard_json_numbers_are_4xx(client: httpx.Client, literal: bytes) -> None:
    assert_clear_4xx(post_raw(client, b'{"question": "a", "top_k": ' + literal + b"}"))


def test_empty_and_non_json_bodies_are_4xx(client: httpx.Client) -> None:
    assert_clear_4xx(post_raw(client, b""), 422, "required")
    assert_clear_4xx(post_raw(client, b"question=hi", {"content-type": "text/plain"}))
    form = {"content-type": "application/x-www-form-urlencoded"}
    assert_clear_4xx(post_raw(client, b"question=hi", form))
    multipart = {"content-type": "multipart/form-data; boundary=x"}
    assert_clear_4xx(post_raw(client, b"--x\r\nbroken", multipart))


def test_big_but_legal_questions_answer(client: httpx.Client) -> None:
    assert_clean_answer(client.post("/v1/query", json={"question": "密" * 1000}))
    assert_clean_answer(client.post("/v1/query", json={"question": "😀" * 1000}))
    # Duplicate keys: the last wins, as in every JSON parser we know of.
    r = post_raw(client, '{"question": 1, "question": "忘记密码"}'.encode())
    assert assert_clean_answer(r)["question"] == "忘记密码"


def test_unknown_routes_and_methods_are_json_4xx(client: httpx.Client) -> None:
    assert_clear_4xx(client.get("/v1/nothing-here"), 404, "no such endpoint")
    r = client.get("/v1/query")
    assert_clear_4xx(r, 405, "not allowed")
    assert "POST" in r.headers["allow"]
    assert_clear_4xx(client.request("PATCH", "/v1/query", json={"question": "a"}), 405)
    assert_clear_4xx(client.get("/%ff%fe/%00"), 404)


def test_request_ids_are_echoed_or_replaced(client: httpx.Client) -> None:
    r = client.get("/healthz", headers={"X-Request-ID": "abc-123.x_y:z"})
    assert r.headers["x-request-id"] == "abc-123.x_y:z"
    for hostile in ["a" * 500, "<script>", "id with spaces", ""]:
        rid = client.get("/healthz", headers={"X-Request-ID": hostile}).headers["x-request-id"]
        assert rid != hostile and len(rid) == 32 and rid.isalnum()


def test_broken_http_on_a_raw_socket_keeps_the_server_up(
    server: LiveServer, client: httpx.Client
) -> None:
    attacks = [
        b"GARBAGE\r\n\r\n",
        b'POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"question"',
        b"POST /v1/query HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    ]
    for attack in attacks:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
            s.sendall(attack)
            s.shutdown(socket.SHUT_WR)  # then go away without finishing the request
            try:
                reply = s.recv(200)
            except OSError:
                reply = b""
        assert not reply.startswith(b"HTTP/1.1 5"), reply
    assert client.get("/healthz").status_code == 200
    assert_clean_answer(client.post("/v1/query", json={"question": "忘记密码了怎么办?"}))


def test_no_5xx_and_no_traceback_after_all_of_it(server: LiveServer, client: httpx.Client) -> None:
    metrics = client.get("/metrics").text
    statuses = {
        line.split('status="')[1].split('"')[0]
        for line in metrics.splitlines()
        if line.startswith("qa_http_requests_total{")
    }
    assert statuses and not any(s.startswith("5") for s in statuses), statuses
    logs = server.logs()
    assert "Traceback" not in logs
    for line in logs.splitlines():
        record = json.loads(line)  # every line is one JSON object
        assert record["level"] in ("debug", "info", "warning"), record
