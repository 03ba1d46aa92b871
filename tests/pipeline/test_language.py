"""The customer's language: the message's, the conversation's, and the passage rendered."""

from __future__ import annotations

import pytest

from qa_service.pipeline.language import localise, main_language, reply_language, tells


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("忘记密码怎么办", "zh"),
        ("How do I reset my password?", "en"),
        ("okpay的customer service怎么reach到", "zh"),  # Chinese grammar, English words
        ("how do I 充值 with a visa card", "en"),
        ("VISA?", "en"),
        ("嗯", "zh"),
    ],
)
def test_main_language(text: str, lang: str) -> None:
    assert main_language(text) == lang


def test_short_messages_keep_the_conversations_language() -> None:
    assert not tells("ok") and not tells("88") and not tells("好")
    assert tells("thanks a lot") and tells("谢谢")
    # "ok" in an English conversation, "visa?" too; a new telling message switches.
    assert reply_language("ok", ["en"]) == "en"
    assert reply_language("ok", ["zh", "en"]) == "en"
    assert reply_language("好", ["en"]) == "en"
    assert reply_language("好的谢谢", ["en"]) == "zh"
    assert reply_language("ok", []) == "en"
    # The widget's data-lang wins over everything.
    assert reply_language("忘记密码怎么办", ["zh"], hint="en") == "en"
    assert reply_language("ok", ["en"], hint="zh") == "zh"


ZH = "首先,点击忘记密码。接着,打开邮件里的链接。"
EN = "First, click Forgot password. Next, open the link in the email."
PASSAGE = {
    "id": "pw#1",
    "faq_id": "pw",
    "title": "忘记密码怎么办?",
    "text": ZH,
    "highlights": [{"start": ZH.index("接着"), "end": len(ZH)}],
    "related": [{"faq_id": "help", "title": "帮助中心"}],
}
RENDERED = {"pw#1": {"en": {"title": "Forgot your password?", "text": EN}}}


def test_localise_renders_with_the_original_and_the_highlight() -> None:
    out = localise(PASSAGE, "en", RENDERED, {"help": {"en": "Help centre"}})
    assert out["text"] == EN and out["title"] == "Forgot your password?" and out["lang"] == "en"
    assert out["original"] == {"lang": "zh", "title": "忘记密码怎么办?", "text": ZH}
    # The second sentence is highlighted in both.
    (h,) = out["highlights"]
    assert EN[h["start"] : h["end"]] == "Next, open the link in the email."
    assert out["related"] == [{"faq_id": "help", "title": "Help centre"}]
    assert PASSAGE["text"] == ZH  # the cached passage is not changed


def test_localise_leaves_a_passage_without_rendering() -> None:
    assert localise(PASSAGE, "zh", RENDERED) == {**PASSAGE, "lang": "zh"}
    assert localise(PASSAGE, "en", {}) == {**PASSAGE, "lang": "zh"}
    # A rendering with other sentences keeps the text but drops the highlight.
    other = {"pw#1": {"en": {"title": "T", "text": "One sentence only."}}}
    assert localise(PASSAGE, "en", other)["highlights"] == []
