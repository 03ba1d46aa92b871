"""Typo correction by sound, toward the corpus's words."""

from __future__ import annotations

import pytest

from qa_service.pipeline.normalise import normalise
from qa_service.pipeline.spell import Speller, is_word
from qa_service.service import QAService

WORDS = {"冻结": 3, "提现": 4, "密码": 5, "忘记": 2, "找回": 2, "充值": 3, "重置": 2, "邮箱": 2}


@pytest.fixture(scope="module")
def speller() -> Speller:
    return Speller(WORDS)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("账户被东结了怎么办", "账户被冻结了怎么办"),  # toneless homophone, not a word itself
        ("冲值用什么方式", "充值用什么方式"),  # the tones pick 充值 over 重置 (both chongzhi)
        ("客服邮相在哪里", "客服邮箱在哪里"),
        ("mima wang le zenme zhaohui", "密码 wang le zenme 找回"),  # typed pinyin
        ("wang ji mi ma le 怎么办", "忘记 密码 le 怎么办"),  # pinyin split into syllables
    ],
)
def test_misheard_spans_become_corpus_words(speller: Speller, typed: str, meant: str) -> None:
    assert speller.correct(normalise(typed)) == meant


@pytest.mark.parametrize(
    "text",
    [
        "我想重置密码",  # right already
        "充值方式有哪些",  # 哪些 sounds like nothing here, and is a word
        "okpay froze my account, what should i do",  # English is not read as pinyin
        "women change pin",  # every word is pinyin-like, but none spells a target
        "有实体卡吗",  # 有实 sounds like 有事, but rewriting it would break the word 实体
        "",
    ],
)
def test_right_text_and_english_are_left_alone(speller: Speller, text: str) -> None:
    assert speller.correct(text) == text


def test_targets_are_real_words_and_shared_sounds_go_to_the_commoner_word() -> None:
    # 密马 is a typo example in a corpus, not a word: it is no target.
    assert is_word("密码") and not is_word("密马")
    sp = Speller({"密码": 2, "密马": 1, "邮箱": 5, "油箱": 1, "事故": 1, "世故": 1})
    assert "密马" not in sp.words
    assert sp.correct("邮相") == "邮箱"  # 油箱 shares the sound and tones, but is rarer
    assert sp.correct("是故") == "是故"  # a tie between 事故 and 世故: no target at all
    assert len(Speller([])) == 0 and Speller([]).correct("东结") == "东结"


def test_words_jieba_lacks_are_not_read_as_misheard_neighbours() -> None:
    # Without 微信 as a word, its 信 joined 密码 into 信密码, heard as 新密码.
    sp = Speller({"新密码": 1, "密码": 3})
    assert is_word("微信")
    assert sp.correct("微信密码忘了") == "微信密码忘了"
    assert sp.correct("信密码忘了") == "新密码忘了"  # a real mishearing still is corrected


def test_targets_are_words_the_corpus_uses_as_words() -> None:
    # Search-mode segmentation finds 新密 (a place) inside 新密码; the corpus never uses it.
    sp = Speller.from_texts(["设置新密码", "密码忘了", "忘了密码怎么办"])
    assert "新密" not in sp.words and {"密码", "新密码"} <= sp.words
    assert sp.correct("蜜码忘了") == "密码忘了"


def test_service_corrects_typos_against_its_own_corpus(service: QAService) -> None:
    typed = service.ask("帐户被东结了怎么办")
    assert not typed.escalate and typed.answer["faq_id"] == "account-frozen"
    pinyin = service.ask("mima wang le zenme zhaohui")
    assert pinyin.passages[0]["faq_id"] == "password-reset"
    # Off, the same question is matched on its raw sound-alike text only.
    raw = QAService(service.settings, embedder=service.embedder, correct_spelling=False)
    raw.load()
    assert raw.speller is None and service.speller is not None
    assert len(service.speller) > 100
