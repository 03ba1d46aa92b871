"""Worker processes that listen on the port themselves."""

from __future__ import annotations

import socket

import pytest

from qa_service.serving import _listen, can_share_port, check_port_free


def test_a_port_in_use_is_refused_before_any_worker_starts() -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        with pytest.raises(SystemExit, match=f"cannot listen on 127.0.0.1:{port}"):
            check_port_free("127.0.0.1", port)
    finally:
        busy.close()
    check_port_free("127.0.0.1", port)  # free again


@pytest.mark.skipif(not can_share_port(), reason="no SO_REUSEPORT on this platform")
def test_workers_share_a_port_and_the_kernel_spreads_connections() -> None:
    first = _listen("127.0.0.1", 0, reuse_port=True)
    port = first.getsockname()[1]
    second = _listen("127.0.0.1", port, reuse_port=True)
    for s in (first, second):
        s.listen(64)
        s.setblocking(False)
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
    try:
        accepted = []
        for s in (first, second):
            n = 0
            while True:
                try:
                    conn, _ = s.accept()
                except BlockingIOError:
                    break
                conn.close()
                n += 1
            accepted.append(n)
        assert sum(accepted) == 32
        assert min(accepted) >= 4, accepted  # by address hash: neither socket is left idle
    finally:
        for c in clients:
            c.close()
        first.close()
        second.close()


def test_sigterm_drains_before_the_server_stops(tmp_path, index_dir) -> None:
    """On SIGTERM /readyz turns 503 while questions are still answered on the open
    connection; once the last connection closes the server stops, well before the drain
    time is up."""
    import signal
    import time

    from tests.api.live_server import start_server

    srv = start_server(tmp_path, index_dir, {"QA_DRAIN_SECONDS": "60"}, wait="/readyz")
    try:
        with srv.client() as c:
            assert c.get("/readyz").status_code == 200
            srv.proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            while (r := c.get("/readyz")).status_code == 200 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert r.status_code == 503 and r.json()["status"] == "draining"
            answer = c.post("/v1/query", json={"question": "忘记密码了怎么办"})
            assert answer.status_code == 200 and answer.json()["answer"] is not None
            assert srv.proc.poll() is None  # still serving while a connection is open
            closed = time.monotonic()
        srv.proc.wait(30)
        assert time.monotonic() - closed < 15  # not the whole 60 s drain
        # uvicorn re-raises the signal it stopped on once it is done, as a plain exit would.
        assert srv.proc.returncode in (0, -signal.SIGTERM)
        assert "draining" in srv.logs()
    finally:
        srv.stop()
