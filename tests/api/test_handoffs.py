"""Handoffs: an escalation's id opens the masked conversation for the agent who takes it."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

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
