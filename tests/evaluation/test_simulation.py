"""The living-FAQ simulation on a tiny corpus and the hashing embedder: every scenario is
fitted and asked, and the editor's scenario fits on the other entries' labels only."""

from __future__ import annotations

import json
from pathlib import Path

from qa_service.corpus import load_corpus
from qa_service.embedders.hashing import HashingEmbedder
from qa_service.evaluation.simulation import markdown, pooled, simulate
from qa_service.labelled import load_questions

ENTRIES = [
    ("refund", "怎么申请退款?", "在订单页点击申请退款。", ["退款怎么弄", "钱能退回来吗", "退钱"]),
    ("password", "忘记密码怎么办?", "在登录页点击忘记密码。", ["密码忘了", "找回密码", "改密码"]),
    ("shipping", "多久发货?", "下单后四十八小时内发货。", ["什么时候发货", "发货要几天", "几天到"]),
    ("invoice", "怎么开发票?", "在订单详情里申请电子发票。", ["发票怎么开", "要发票", "开票"]),
]


def test_every_scenario_is_fitted_and_scored(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rows = [
        {"id": i, "question": q, "answer": a, "alt_questions": alts} for i, q, a, alts in ENTRIES
    ]
    (corpus / "faq.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8"
    )
    (corpus / "not_covered.escalate.txt").write_text("余额有利息吗\n", "utf-8")
    questions = tmp_path / "q.jsonl"
    labelled = [(q, i) for i, _, _, alts in ENTRIES for q in alts] + [("今天天气怎么样", None)]
    questions.write_text(
        "\n".join(
            json.dumps(
                {"question": q, "expected": [i] if i else [], "escalate": i is None},
                ensure_ascii=False,
            )
            for q, i in labelled
        )
        + "\n",
        "utf-8",
    )
    got = simulate(
        load_corpus(corpus),
        load_questions(questions),
        HashingEmbedder(),
        alts=(None, 0),
        held_out_folds=2,
    )
    names = [r.scenario for r in got]
    assert names == [
        "alts=all",
        "alts=0",
        "held-out 1/2",
        "new 1/2",
        "editor 1/2",
        "held-out 2/2",
        "new 2/2",
        "editor 2/2",
    ]
    editor = pooled(got, "editor")
    assert editor is not None and editor.n_answerable == 12  # each entry's 3 questions, once
    for r in got:
        assert 0.0 <= r.answered_right <= 1.0 and 0.0 <= r.wrong <= 1.0
    assert "| editor (pooled) |" in markdown([*got, editor])
