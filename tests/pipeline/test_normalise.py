from pathlib import Path

import pytest

from qa_service.corpus import load_corpus
from qa_service.pipeline.normalise import (
    NormaliseError,
    clean,
    detect_language,
    has_content,
    load_spec,
    normalise,
    normaliser,
)

ROOT = Path(__file__).resolve().parents[2]
# The OKPAY corpus's rules (corpus/normalise.yaml) on top of the packaged ones.
okpay = load_corpus(ROOT / "corpus").normalise


def test_normalise_folds_width_script_case_and_slang() -> None:
    assert normalise("ＡＢＣ") == "abc"
    assert normalise("忘記密碼怎麼辦") == "忘记密码怎么办"
    assert normalise("密码忘了咋办") == "密码忘了怎么办"
    assert normalise("forgot my PW") == "forgot my password"
    assert normalise("帳戶被凍結") == "账户被冻结"


def test_a_corpus_adds_its_own_words() -> None:
    # The brand in any case reads as the corpus writes it (the encoder is case-sensitive).
    assert okpay("ＯＫＰＡＹ") == okpay("okpay") == okpay("OkPay") == "OKPAY"
    assert okpay("怎么找回okpay的密码") == "怎么找回OKPAY的密码"
    assert normalise("怎么找回okpay的密码") == "怎么找回okpay的密码"  # not another corpus's
    # Real words the speller must leave alone, but typos in a payment chat.
    assert okpay("体现要手续费吗") == "提现要手续费吗"
    assert normalise("体现要手续费吗") == "体现要手续费吗"
    assert okpay("客服电化多少") == "客服电话多少"
    # The hotline by any name is the phone entry's 热线电话.
    assert okpay("客服熱線在哪裡") == okpay("客服专线在哪里") == "客服热线电话在哪里"
    assert okpay("热线电话是多少") == "热线电话是多少"
    assert okpay("密码忘了咋办") == "密码忘了怎么办"  # the packaged rules still apply


def test_a_corpus_file_overrides_and_removes_packaged_words(tmp_path: Path) -> None:
    (tmp_path / "normalise.yaml").write_text(
        "replace:\n  咋: null\n  掉了: 丢失\nwords:\n  pls: null\n  sim: SIM卡\n", "utf-8"
    )
    norm = normaliser(load_spec(tmp_path))
    assert norm("手机掉了咋办 pls") == "手机丢失咋办 pls"
    assert norm("my sim is broken") == "my SIM卡 is broken"


def test_a_broken_file_names_its_lines(tmp_path: Path) -> None:
    (tmp_path / "normalise.yaml").write_text(
        "words:\n  两个词: x\ndrop:\n  - '(unclosed'\n  - '{{nowhere}}'\nextra: 1\n", "utf-8"
    )
    with pytest.raises(NormaliseError) as exc:
        load_spec(tmp_path)
    problems = exc.value.problems
    assert any(p.startswith(f"{tmp_path.name}/normalise.yaml:2:") for p in problems), problems
    assert any(":4: pattern does not compile" in p for p in problems), problems
    assert any(":5: '{{nowhere}}' is not defined" in p for p in problems), problems
    assert any(":6: unknown section 'extra'" in p for p in problems), problems


def test_a_channel_the_customer_does_not_want_is_dropped() -> None:
    normalise = okpay  # the channel clauses are OKPAY's: its FAQ lists contact channels
    assert normalise("想打字问客服 不想打电话") == "想打字问客服"
    assert normalise("除了打电话还能咋联系你们") == "还能怎么联系你们"
    assert normalise("打电话太麻烦了,有没有能打字问客服的") == "有没有能打字问客服的"
    assert normalise("can i email support instead of calling") == "can i email support"
    assert normalise("Besides email, how else can I reach you?") == "how else can i reach you?"
    assert (
        normalise("prefer email over phone, where do i send it")
        == "prefer email , where do i send it"
    )
    assert normalise("我不太习惯在线聊天,发邮件可以吗") == "我 ,发邮件可以吗"
    assert normalise("不想打电话也不想等邮件 能在网上打字问吗") == "也 能在网上打字问吗"
    # Only channels: other negations are the question itself.
    assert normalise("除了设个复杂点的密码还有啥办法") == "除了设个复杂点的密码还有什么办法"
    assert normalise("不想打电话") == "不想打电话"  # nothing else left to match


def test_no_corpus_drops_clauses_by_default() -> None:
    assert normalise("除了打电话还能咋联系你们") == "除了打电话还能怎么联系你们"


def test_clean_drops_controls_and_surrogates() -> None:
    assert clean("a\x00b\u200bc\n\t d") == "ab c d"
    assert clean("x\ud800y") == "xy"


def test_language_and_content() -> None:
    assert detect_language("how do I reset my password") == "en"
    assert detect_language("reset 密码") == "zh"
    assert not has_content("😀😀!!??")
    assert has_content("密码")
