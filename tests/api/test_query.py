"""The HTTP contract of API.md, through a module-scoped TestClient."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from qa_service.api import create_app


@pytest.fixture(scope="module")
def client(service) -> TestClient:
    with TestClient(create_app(service=service)) as c:
        yield c


def test_query_contract(client: TestClient) -> None:
    r = client.post("/v1/query", json={"question": "忘记密码了怎么办?", "channel": "widget"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= {
        "query_id",
        "question",
        "escalate",
        "confidence",
        "answer",
        "passages",
        "escalation",
    }
    assert body["query_id"].startswith("q_") and body["question"] == "忘记密码了怎么办?"
    assert body["escalate"] is False and body["escalation"] is None
    assert body["answer"]["id"] == "password-reset#1" and len(body["passages"]) == 3
    for p in body["passages"]:
        assert set(p) == {
            "id",
            "faq_id",
            "title",
            "text",
            "score",
            "source",
            "related",
            "highlights",
            "lang",
        }
        assert p["source"] == "corpus/okpay_faq.zh.md" and p["lang"] == "zh"
    assert body["answer"]["related"] == []  # the reset answer is complete on its own


def test_contact_answer_names_the_entries_that_complete_it(client: TestClient) -> None:
    body = client.post("/v1/query", json={"question": "怎么联系客服"}).json()
    assert body["answer"]["faq_id"] == "contact-channels"
    assert body["answer"]["text"].endswith("以下是几种主要的联系方法:")
    related = body["answer"]["related"]
    assert [r["faq_id"] for r in related] == [
        "contact-live-chat",
        "contact-phone",
        "contact-email",
        "contact-social-media",
        "help-center",
    ]
    assert related[1]["title"] == "OKPAY的客服电话在哪里找?"
    # Asking a related entry's title gets that entry.
    phone = client.post("/v1/query", json={"question": related[1]["title"]}).json()
    assert not phone["escalate"] and phone["answer"]["faq_id"] == "contact-phone"


def test_escalation_contract(client: TestClient, service) -> None:
    r = client.post(
        "/v1/query", json={"question": "What's the weather like in Paris today?", "top_k": 2}
    )
    body = r.json()
    assert r.status_code == 200 and body["escalate"] is True and body["answer"] is None
    assert len(body["passages"]) == 2  # suggestions for agents even when escalating
    esc = body["escalation"]
    assert esc["url"] == f"{service.settings.escalation_url}?handoff={esc['handoff_id']}"
    assert esc["reason"] in {"low_confidence", "ambiguous", "out_of_scope"}
    assert esc["message"] and esc["message"].isascii()
    assert esc["related"] == []  # nothing on topic to offer for the weather


def test_escalation_for_a_missing_detail_offers_the_entry(client: TestClient) -> None:
    body = client.post("/v1/query", json={"question": "What's the support email address?"}).json()
    assert body["escalate"] is True and body["answer"] is None
    assert body["escalation"]["reason"] == "out_of_scope"
    assert body["escalation"]["related"] == [
        {"faq_id": "contact-email", "title": body["passages"][0]["title"]}
    ]
    assert body["escalation"]["message"].isascii()


def test_channel_never_changes_the_ranking(client: TestClient) -> None:
    bodies = [
        client.post("/v1/query", json={"question": "提现手续费", "channel": ch}).json()
        for ch in ("widget", "agent", "eval", "api")
    ]
    assert len({tuple(p["id"] for p in b["passages"]) for b in bodies}) == 1
    assert len({b["confidence"] for b in bodies}) == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "question"),
        ({"question": ""}, "question"),
        ({"question": "   \n "}, "question"),
        ({"question": "x" * 1001}, "question"),
        ({"question": 42}, "question"),
        ({"question": "密码", "top_k": 0}, "top_k"),
        ({"question": "密码", "top_k": 21}, "top_k"),
        ({"question": "密码", "top_k": "three"}, "top_k"),
        ({"question": "密码", "channel": "sms"}, "channel"),
    ],
)
def test_bad_input_is_a_clear_4xx(client: TestClient, payload: dict, field: str) -> None:
    r = client.post("/v1/query", json=payload)
    assert r.status_code == 422
    body = r.json()
    assert field in body["error"]
    assert any(field in d["loc"] for d in body["detail"])


def test_question_is_trimmed_before_the_length_rule(client: TestClient) -> None:
    r = client.post("/v1/query", json={"question": "  " + "密" * 1000 + "  "})
    assert r.status_code == 200


def test_malformed_json_is_4xx(client: TestClient) -> None:
    r = client.post(
        "/v1/query", content=b'{"question": "pass', headers={"content-type": "application/json"}
    )
    assert 400 <= r.status_code < 500 and "error" in r.json()


def test_health_ready_and_docs(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    m = ready.json()["manifest"]
    assert m["embedder"] == "use-multilingual" and m["passage_count"] == 18
    assert {"built_at", "corpus_sha256"} <= set(m)
    assert client.get("/docs").status_code == 200
    assert "/v1/query" in client.get("/openapi.json").json()["paths"]


def test_readyz_503_without_index(tmp_path, embedder) -> None:
    from qa_service.config import Settings
    from qa_service.service import QAService

    svc = QAService(Settings(index_dir=tmp_path / "none"), embedder=embedder)
    svc.try_load()
    with TestClient(create_app(service=svc)) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and "no index" in r.json()["reason"]
        body = c.post("/v1/query", json={"question": "忘记密码"}).json()
        assert body["escalate"] and body["escalation"]["reason"] == "no_index"


def test_small_talk_and_the_conversation_over_http(client: TestClient) -> None:
    r = client.post("/v1/query", json={"question": "你好", "conversation_id": "chat-42"})
    assert r.status_code == 200
    body = r.json()
    assert body["conversation_id"] == "chat-42"
    assert body["reply"]["kind"] == "greeting" and body["reply"]["text"]
    assert body["escalate"] is False and body["answer"] is None
    fresh = client.post("/v1/query", json={"question": "转人工"}).json()
    assert fresh["conversation_id"].startswith("c_") and fresh["reply"] is None
    assert fresh["escalation"]["reason"] == "human_requested"


@pytest.mark.parametrize("bad", ["", "has space", "x" * 65, "c/../1", 7])
def test_a_malformed_conversation_id_is_a_clear_422(client: TestClient, bad) -> None:
    r = client.post("/v1/query", json={"question": "你好", "conversation_id": bad})
    assert r.status_code == 422
    assert "conversation_id" in r.text


def test_an_english_question_gets_the_english_rendering(client: TestClient) -> None:
    body = client.post("/v1/query", json={"question": "How do I reset my password?"}).json()
    assert body["escalate"] is False and body["language"] == "en"
    ans = body["answer"]
    assert ans["faq_id"] == "password-reset" and ans["lang"] == "en"
    assert ans["title"] == "What do I do if I forget my password?"
    # The original is one tap away, and the rest of the entry is rendered too.
    assert ans["original"]["lang"] == "zh" and "密码" in ans["original"]["text"]
    assert [o["lang"] for o in ans["other_passages"]] == ["en"]
    assert all(p["lang"] == "en" for p in body["passages"])
    for h in ans["highlights"]:
        assert ans["text"][h["start"] : h["end"]].strip()


def test_the_conversation_keeps_its_language(client: TestClient) -> None:
    first = client.post("/v1/query", json={"question": "Which payment methods do you support?"})
    cid = first.json()["conversation_id"]
    # "visa?" tells no language: it is answered in the conversation's.
    body = client.post("/v1/query", json={"question": "visa?", "conversation_id": cid}).json()
    assert body["language"] == "en"
    assert body["answer"] is None or body["answer"]["lang"] == "en"
    # A message that tells switches it.
    body = client.post("/v1/query", json={"question": "提现手续费是多少", "conversation_id": cid})
    assert body.json()["language"] == "zh" and body.json()["answer"]["lang"] == "zh"
    # The widget's data-lang overrides the message.
    body = client.post("/v1/query", json={"question": "提现手续费是多少", "lang": "en"}).json()
    assert body["language"] == "en" and body["answer"]["lang"] == "en"
    assert "fee" in body["answer"]["text"]


def test_escalations_and_small_talk_follow_the_conversations_language(client: TestClient) -> None:
    cid = client.post("/v1/query", json={"question": "hello there, good morning"}).json()[
        "conversation_id"
    ]
    body = client.post("/v1/query", json={"question": "ok", "conversation_id": cid}).json()
    assert body["language"] == "en"
    assert body["reply"] is None or body["reply"]["text"].isascii()
    assert client.post("/v1/query", json={"question": "hi", "lang": "fr"}).status_code == 422
