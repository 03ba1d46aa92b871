"""The chat widget on the help page, as a customer meets it in Chromium."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from .conftest import AGENT_TOKEN, ESCALATION_URL, shot

pytestmark = pytest.mark.browser


def agent_feedback(server, query_id: str) -> list[dict]:
    r = httpx.get(
        f"{server.url}/v1/feedback",
        params={"query_id": query_id},
        headers={"Authorization": f"Bearer {AGENT_TOKEN}"},
        timeout=30,
    )
    r.raise_for_status()
    return r.json()["items"]


def open_widget(page, server) -> None:
    page.goto(server.url + "/")
    launcher = page.get_by_test_id("qa-launcher")
    expect(launcher).to_be_visible()
    launcher.click()
    expect(page.get_by_test_id("qa-input")).to_be_focused()


def send(page, question: str) -> None:
    """Type a question and press the send button, as a customer does."""
    page.get_by_test_id("qa-input").fill(question)
    page.get_by_test_id("qa-send").click()


def test_help_page_renders(server, zh_page) -> None:
    page, watch = zh_page
    page.goto(server.url + "/")
    expect(page.locator("h1")).to_contain_text("有什么可以帮您")
    expect(page.get_by_test_id("qa-launcher")).to_have_text("在线帮助")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    shot(page, "help-page-zh", full_page=True)
    assert watch.errors == []


def test_widget_answers_and_stores_helpful_feedback(server, zh_page) -> None:
    page, watch = zh_page
    open_widget(page, server)
    send(page, "忘记密码了怎么办")

    answer = page.get_by_test_id("qa-answer")
    expect(answer).to_have_count(1)
    expect(answer).to_contain_text("密码")
    expect(page.get_by_test_id("qa-source")).to_contain_text("忘记密码怎么办")
    log = page.get_by_test_id("qa-log")
    assert log.get_attribute("aria-live") == "polite" and log.get_attribute("role") == "log"

    reply = page.get_by_test_id("qa-reply")
    query_id = reply.get_attribute("data-query-id")
    page.get_by_test_id("qa-helpful-yes").click()
    expect(page.get_by_test_id("qa-feedback-status")).to_contain_text("感谢您的反馈")
    expect(page.get_by_test_id("qa-helpful-yes")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("qa-helpful-no")).to_be_disabled()
    shot(page, "widget-answer-zh")

    stored = agent_feedback(server, query_id)
    assert [(f["verdict"], f["source"], f["faq_id"]) for f in stored] == [
        ("correct", "customer", "password-reset")
    ]
    # A second question adds a second reply: one qa-answer per reply.
    page.get_by_test_id("qa-input").fill("提现手续费是多少?")
    page.keyboard.press("Enter")
    expect(answer).to_have_count(2)
    assert watch.errors == []


def test_contact_answer_offers_each_channel(server, zh_page) -> None:
    """The article's contact answer ends at "以下是几种主要的联系方法:"; the channels follow as
    related entries, and one tap asks for a channel."""
    page, watch = zh_page
    open_widget(page, server)
    send(page, "怎么联系客服")
    related = page.get_by_test_id("qa-related")
    expect(related).to_have_count(1)
    chips = related.locator("button")
    expect(chips).to_have_count(5)
    assert chips.evaluate_all("bs => bs.map(b => b.dataset.faqId)") == [
        "contact-live-chat",
        "contact-phone",
        "contact-email",
        "contact-social-media",
        "help-center",
    ]
    shot(page, "widget-related-zh")
    related.get_by_role("button", name="OKPAY的客服电话在哪里找?").click()
    answer = page.get_by_test_id("qa-answer")
    expect(answer).to_have_count(2)
    expect(answer.nth(1)).to_contain_text("热线电话")
    expect(page.get_by_test_id("qa-source").nth(1)).to_contain_text("客服电话")
    # An answer that is complete on its own offers nothing more.
    expect(page.get_by_test_id("qa-related")).to_have_count(1)
    assert watch.errors == []


def test_escalation_links_to_a_human(server, zh_page) -> None:
    page, watch = zh_page
    open_widget(page, server)
    send(page, "今天天气怎么样")

    link = page.get_by_test_id("qa-escalation")
    expect(link).to_be_visible()
    query_id = page.get_by_test_id("qa-reply").get_attribute("data-query-id")
    assert link.get_attribute("href") == f"{ESCALATION_URL}&handoff={query_id}"
    assert link.get_attribute("target") == "_blank"
    assert "noopener" in (link.get_attribute("rel") or "")
    expect(link).to_contain_text("联系人工客服")
    expect(page.get_by_test_id("qa-answer")).to_contain_text("人工客服")

    # An escalation is not an answer: nothing to vote on.
    expect(page.get_by_test_id("qa-helpful-no")).to_have_count(0)
    shot(page, "widget-escalation-zh")
    assert watch.errors == []


def test_small_talk_is_a_chat_and_a_person_is_one_message_away(server, zh_page) -> None:
    page, watch = zh_page
    open_widget(page, server)
    send(page, "你好")
    greeting = page.get_by_test_id("qa-smalltalk")
    expect(greeting).to_be_visible()
    expect(greeting).to_contain_text("请问有什么可以帮您")
    expect(page.get_by_test_id("qa-escalation")).to_have_count(0)
    expect(page.get_by_test_id("qa-helpful-yes")).to_have_count(0)
    first = page.evaluate("sessionStorage.getItem('qa-conversation-id')")
    assert first and first.startswith("c_")

    send(page, "转人工")
    link = page.get_by_test_id("qa-escalation")
    expect(link).to_be_visible()
    assert link.get_attribute("data-reason") == "human_requested"
    expect(page.get_by_test_id("qa-answer").last).to_contain_text("转接人工客服")
    # The second turn went out in the same conversation.
    assert page.evaluate("sessionStorage.getItem('qa-conversation-id')") == first
    shot(page, "widget-small-talk-and-handoff-zh")
    assert watch.errors == []


def test_escalation_for_a_missing_detail_offers_the_entry(server, zh_page) -> None:
    """Asked for the hotline's digits, which the FAQ does not give: a human link, and the
    phone entry (where the number is listed) one tap away."""
    page, watch = zh_page
    open_widget(page, server)
    send(page, "客服电话是多少?直接告诉我号码")
    expect(page.get_by_test_id("qa-escalation")).to_be_visible()
    expect(page.get_by_test_id("qa-answer")).to_contain_text("具体信息")
    related = page.get_by_test_id("qa-related")
    expect(related).to_have_count(1)
    expect(related).to_contain_text("相关问题")
    shot(page, "widget-escalation-detail-zh")
    related.get_by_role("button", name="OKPAY的客服电话在哪里找?").click()
    answer = page.get_by_test_id("qa-answer")
    expect(answer).to_have_count(2)
    expect(answer.nth(1)).to_contain_text("热线电话")
    assert watch.errors == []


@pytest.mark.parametrize(
    "attack",
    [
        pytest.param("<img src=x onerror=alert(1)>", id="img"),
        pytest.param("<script>alert('x')</script><b>bold</b>", id="script"),
        pytest.param('"><svg onload=alert(document.domain)>', id="svg"),
    ],
)
def test_typed_html_stays_text(server, zh_page, attack: str, request) -> None:
    page, watch = zh_page
    open_widget(page, server)
    send(page, attack)
    expect(page.get_by_test_id("qa-answer")).to_have_count(1)

    bubble = page.locator(".qa-user .qa-text")
    expect(bubble).to_have_text(attack)
    host = page.locator("#okpay-help-widget")
    assert host.locator("img, script:not([src]), svg[onload], b").count() == 0
    page.wait_for_timeout(300)  # give a payload time to fire, if it could
    shot(page, "widget-xss-" + request.node.callspec.id)
    assert watch.dialogs == []
    assert watch.errors == []


def test_keyboard_only(server, zh_page) -> None:
    page, watch = zh_page
    page.goto(server.url + "/")
    launcher = page.get_by_test_id("qa-launcher")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_test_id("qa-input")).to_be_focused()
    page.keyboard.type("账户被冻结了怎么办")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("qa-answer")).to_have_count(1)
    expect(page.get_by_test_id("qa-input")).to_be_focused()
    page.keyboard.press("Tab")  # the send button follows the input
    expect(page.get_by_test_id("qa-send")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("qa-input")).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    assert watch.errors == []


def test_english_browser_gets_english_ui(server, en_page) -> None:
    page, watch = en_page
    page.goto(server.url + "/")
    expect(page.locator("h1")).to_have_text("Hi, how can we help?")
    expect(page.get_by_test_id("qa-launcher")).to_have_text("Help")
    page.get_by_test_id("qa-launcher").click()
    expect(page.get_by_test_id("qa-input")).to_have_attribute(
        "placeholder", "Ask a question, e.g. I forgot my password"
    )
    send(page, "How do I contact customer service by email?")
    expect(page.get_by_test_id("qa-answer")).to_have_count(1)
    expect(page.get_by_test_id("qa-helpful-yes")).to_have_text("Yes")
    shot(page, "widget-answer-en")
    assert watch.errors == []


def test_topic_links_ask_the_widget(server, zh_page) -> None:
    page, watch = zh_page
    page.goto(server.url + "/")
    page.get_by_role("button", name="提现手续费是多少").first.click()
    expect(page.get_by_test_id("qa-answer")).to_have_count(1)
    expect(page.locator(".qa-user .qa-text")).to_contain_text("提现手续费是多少")
    assert watch.errors == []


def test_small_screen(server, browser, request) -> None:
    from .conftest import open_page

    page, watch = open_page(
        browser, request, "zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    open_widget(page, server)
    send(page, "OKPAY安全吗")
    expect(page.get_by_test_id("qa-answer")).to_have_count(1)
    box = page.locator(".qa-panel").bounding_box()
    assert box and box["width"] == pytest.approx(390, abs=1)
    shot(page, "widget-mobile-zh")
    assert watch.errors == []


def test_widget_marks_the_answering_sentence_and_offers_the_rest(server, zh_page) -> None:
    page, _ = zh_page
    open_widget(page, server)
    send(page, "支持Visa卡吗?")
    expect(page.get_by_test_id("qa-highlight")).to_contain_text("Visa")
    assert (
        page.get_by_test_id("qa-highlight").evaluate("e => getComputedStyle(e).fontWeight") == "700"
    )
    more = page.get_by_test_id("qa-more")
    expect(more).to_be_hidden()
    page.get_by_test_id("qa-more-toggle").click()
    expect(more).to_be_visible()
    expect(more).to_contain_text("信用卡")
    shot(page, "widget-highlight-zh")


def test_an_english_answer_with_its_original_one_tap_away(server, en_page, zh_page) -> None:
    page, watch = en_page
    open_widget(page, server)
    send(page, "How do I reset my password?")
    answer = page.get_by_test_id("qa-answer")
    expect(answer).to_contain_text("password")
    expect(answer).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("qa-source")).to_contain_text("forget my password")
    expect(page.get_by_test_id("qa-lang-note")).to_have_count(0)
    original = page.get_by_test_id("qa-original")
    expect(original).to_be_hidden()
    page.get_by_test_id("qa-original-toggle").click()
    expect(original).to_be_visible()
    expect(original).to_contain_text("密码")
    expect(answer).to_be_hidden()
    shot(page, "widget-english-answer-original")
    page.get_by_test_id("qa-original-toggle").click()
    expect(answer).to_be_visible()
    shot(page, "widget-english-answer")
    assert watch.errors == []

    # On the Chinese page an English question is answered in English, and the page says so.
    page, watch = zh_page
    open_widget(page, server)
    send(page, "is okpay safe?")
    expect(page.get_by_test_id("qa-lang-note")).to_contain_text("英文")
    expect(page.get_by_test_id("qa-answer")).to_contain_text("safe")
    shot(page, "widget-english-answer-on-zh-page")
    assert watch.errors == []


def test_a_follow_up_is_read_with_the_conversation(server, zh_page) -> None:
    page, watch = zh_page
    open_widget(page, server)
    send(page, "账户被冻结了怎么办")
    expect(page.get_by_test_id("qa-source")).to_contain_text("冻结")
    # Alone, this names no topic; in the conversation it asks about the frozen account.
    send(page, "一般是什么原因导致的?")
    expect(page.get_by_test_id("qa-answer")).to_have_count(2)
    expect(page.get_by_test_id("qa-source").last).to_contain_text("冻结")
    shot(page, "widget-follow-up-zh")
    assert watch.errors == []
