"""Feedback acknowledged with 201 is never lost: a real server is killed with SIGKILL in the
middle of a write storm, twice, and every acknowledged record must be in the database."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest

from qa_service.storage import DB_FILENAME
from tests.api.live_server import LiveServer, start_server

pytestmark = pytest.mark.slow
WRITERS = 16


def _query_ids(srv: LiveServer) -> list[str]:
    with srv.client() as c:
        return [
            c.post("/v1/query", json={"question": q}).json()["query_id"]
            for q in ["忘记密码了怎么办?", "提现手续费", "How do I contact support?"]
        ]


def _storm_then_kill(srv: LiveServer, round_no: int, min_acks: int) -> tuple[set[str], int]:
    """Writers post feedback without pause; the server is SIGKILLed once ``min_acks`` are in.
    Returns the acknowledged comment tokens and how many requests were sent."""
    query_ids = _query_ids(srv)
    acked: set[str] = set()
    sent = 0
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int) -> None:
        nonlocal sent
        seq = 0
        with httpx.Client(base_url=srv.url, timeout=10) as c:
            while not stop.is_set():
                token = f"dur-{round_no}-{n}-{seq}"
                seq += 1
                body = {
                    "query_id": query_ids[seq % len(query_ids)],
                    "verdict": "correct",
                    "comment": token,
                }
                with lock:
                    sent += 1
                try:
                    r = c.post("/v1/feedback", json=body)
                except httpx.TransportError:
                    return  # the server is gone
                if r.status_code == 201:
                    assert r.json()["comment"] == token
                    with lock:
                        acked.add(token)
                else:
                    raise AssertionError(f"{r.status_code} {r.text}")

    threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(WRITERS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 120
    while len(acked) < min_acks and time.monotonic() < deadline:
        time.sleep(0.01)
    srv.proc.send_signal(signal.SIGKILL)  # in the middle of the storm, no goodbye
    srv.proc.wait(10)
    stop.set()
    for t in threads:
        t.join(30)
    assert srv.proc.returncode == -signal.SIGKILL
    return acked, sent


def test_acknowledged_feedback_survives_kill_9(index_dir: Path, tmp_path: Path) -> None:
    acked: set[str] = set()
    sent = 0
    for round_no in range(2):  # the second round also proves the file reopens after a crash
        srv = start_server(tmp_path, index_dir, wait="/readyz")
        got, n = _storm_then_kill(srv, round_no, min_acks=300)
        acked |= got
        sent += n

    db = sqlite3.connect(tmp_path / "data" / DB_FILENAME)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {row[0] for row in db.execute("SELECT comment FROM feedback")}
    finally:
        db.close()
    lost = acked - stored
    print(
        f"\ndurability: {sent} feedback requests sent, {len(acked)} acknowledged with 201, "
        f"{len(stored)} stored, {len(lost)} acknowledged but lost"
    )
    assert len(acked) >= 600
    assert lost == set()
    # Stored but never acknowledged is allowed (the kill came between commit and answer),
    # and is bounded by the writers in flight at each kill.
    assert len(stored - acked) <= 2 * WRITERS
