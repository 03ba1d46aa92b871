"""Graceful shutdown: on SIGTERM the server stops taking connections, but requests already in
flight are finished and answered before the process exits."""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

import pytest

from tests.api.live_server import start_server

pytestmark = pytest.mark.slow


def _read_response(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, body


def test_sigterm_drains_in_flight_requests(index_dir: Path, tmp_path: Path) -> None:
    srv = start_server(tmp_path, index_dir, wait="/readyz")
    questions = ["忘记密码了怎么办?", "提现要多久到账", "How do I contact support?", "账户安全"]
    socks = []
    for q in questions:
        body = json.dumps({"question": q}).encode()
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
        head = (
            f"POST /v1/query HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        s.sendall(head + body[:5])  # the request is in flight: half its body has arrived
        socks.append((s, body[5:]))
    time.sleep(0.5)

    srv.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    refused = False
    while time.monotonic() < deadline and not refused:  # new connections are turned away
        try:
            socket.create_connection(("127.0.0.1", srv.port), timeout=1).close()
            time.sleep(0.1)
        except OSError:
            refused = True
    assert refused
    assert srv.proc.poll() is None  # still draining

    answers = []
    for s, rest in socks:
        s.sendall(rest)
        status, body = _read_response(s)
        s.close()
        answers.append((status, json.loads(body)))
    assert [status for status, _ in answers] == [200] * len(questions)
    assert [a["question"] for _, a in answers] == questions
    assert all(a["passages"] for _, a in answers)

    srv.proc.wait(30)
    logs = srv.logs()
    assert "Application shutdown complete" in logs and "Traceback" not in logs
