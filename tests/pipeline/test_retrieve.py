import dataclasses

from qa_service.pipeline.config import PipelineConfig
from qa_service.pipeline.normalise import normalise
from qa_service.pipeline.retrieve import Retriever


def _search(service, question: str, cfg: PipelineConfig | None = None):
    retriever = Retriever(service.index, cfg or PipelineConfig())
    norm = normalise(question)
    return retriever.search(norm, service.embedder.encode_queries([norm])[0], top_k=5)


def test_fused_ranking_and_features(service) -> None:
    r = _search(service, "提现要收手续费吗")
    top = service.index.entries[int(r.entry_order[0])]["id"]
    assert top == "withdrawal-fees" and r.hits[0].passage.faq_id == top
    f = r.signals.as_dict()
    assert f["margin"] >= 0 and f["lex_max"] > 0 and 0 <= f["clf_top"] <= 1
    assert {"reject_gap", "missing_terms", "clf_reject"} <= set(f)


def test_english_question_gets_no_lexical_vote(service) -> None:
    r = _search(service, "what is the weather tomorrow")
    assert r.signals.lex_max == 0 and not r.lexical_scores.any()


def test_each_leg_can_be_switched_off(service) -> None:
    base = PipelineConfig()
    for cfg in (
        dataclasses.replace(base, lexical_weight=0.0),
        dataclasses.replace(base, use_passages=False),
        dataclasses.replace(base, use_questions=False),
        dataclasses.replace(base, matcher_weight=0.0),
    ):
        r = _search(service, "忘记密码了怎么办", cfg)
        assert r.hits[0].passage.faq_id == "password-reset"
    no_matcher = _search(service, "忘记密码了怎么办", dataclasses.replace(base, matcher_weight=0.0))
    assert no_matcher.signals.clf_top is None


def test_the_passage_that_answers_is_shown_and_its_sentence_marked(service) -> None:
    a = service.ask("支持Visa卡吗?")
    top = a.passages[0]
    assert top["id"] == "payment-methods#2"
    (span,) = top["highlights"]
    assert "Visa" in top["text"][span["start"] : span["end"]]


def test_a_context_passage_is_never_the_answer(service) -> None:
    for q in ("怎么联系你们的客服?", "如何联系OKPAY客服", "有哪些联系方式"):
        a = service.ask(q, top_k=5)
        assert a.passages[0]["id"] != "contact-channels#2"


def test_the_answer_lists_the_rest_of_its_entry(service) -> None:
    a = service.ask("忘记密码了怎么办")
    assert not a.escalate and a.answer is not None
    rest = {p["id"] for p in a.answer["other_passages"]}
    assert rest == {"password-reset#1", "password-reset#2"} - {a.answer["id"]}
