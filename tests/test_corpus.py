from __future__ import annotations

from pathlib import Path

import pytest

from qa_service.corpus import CorpusError, load_corpus, split_long

from .conftest import CORPUS, SEED

TOPICS = {
    "contact-live-chat",
    "contact-phone",
    "contact-email",
    "contact-social-media",
    "help-center",
    "account-safety",
    "password-reset",
    "payment-methods",
    "account-frozen",
    "withdrawal-fees",
}


def test_shipped_corpus_keeps_the_article_verbatim() -> None:
    corpus = load_corpus(CORPUS)
    assert TOPICS <= {e.id for e in corpus.entries}
    if SEED.exists():
        article = SEED.read_text("utf-8").splitlines()[1:]  # line 1 is a timestamp
        paragraphs = {line.strip() for line in article if line.strip()}
        texts = {p.text for p in corpus.passages}
        # Every passage is an article paragraph, and every paragraph is indexed once.
        assert texts == paragraphs
    pw = corpus.entry("password-reset")
    assert pw.question == "忘记密码怎么办?" and pw.alt_questions and pw.tags
    assert corpus.passages[0].source == "corpus/okpay_faq.zh.md"


def _write(tmp: Path, name: str, text: str | bytes) -> Path:
    p = tmp / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return p


ENTRY = "---\nid: {id}\nquestion: 问题{id}\n---\n\n答案{id}。\n"


def test_directory_mixes_markdown_and_jsonl(tmp_path: Path) -> None:
    _write(tmp_path, "a.md", ENTRY.format(id="a") + ENTRY.format(id="b"))
    _write(
        tmp_path,
        "c.jsonl",
        '{"id": "c", "question": "怎么退款", "answer": "第一段\\n\\n第二段", '
        '"alt_questions": ["退钱"], "tags": ["refund"], "url": "https://x.test/c"}\n',
    )
    corpus = load_corpus(tmp_path)
    assert [e.id for e in corpus.entries] == ["a", "b", "c"]
    assert [p.id for p in corpus.passages if p.faq_id == "c"] == ["c#1", "c#2"]
    assert load_corpus(tmp_path / "c.jsonl").entries[0].alt_questions == ("退钱",)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("dup.md", ENTRY.format(id="x") + ENTRY.format(id="x"), "dup.md:7: duplicate id 'x'"),
        ("empty.md", "---\nid: e\nquestion: q\n---\n\n", "empty.md:1: empty answer"),
        (
            "unk.md",
            "---\nid: u\nquestion: q\ncolour: red\n---\nA\n",
            "unk.md:1: unknown field(s) colour",
        ),
        (
            "bad.jsonl",
            '{"id": "a", "question": "q", "answer": "A"}\n{"id": ',
            "bad.jsonl:2: malformed JSON",
        ),
        (
            "unk.jsonl",
            '{"id": "a", "question": "q", "answer": "A", "extra": 1}\n',
            "unk.jsonl:1: unknown field(s) extra",
        ),
        (
            "enc.md",
            b"---\nid: a\nquestion: q\n---\n" + b"\xff\xfe bad\n",
            "enc.md:5: not valid UTF-8",
        ),
        ("yaml.md", "---\nid: a\nquestion: [unclosed\n---\nA\n", "yaml.md:"),
        ("open.md", "---\nid: a\nquestion: q\n", "open.md:1: front matter is not closed"),
        (
            "rel.md",
            ENTRY.format(id="a") + "---\nid: b\nquestion: q\nrelated: [a, nope, b]\n---\nB\n",
            "rel.md:7: 'related' names 'nope', 'b', which is not another entry of the corpus",
        ),
        (
            "noans.jsonl",
            '{"id": "a", "question": "q", "answer": "  "}\n',
            "noans.jsonl:1: empty answer",
        ),
    ],
)
def test_validation_names_file_and_line(tmp_path: Path, name: str, content, expected: str) -> None:
    _write(tmp_path, name, content)
    with pytest.raises(CorpusError) as err:
        load_corpus(tmp_path)
    assert expected in str(err.value)
    assert "nothing was indexed" in str(err.value)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "a.jsonl",
        '{"id": "a", "question": "q"}\n{"id": "a", "question": "q", "answer": "A", "x": 1}\n',
    )
    with pytest.raises(CorpusError) as err:
        load_corpus(tmp_path)
    assert len(err.value.problems) == 2


def test_missing_corpus_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="no such file"):
        load_corpus(tmp_path / "nope")
    with pytest.raises(CorpusError, match="no corpus files"):
        load_corpus(tmp_path)


def test_long_paragraphs_split_on_sentence_boundaries() -> None:
    text = "这是一句话。" * 100
    chunks = split_long(text, limit=60)
    assert all(len(c) <= 60 for c in chunks)
    assert "".join(chunks) == text
    assert all(c.endswith("。") for c in chunks)


def test_not_covered_questions_file(tmp_path: Path) -> None:
    _write(tmp_path, "a.md", ENTRY.format(id="a"))
    _write(tmp_path, "gaps.escalate.txt", "# comment\n\n我要退款\nclose my account\n")
    corpus = load_corpus(tmp_path)
    assert [(n.text, n.line) for n in corpus.negatives] == [
        ("我要退款", 3),
        ("close my account", 4),
    ]
    assert corpus.negatives[0].source.endswith("gaps.escalate.txt")
    shipped = load_corpus(CORPUS)
    assert len(shipped.negatives) >= 50


def test_related_entries_in_markdown_and_jsonl(tmp_path: Path) -> None:
    _write(tmp_path, "a.md", "---\nid: a\nquestion: q\nrelated: [b]\n---\n\nA\n")
    _write(tmp_path, "b.jsonl", '{"id": "b", "question": "q", "answer": "B", "related": ["a"]}\n')
    corpus = load_corpus(tmp_path)
    assert corpus.entry("a").related == ("b",) and corpus.entry("b").related == ("a",)


def test_translations_in_markdown_and_jsonl(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "a.md",
        "---\nid: a\nquestion: 怎么退款?\ntranslations:\n  en:\n    question: How do I get a refund?\n"
        "    source: rendered by the editor\n    answer: |\n      Ask the shop first. It refunds\n"
        "      within 3 days.\n\n      Then wait.\n---\n\n先联系商户。商户3天内退款。\n\n然后等待。\n",
    )
    _write(
        tmp_path,
        "b.jsonl",
        '{"id": "b", "question": "限额", "answer": "每日限额。", '
        '"translations": {"en": {"question": "Limits", "answer": "A daily limit."}}}\n',
    )
    corpus = load_corpus(tmp_path)
    a = corpus.entry("a")
    assert a.translations["en"].question == "How do I get a refund?"
    assert a.translations["en"].source == "rendered by the editor"
    # One rendering a paragraph; a wrapped line is one paragraph.
    assert [p.translations["en"]["text"] for p in corpus.passages if p.faq_id == "a"] == [
        "Ask the shop first. It refunds within 3 days.",
        "Then wait.",
    ]
    b = next(p for p in corpus.passages if p.faq_id == "b")
    assert b.translations == {"en": {"title": "Limits", "text": "A daily limit."}}


@pytest.mark.parametrize(
    ("translations", "expected"),
    [
        (
            '{"en": {"question": "Q", "answer": "One.\\n\\nTwo."}}',
            "t.jsonl:1: translations.en: the answer has 2 paragraph(s) and the original 1",
        ),
        ('{"english": {"question": "Q", "answer": "A"}}', "'english' is not a language code"),
        ('{"en": {"answer": "A"}}', "t.jsonl:1: translations.en: 'question' is missing"),
        ('{"en": {"question": "Q", "answer": "A", "tone": 1}}', "unknown field(s) tone"),
        ('["en"]', "t.jsonl:1: 'translations' must map a language code"),
    ],
)
def test_bad_translations_name_file_and_line(tmp_path: Path, translations: str, expected) -> None:
    _write(
        tmp_path,
        "t.jsonl",
        f'{{"id": "a", "question": "q", "answer": "答。", "translations": {translations}}}\n',
    )
    with pytest.raises(CorpusError) as err:
        load_corpus(tmp_path)
    assert expected in str(err.value)


def test_shipped_corpus_renders_every_passage_in_english() -> None:
    corpus = load_corpus(CORPUS)
    for e in corpus.entries:
        en = e.translations["en"]
        assert en.question and "article" in en.source
    # Sentence for sentence, so a highlighted sentence has its rendering.
    from qa_service.corpus import sentences

    for p in corpus.passages:
        assert len(sentences(p.translations["en"]["text"])) == len(sentences(p.text)), p.id
