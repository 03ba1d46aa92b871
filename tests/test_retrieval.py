import dataclasses

from qa_service.retrieval import RetrievalConfig, Retriever
from qa_service.text import normalise


def _search(service, question: str, cfg: RetrievalConfig | None = None):
    retriever = Retriever(service._live.index, cfg or RetrievalConfig())
    norm = normalise(question)
    return retriever.search(norm, service.embedder.encode_queries([norm])[0], top_k=5)


def test_fused_ranking_and_features(service) -> None:
    r = _search(service, "提现要收手续费吗")
    top = service._live.index.entries[int(r.entry_order[0])]["id"]
    assert top == "withdrawal-fees" and r.hits[0].passage.faq_id == top
    f = r.features
    assert f["margin"] >= 0 and f["lex_max"] > 0 and 0 <= f["clf_top"] <= 1
    assert {"reject_gap", "missing_terms", "clf_reject"} <= set(f)


def test_english_question_gets_no_lexical_vote(service) -> None:
    r = _search(service, "what is the weather tomorrow")
    assert r.features["lex_max"] == 0 and not r.lexical_scores.any()


def test_each_leg_can_be_switched_off(service) -> None:
    base = RetrievalConfig()
    for cfg in (
        dataclasses.replace(base, lexical_weight=0.0),
        dataclasses.replace(base, use_passages=False),
        dataclasses.replace(base, use_questions=False),
        dataclasses.replace(base, matcher_weight=0.0),
    ):
        r = _search(service, "忘记密码了怎么办", cfg)
        assert r.hits[0].passage.faq_id == "password-reset"
    no_matcher = _search(service, "忘记密码了怎么办", dataclasses.replace(base, matcher_weight=0.0))
    assert "clf_top" not in no_matcher.features
