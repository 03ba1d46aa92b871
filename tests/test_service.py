from __future__ import annotations

import re

import pytest

from qa_service.config import Settings
from qa_service.pipeline.respond import new_query_id
from qa_service.service import QAService


def test_password_question_gets_the_reset_passage(service: QAService) -> None:
    a = service.ask("忘记密码了怎么办?")
    assert not a.escalate and a.escalation is None
    assert a.answer is not None and a.answer["id"] == "password-reset#1"
    assert {k: v for k, v in a.answer.items() if k != "other_passages"} == a.passages[0]
    assert 0.0 <= a.confidence <= 1.0 and a.confidence >= service.calibration.answer_threshold
    assert a.language == "zh"


@pytest.mark.parametrize(
    ("question", "faq_id"),
    [
        ("账户被冻结了咋办", "account-frozen"),
        ("提現要手續費嗎", "withdrawal-fees"),
        ("How do I reset my password?", "password-reset"),
        ("can i pay with bitcoin", "payment-methods"),
    ],
)
def test_colloquial_traditional_and_english(service: QAService, question: str, faq_id: str) -> None:
    assert service.ask(question).passages[0]["faq_id"] == faq_id


@pytest.mark.parametrize(
    "question", ["今天天气怎么样", "who won the football match yesterday", "😀😀😀", "!!??"]
)
def test_off_topic_and_contentless_questions_escalate(service: QAService, question: str) -> None:
    a = service.ask(question)
    assert a.escalate and a.answer is None
    assert a.escalation["url"] == (
        f"{service.settings.escalation_url}?handoff={a.escalation['handoff_id']}"
    )
    assert a.escalation["handoff_id"] == a.query_id
    assert a.escalation["reason"] in {"low_confidence", "out_of_scope", "ambiguous"}
    lang = "zh" if re.search(r"[\u4e00-\u9fff]", question) else "en"
    assert (re.search(r"[\u4e00-\u9fff]", a.escalation["message"]) is not None) == (lang == "zh")


def test_emoji_only_is_out_of_scope(service: QAService) -> None:
    a = service.ask("😀😀😀")
    assert a.escalation["reason"] == "out_of_scope" and a.confidence == 0.0


def test_top_k_and_ranking(service: QAService) -> None:
    a = service.ask("客服电话是多少", top_k=5)
    assert len(a.passages) == 5
    scores = [p["score"] for p in a.passages]
    assert scores == sorted(scores, reverse=True)
    assert all(p["id"].startswith(p["faq_id"] + "#") for p in a.passages)


def test_no_index_escalates_with_reason(tmp_path, embedder) -> None:
    svc = QAService(Settings(index_dir=tmp_path / "missing"), embedder=embedder)
    assert not svc.try_load() and not svc.ready and "no index" in svc.load_error
    a = svc.ask("忘记密码了怎么办?")
    assert a.escalate and a.escalation["reason"] == "no_index" and a.passages == []


def test_query_ids_are_unique_and_sortable() -> None:
    ids = [new_query_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(re.fullmatch(r"q_[0-9A-HJKMNP-TV-Z]{26}", i) for i in ids)


@pytest.mark.parametrize(
    "question",
    ["我想申请退款", "转账限额是多少", "I want to close my account", "转账一直没到账怎么办"],
)
def test_in_domain_questions_the_faq_does_not_answer_escalate(
    service: QAService, question: str
) -> None:
    a = service.ask(question)
    assert a.escalate and a.answer is None and a.passages  # suggestions stay for agents
    assert a.escalation["reason"] in {"out_of_scope", "low_confidence", "ambiguous"}


def test_confidence_is_higher_for_answers_than_for_escalations(service: QAService) -> None:
    answered = service.ask("忘记密码了怎么办?")
    refused = service.ask("我想申请退款")
    assert answered.confidence > service.calibration.answer_threshold > refused.confidence
