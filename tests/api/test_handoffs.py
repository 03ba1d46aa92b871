"""Handoffs: an escalation's id opens the masked conversation for the agent who takes it."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from qa_service.handoffs import signature

from .test_feedback import TOKEN, make_client


def test_a_handoff_carries_the_whole_masked_conversation(
    tmp_path: Path, index_dir: Path, embedder
) -> None:
    with make_client(tmp_path, index_dir, embedder) as c:
        conv = {"conversation_id": "chat-7", "channel": "widget"}
        first = c.post("/v1/query", json={"question": "账户被冻结了怎么办", **conv})
        assert first.json()["answer"]["faq_id"] == "account-frozen"
        c.post("/v1/query", json={"question": "谢谢", **conv})
        esc = c.post("/v1/query", json={"question": "转人工,我电话13812345678", **conv}).json()[
            "escalation"
        ]
        handoff = esc["handoff_id"]
        assert parse_qs(urlsplit(esc["url"]).query)["handoff"] == [handoff]

        r = c.get(f"/v1/handoffs/{handoff}")
        assert r.status_code == 200
        h = r.json()
        assert h["action"] == "handoff" and h["reason"] == "human_requested"
        assert h["summary"] == "human_requested: 转人工,我电话[PHONE]"
        assert h["conversation_id"] == "chat-7" and h["channel"] == "widget"
        questions = [t["question"] for t in h["transcript"]]
        assert questions == ["账户被冻结了怎么办", "谢谢", "转人工,我电话[PHONE]"]
        assert h["transcript"][0]["answered_with"].startswith("account-frozen#")
        assert h["transcript"][1]["reply_kind"] == "thanks"
        assert h["suggested"] and {"id", "faq_id", "score"} <= set(h["suggested"][0])

        # An answered turn is no handoff; an unknown or malformed id is a clear 4xx.
        assert c.get(f"/v1/handoffs/{first.json()['query_id']}").status_code == 404
        assert c.get("/v1/handoffs/q_00000000000000000000000000").status_code == 404
        assert c.get("/v1/handoffs/not-an-id").status_code == 422


def test_a_handoff_needs_the_agent_token_when_one_is_set(
    tmp_path: Path, index_dir: Path, embedder
) -> None:
    with make_client(tmp_path, index_dir, embedder, agent_token=TOKEN) as c:
        esc = c.post("/v1/query", json={"question": "今天天气怎么样"}).json()["escalation"]
        assert c.get(f"/v1/handoffs/{esc['handoff_id']}").status_code == 401
        ok = c.get(
            f"/v1/handoffs/{esc['handoff_id']}", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert ok.status_code == 200 and ok.json()["reason"] == "out_of_scope"


class Helpdesk:
    """A real HTTP server standing in for a helpdesk: it answers each POST with the next
    status of ``statuses`` (then 200) and keeps what it was sent."""

    def __init__(self, statuses: list[int]):
        self.statuses = list(statuses)
        self.received: list[tuple] = []
        self.arrived = threading.Event()
        desk = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = desk.statuses.pop(0) if desk.statuses else 200
                desk.received.append((self.headers, json.loads(body), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if status == 200:
                    desk.arrived.set()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/handoff"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_each_handoff_reaches_the_webhook_signed_and_retried(
    tmp_path: Path, index_dir: Path, embedder
) -> None:
    desk = Helpdesk([503, 500])  # down twice, then up
    try:
        with make_client(
            tmp_path,
            index_dir,
            embedder,
            handoff_webhook_url=desk.url,
            handoff_webhook_secret="s3cret",
            handoff_webhook_backoff_seconds=0.05,
        ) as c:
            conv = {"conversation_id": "chat-9", "channel": "widget"}
            c.post("/v1/query", json={"question": "忘记密码了怎么办", **conv})
            esc = c.post("/v1/query", json={"question": "我要找人工客服 邮箱a@b.com", **conv})
            handoff = esc.json()["escalation"]["handoff_id"]
            # An answered question and a batch evaluation's escalation open no ticket.
            c.post("/v1/query", json={"question": "今天天气怎么样", "channel": "eval"})
            assert desk.arrived.wait(30)
            metrics = c.get("/metrics").text
        headers, record, body, _ = desk.received[-1]
        assert [r[3] for r in desk.received] == [503, 500, 200]
        assert {r[1]["handoff_id"] for r in desk.received} == {handoff}
        assert headers["X-QA-Handoff-Id"] == handoff
        assert headers["X-QA-Signature"] == signature("s3cret", body)
        assert record["action"] == "handoff" and record["reason"] == "human_requested"
        assert [t["question"] for t in record["transcript"]] == [
            "忘记密码了怎么办",
            "我要找人工客服 邮箱[EMAIL]",
        ]
        assert 'qa_handoff_webhook_total{outcome="delivered"} 1.0' in metrics
        assert 'qa_handoff_webhook_total{outcome="retried"} 2.0' in metrics
    finally:
        desk.close()


def test_a_refused_handoff_is_not_retried(tmp_path: Path, index_dir: Path, embedder) -> None:
    desk = Helpdesk([400])
    try:
        with make_client(tmp_path, index_dir, embedder, handoff_webhook_url=desk.url) as c:
            c.post("/v1/query", json={"question": "转人工"})
            deadline = time.monotonic() + 30
            while 'outcome="failed"' not in (m := c.get("/metrics").text):
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert [r[3] for r in desk.received] == [400]
        assert 'qa_handoff_webhook_total{outcome="failed"} 1.0' in m
    finally:
        desk.close()
