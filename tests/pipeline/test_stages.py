"""Each retrieval stage alone, on a tiny synthetic corpus embedded by the deterministic
hashing embedder: no model to load, the same vectors everywhere, milliseconds a test."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa_service.config import Settings
from qa_service.embedders import load_embedder
from qa_service.embedders.hashing import HashingEmbedder
from qa_service.index import IndexData, load_index
from qa_service.indexing import build_index
from qa_service.pipeline.config import PipelineConfig
from qa_service.pipeline.decide import Calibration, Decider
from qa_service.pipeline.dense import dense_scores
from qa_service.pipeline.fuse import fuse
from qa_service.pipeline.normalise import normalise
from qa_service.pipeline.retrieve import Retriever
from qa_service.pipeline.signals import Signals
from qa_service.service import QAService

ENTRIES = [
    {
        "id": "refund",
        "question": "怎么申请退款?",
        "answer": "在订单页点击申请退款。退款会在三到五个工作日内到账。",
        "alt_questions": ["退款怎么弄", "钱能退回来吗"],
    },
    {
        "id": "password",
        "question": "忘记密码怎么办?",
        "answer": "在登录页点击忘记密码,按邮件里的链接重置。",
        "alt_questions": ["密码忘了"],
    },
    {"id": "shipping", "question": "多久发货?", "answer": "下单后四十八小时内发货。"},
]
EMBEDDER = HashingEmbedder()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, IndexData]:
    root = tmp_path_factory.mktemp("tiny")
    corpus = root / "corpus"
    corpus.mkdir()
    lines = "\n".join(json.dumps(e, ensure_ascii=False) for e in ENTRIES)
    (corpus / "faq.jsonl").write_text(lines + "\n", "utf-8")
    (corpus / "not_covered.escalate.txt").write_text("怎么开发票\n", "utf-8")
    build_index(corpus, root / "index", EMBEDDER, fit=False)
    return root / "index", load_index(root / "index", expected_embedder=EMBEDDER.spec)


def _vec(text: str) -> np.ndarray:
    return EMBEDDER.encode_queries([normalise(text)])[0]


def _entry(index: IndexData, i: int) -> str:
    return index.entries[i]["id"]


def test_the_hashing_embedder_is_deterministic_and_chosen_by_spec() -> None:
    a = load_embedder("hashing").encode_queries(["忘记密码", "忘记密码", "发货"])
    assert a.shape == (3, 256) and np.allclose(a[0], a[1])
    assert np.isclose(np.linalg.norm(a[2]), 1.0) and a[0] @ a[2] < a[0] @ a[1]
    assert load_embedder("hashing:64").dim == 64


def test_dense_scores_one_per_entry_and_per_passage(tiny) -> None:
    _, index = tiny
    retriever = Retriever(index)
    dense = dense_scores(index, _vec("密码忘了怎么办"), retriever.passage_entry, PipelineConfig())
    assert dense.entries.shape == (3,) and dense.passages.shape == (len(index.passages),)
    assert _entry(index, int(np.argmax(dense.entries))) == "password"
    no_questions = dense_scores(
        index,
        _vec("密码忘了怎么办"),
        retriever.passage_entry,
        PipelineConfig(use_questions=False),
    )
    # Passages alone: each entry scores its best passage, discounted.
    best_passage = np.zeros(3, dtype=np.float32)
    np.maximum.at(best_passage, retriever.passage_entry, dense.passages)
    assert np.allclose(no_questions.entries, 0.9 * best_passage)
    assert (no_questions.entries <= dense.entries + 1e-6).all()


def test_fuse_adds_each_leg_by_its_weight() -> None:
    dense = np.asarray([0.5, 0.4, 0.1], dtype=np.float32)
    lexical = np.asarray([0.0, 2.0, 1.0])
    cfg = PipelineConfig(lexical_weight=0.2, matcher_weight=0.5)
    fused = fuse(dense, lexical, np.asarray([0.1, 0.8, 0.1, 0.0]), cfg)
    assert np.allclose(fused, dense + 0.2 * lexical / 2.0 + 0.5 * np.asarray([0.1, 0.8, 0.1]))
    # A leg with no signal at all (BM25 on an English question) gets no vote.
    assert np.allclose(fuse(dense, np.zeros(3), None, cfg), dense)


def test_fuse_lends_an_entry_with_a_title_only_half_the_best_matcher_vote() -> None:
    dense = np.asarray([0.5, 0.6, 0.1], dtype=np.float32)
    probs = np.asarray([0.8, 0.01, 0.1, 0.09])  # entry 1 has a title only: the matcher
    sparse = np.asarray([False, True, False])  # cannot know it
    cfg = PipelineConfig(
        lexical_weight=0.0, matcher_weight=0.3, matcher_sparse_below=3, matcher_sparse_share=0.5
    )
    fused = fuse(dense, np.zeros(3), probs, cfg, sparse)
    assert np.allclose(fused, dense + 0.3 * np.asarray([0.8, 0.4, 0.1]))
    assert int(np.argmax(fused)) == 0  # still behind a rich entry the matcher is sure of
    # Its own vote when that is higher, and nothing lent when every entry is alike.
    assert np.isclose(
        fuse(dense, np.zeros(3), np.asarray([0.2, 0.7, 0.1, 0.0]), cfg, sparse)[1], 0.6 + 0.3 * 0.7
    )
    everyone = np.ones(3, dtype=bool)
    assert np.allclose(fuse(dense, np.zeros(3), probs, cfg, everyone), dense + 0.3 * probs[:3])


def test_fuse_lets_the_dense_leg_stand_in_for_bm25_blind_by_language() -> None:
    dense = np.asarray([0.5, 0.6, 0.45], dtype=np.float32)
    silent = np.zeros(3)  # an English question against Chinese entries: no term in common
    cfg = PipelineConfig(lexical_weight=0.2, matcher_weight=0.0, lexical_blind_scale=0.05)
    blind = np.ones(3, dtype=bool)
    fused = fuse(dense, silent, None, cfg, blind=blind)
    votes = np.exp(-(0.6 - dense) / 0.05)
    assert np.allclose(fused, dense + 0.2 * votes)
    assert np.isclose(fused[1], 0.8)  # the nearest entry gets the vote BM25 gives its best
    # Entries in the question's own language keep BM25's vote; off, nothing is lent.
    mixed = fuse(dense, np.asarray([0.0, 0.0, 3.0]), None, cfg, blind=np.asarray([1, 1, 0], bool))
    assert np.isclose(mixed[2], 0.45 + 0.2) and np.isclose(mixed[1], 0.6 + 0.2)
    off = PipelineConfig(lexical_weight=0.2, matcher_weight=0.0, lexical_blind_scale=0.0)
    assert np.allclose(fuse(dense, silent, None, off, blind=blind), dense)


def test_retrieval_ranks_passages_and_marks_the_answering_sentence(tiny) -> None:
    _, index = tiny
    r = Retriever(index).search(normalise("退款多久到账"), _vec("退款多久到账"), top_k=2)
    top = r.hits[0]
    assert top.passage.faq_id == "refund"
    start, end = top.highlight
    assert "到账" in top.passage.text[start:end]


def test_signals_measured_for_the_best_entry(tiny) -> None:
    _, index = tiny
    s = Retriever(index).search(normalise("多久发货"), _vec("多久发货"), top_k=1).signals
    assert isinstance(s, Signals)
    assert s.top is not None and s.margin >= 0 and s.lex_agree == 1.0
    assert s.sparse == 1.0  # the best entry has a title only
    assert s.reject_gap is not None and s.reject_gap < 0  # not the "not covered" line
    near_reject = Retriever(index).search(normalise("怎么开发票"), _vec("怎么开发票"), 1).signals
    assert near_reject.reject_gap > 0


def test_the_default_calibration_decides() -> None:
    decider = Decider(Calibration())
    assert decider.decide(Signals(top=1.0, margin=0.5)).escalate is False
    assert decider.decide(Signals(top=0.1, margin=0.0)).reason == "low_confidence"
    assert decider.decide(Signals(top=1.0, margin=0.5, reject_gap=0.2)).escalate is True


def test_the_whole_service_runs_on_the_seam(tiny, tmp_path: Path) -> None:
    index_dir, _ = tiny
    settings = Settings(index_dir=index_dir, data_dir=tmp_path, embedder=EMBEDDER.spec)
    service = QAService(settings, embedder=EMBEDDER)
    service.load()
    answer = service.ask("忘记密码怎么办?")
    assert answer.passages[0]["faq_id"] == "password"
    assert service.ask("怎么开发票").escalate


def test_bm25_reads_titles_and_answers_not_alt_questions(tiny) -> None:
    """ "钱能退回来吗" is an alt question of the refund entry only: with the alt questions out of
    BM25, its words score nothing, so 300 wordings do not outvote a title-only entry."""
    _, index = tiny
    assert index.manifest["pipeline"]["lexical_examples"] is False
    assert index.lexical.scores(normalise("钱能退回来吗")).max() == 0.0
    assert index.lexical.scores(normalise("工作日到账")).argmax() == 0  # the answer's words


def test_bm25_may_read_the_alt_questions_too(tiny, tmp_path: Path) -> None:
    root, _ = tiny
    config = PipelineConfig(lexical_examples=True)
    build_index(root.parent / "corpus", tmp_path / "index", EMBEDDER, fit=False, config=config)
    index = load_index(tmp_path / "index", expected_embedder=EMBEDDER.spec)
    scores = index.lexical.scores(normalise("钱能退回来吗"))
    assert scores.argmax() == 0 and scores.max() > 0


def test_a_sparse_entry_is_judged_by_its_own_calibration() -> None:
    strict = Calibration(answer_threshold=0.9, features=["top"], coef=[1.0], intercept=0.0)
    lenient = Calibration(answer_threshold=0.5, features=["top"], coef=[1.0], intercept=0.0)
    strict.sparse = lenient
    decider = Decider(strict)
    rich = Signals(top=1.0, margin=0.5, sparse=1 / 301)  # 300 alt questions
    lone = Signals(top=1.0, margin=0.5, sparse=1.0)  # a title only
    two = Signals(top=1.0, margin=0.5, sparse=1 / 3)  # two alt questions: still sparse
    assert decider.decide(rich).escalate and not decider.decide(lone).escalate
    assert not decider.decide(two).escalate
    assert strict.for_signals(Signals(top=1.0, sparse=1 / 4)) is strict  # three: not sparse


def test_a_calibration_with_a_sparse_part_round_trips(tmp_path: Path) -> None:
    cal = Calibration(answer_threshold=0.7, sparse=Calibration(answer_threshold=0.4))
    cal.save(tmp_path / "cal.json")
    back = Calibration.load(tmp_path / "cal.json")
    assert isinstance(back.sparse, Calibration) and back.sparse.answer_threshold == 0.4
    assert Calibration.load(None).sparse is None  # the packaged default has none


def test_labelled_questions_naming_passages_order_the_passages_within_an_entry(
    tmp_path: Path,
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    entry = {
        "id": "frozen",
        "question": "账户被冻结了怎么办?",
        "answer": "账户会因为异常登录或者未完成实名认证被冻结。\n\n提交身份证照片后一个工作日内解冻。",
    }
    (corpus / "faq.jsonl").write_text(json.dumps(entry, ensure_ascii=False) + "\n", "utf-8")
    labelled = tmp_path / "passages.jsonl"
    rows = [
        ("为什么会被冻结", "frozen#1"),
        ("什么原因冻结的", "frozen#1"),
        ("要等几天才能恢复", "frozen#2"),
        ("多久能恢复使用", "frozen#2"),
        ("冻结了怎么办", "frozen"),  # names the entry, not a passage: left out
    ]
    labelled.write_text(
        "".join(
            json.dumps({"question": q, "expected": [e], "escalate": False}, ensure_ascii=False)
            + "\n"
            for q, e in rows
        ),
        "utf-8",
    )
    from qa_service.labelled import load_questions

    build_index(
        corpus,
        tmp_path / "index",
        EMBEDDER,
        fit=False,
        passage_questions=load_questions(labelled),
    )
    index = load_index(tmp_path / "index", expected_embedder=EMBEDDER.spec)
    assert index.passage_example_owner.tolist() == [0, 0, 1, 1]
    # The passages' own text shares no word with the question; its examples do.
    question = "要等几天恢复"
    hits = Retriever(index).search(normalise(question), _vec(question), top_k=2).hits
    assert hits[0].passage.id == "frozen#2"
    build_index(corpus, tmp_path / "plain", EMBEDDER, fit=False)
    plain = load_index(tmp_path / "plain")
    assert plain.passage_examples is None
    hits = Retriever(plain).search(normalise(question), _vec(question), top_k=2).hits
    assert hits[0].passage.id == "frozen#1"
