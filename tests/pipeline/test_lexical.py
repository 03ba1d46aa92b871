import numpy as np

from qa_service.pipeline.lexical import LexicalIndex, document_terms, query_terms, tokenize
from qa_service.pipeline.normalise import normalise


def test_tokenize_drops_question_frames_and_folds_script() -> None:
    assert tokenize(normalise("忘记密码了咋办?")) == ("忘记", "密码")
    assert tokenize(normalise("帳戶被凍結了")) == ("账户", "冻结")
    assert tokenize(normalise("How do I reset my PW")) == ("reset", "password")


def test_pinyin_meets_chinese_documents() -> None:
    assert {"mima", "wangji"} <= set(document_terms("忘记密码怎么办"))
    assert "mima" in query_terms("mi ma 忘了")
    assert "mima" in query_terms("mima忘了")


def test_bm25_ranks_and_english_gets_no_signal(tmp_path) -> None:
    docs = ["忘记密码怎么办 找回密码", "账户被冻结 解冻", "提现手续费"]
    lex = LexicalIndex.build(docs)
    scores = lex.scores("密码忘了")
    assert int(np.argmax(scores)) == 0 and scores[1] == scores[2] == 0
    assert int(np.argmax(lex.scores("mima wangle"))) == 0
    assert not lex.scores("what is the weather").any()
    lex.save(tmp_path / "bm25")
    again = LexicalIndex.load(tmp_path / "bm25", 3)
    assert np.allclose(again.scores("冻结"), lex.scores("冻结"))


def test_index_from_terms_scores_like_one_built_from_text() -> None:
    docs = ["忘记密码怎么重置", "提现手续费是多少", "账户被冻结了"]
    from_text = LexicalIndex.build(docs)
    from_terms = LexicalIndex.from_terms([document_terms(d) for d in docs])
    for q in ("密码", "mima", "手续费", "冻结"):
        np.testing.assert_array_equal(from_text.scores(q), from_terms.scores(q))
