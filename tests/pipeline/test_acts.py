"""Dialogue acts: the data files, the fitted classifier and what the service does with them."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa_service.corpus import CorpusError, load_corpus
from qa_service.evaluation.dialogue import load_messages, score
from qa_service.pipeline import acts
from qa_service.pipeline.acts import ESCALATE, HANDOFF, SMALL_TALK, Act, ActModel
from qa_service.service import QAService

DATA = Path(__file__).parents[1] / "data" / "dialogue"


def _corpus(tmp_path: Path, acts_yaml: str | None) -> Path:
    folder = tmp_path / "faq"
    folder.mkdir()
    (folder / "faq.jsonl").write_text(
        '{"id": "pay", "question": "怎么付款", "answer": "可以用银行卡付款。"}\n', "utf-8"
    )
    if acts_yaml is not None:
        (folder / "acts.yaml").write_text(acts_yaml, "utf-8")
    return folder


def test_every_packaged_act_has_examples_and_replies_in_both_languages() -> None:
    spec = acts.load_spec(None)
    assert set(spec["kinds"]) >= {"greeting", "thanks", "goodbye", "ack", "human", "urgent"}
    assert spec["kinds"]["follow-up"] == acts.CONTEXT
    for act, kind in spec["kinds"].items():
        assert len(spec["examples"][act]) >= 10, act
        if kind != acts.CONTEXT:  # a follow-up is answered, not replied to
            assert set(spec["replies"][act]) == {"zh", "en"}, act


def test_a_corpus_adds_examples_and_replaces_replies(tmp_path: Path) -> None:
    folder = _corpus(
        tmp_path,
        "kinds:\n  complaint: escalate\n"
        "examples:\n  greeting: [早安呀]\n  complaint: [我要投诉, i want to complain]\n"
        "replies:\n  greeting: {zh: 欢迎光临小店！}\n"
        "  complaint: {zh: 已为您转给投诉专员。, en: Passed to our complaints team.}\n",
    )
    spec = load_corpus(folder).acts
    assert "早安呀" in spec["examples"]["greeting"] and "你好" in spec["examples"]["greeting"]
    assert spec["replies"]["greeting"]["zh"] == "欢迎光临小店！"
    assert spec["replies"]["greeting"]["en"].startswith("Hello")  # kept from the package
    assert spec["kinds"]["complaint"] == "escalate"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("examples:\n  nope: [x]\n", "'kinds' does not name"),
        ("kinds:\n  complaint: escalate\n", "no reply for complaint"),
        ("replies:\n  greeting: {fr: Bonjour}\n", "maps zh and en"),
        ("examples: [\n", "not valid YAML"),
    ],
)
def test_a_bad_acts_file_is_reported(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(CorpusError) as err:
        load_corpus(_corpus(tmp_path, text))
    assert any(problem in p for p in err.value.problems), err.value.problems


def test_the_build_carries_the_fitted_acts(service: QAService) -> None:
    model = service.index.acts
    assert model is not None
    assert set(model.spec["kinds"]) <= set(model.classes)
    assert {acts.FAQ, acts.NOT_COVERED, acts.OFF_TOPIC} <= set(model.classes)
    for act, fit in model.fit_report.items():
        assert 0.0 < fit["recall"] <= 1.0, act


@pytest.mark.parametrize(
    ("question", "kind", "lang"),
    [("你好", "greeting", "zh"), ("谢谢你 帮大忙了", "thanks", "zh"), ("thanks!", "thanks", "en")],
)
def test_small_talk_gets_a_reply_in_its_language(
    service: QAService, question: str, kind: str, lang: str
) -> None:
    a = service.ask(question)
    assert a.reply is not None and a.reply["kind"] == kind
    assert not a.escalate and a.answer is None and a.passages == []
    assert a.reply["text"] == service.index.acts.reply(kind, lang)


@pytest.mark.parametrize(
    "question",
    # The last two sit by the contact entries, which would answer them 0.97-0.99 sure.
    [
        "转人工",
        "人工",
        "I want to talk to a human",
        "我要找人工客服",
        "有没有真人客服啊 我要找人工",
    ],
)
def test_asking_for_a_person_is_a_handoff(service: QAService, question: str) -> None:
    a = service.ask(question)
    assert a.escalate and a.escalation["reason"] == "human_requested"
    assert a.escalation["url"].startswith(service.settings.escalation_url + "?handoff=q_")
    assert a.reply is None and a.answer is None


@pytest.mark.parametrize(
    "question",
    # the last asks "what do I do", as the corpus's own "怎么防止被盗号" does (answered below)
    ["我的账号被盗了", "有人盗刷了我账户里的钱", "我被骗了 钱转给了骗子", "我被盗号了怎么办"],
)
def test_an_emergency_goes_to_a_person_first(service: QAService, question: str) -> None:
    a = service.ask(question)
    assert a.escalate and a.escalation["reason"] == "urgent"
    assert "修改密码" in a.escalation["message"]
    assert a.passages  # the agent still sees the suggestions


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("你好,提现手续费怎么算", "withdrawal-fees"),
        ("我的账户被冻洁了", "account-frozen"),
        ("怎么防止被盗号", "account-safety"),
    ],
)
def test_an_faq_question_is_not_taken_for_an_act(
    service: QAService, question: str, entry: str
) -> None:
    a = service.ask(question)
    assert a.reply is None and not a.escalate
    assert a.answer["faq_id"] == entry


def test_every_answer_carries_a_conversation(service: QAService) -> None:
    first = service.ask("你好")
    assert first.conversation_id and first.conversation_id.startswith("c_")
    again = service.ask("忘记密码了怎么办", conversation_id=first.conversation_id)
    assert again.conversation_id == first.conversation_id


def test_the_acts_dev_set_is_recognised(service: QAService) -> None:
    """A regression gate on the acts dev set (the held-out set is scored by `qa-service
    dialogue`, docs/dialogue.md): FAQ questions are never taken for an act."""
    rows, _ = score(service, load_messages(DATA / "acts.jsonl"))
    by = {s.group: s for s in rows}
    assert by["question (all)"].share == 1.0
    assert by["urgent (all)"].share >= 0.75
    assert by["human (all)"].share >= 0.9


def test_a_request_for_a_person_beats_a_sure_answer_and_an_emergency_does_not() -> None:
    person = Act("human", HANDOFF, 0.6)
    assert ActModel.overrides(person, faq_escalates=False, faq_confidence=0.99)
    # An emergency, or small talk, replaces an answer only when at least as probable.
    urgent = Act("urgent", ESCALATE, 0.6)
    assert not ActModel.overrides(urgent, faq_escalates=False, faq_confidence=0.99)
    assert ActModel.overrides(urgent, faq_escalates=False, faq_confidence=0.5)
    assert ActModel.overrides(Act("thanks", SMALL_TALK, 0.2), faq_escalates=True, faq_confidence=0)


def test_a_follow_up_is_read_with_the_conversation(service: QAService) -> None:
    first = service.ask("账户被冻结了怎么办", conversation_id="frozen-1")
    assert first.answer["faq_id"] == "account-frozen"
    alone = service.ask("一般是什么原因导致的?")
    assert alone.escalate  # means nothing alone
    follow = service.ask("一般是什么原因导致的?", conversation_id="frozen-1")
    assert not follow.escalate and follow.answer["faq_id"] == "account-frozen"
    assert follow.understood_as == "账户被冻结了怎么办 一般是什么原因导致的?"


def test_a_new_question_is_not_pulled_back_to_the_old_topic(service: QAService) -> None:
    service.ask("忘记密码了怎么办", conversation_id="switch-1")
    new = service.ask("提现手续费是多少", conversation_id="switch-1")
    assert new.answer["faq_id"] == "withdrawal-fees" and new.understood_as is None


def test_two_escalations_in_a_row_offer_a_person_up_front(service: QAService) -> None:
    for q in ("今天天气怎么样", "帮我写一首诗"):
        assert service.ask(q, conversation_id="failing-1").escalate
    after = service.ask("忘记密码了怎么办", conversation_id="failing-1")
    assert not after.escalate and after.offer_human["url"] == service.settings.escalation_url
    assert service.ask("忘记密码了怎么办", conversation_id="fresh-1").offer_human is None
