"""The agent console in Chromium: sign-in, suggestions, marking, the review queue."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from qa_service.storage import DB_FILENAME

from .conftest import AGENT_TOKEN, shot

pytestmark = pytest.mark.browser


def sign_in(page, server) -> None:
    page.goto(server.url + "/agent")
    token = page.get_by_test_id("agent-token")
    expect(token).to_be_visible()  # the console asks for the token before showing anything
    expect(page.get_by_test_id("agent-input")).to_be_hidden()
    token.fill(AGENT_TOKEN)
    page.get_by_test_id("agent-login").click()
    expect(page.get_by_test_id("agent-input")).to_be_visible()


def db_row(server_home: Path, sql: str, *args) -> tuple:
    with sqlite3.connect(server_home / "data" / DB_FILENAME) as conn:
        return conn.execute(sql, args).fetchone()


def test_wrong_token_is_refused(server, zh_page) -> None:
    page, _ = zh_page
    page.goto(server.url + "/agent")
    page.get_by_test_id("agent-token").fill("not-the-token")
    page.get_by_test_id("agent-login").click()
    expect(page.locator("#signin-error")).to_contain_text("令牌无效")
    expect(page.get_by_test_id("agent-input")).to_be_hidden()
    shot(page, "agent-signin-zh")


def test_agent_marks_a_suggestion(server, server_home: Path, zh_page) -> None:
    page, watch = zh_page
    sign_in(page, server)
    page.get_by_test_id("agent-input").fill("账户被冻结了怎么办")
    page.get_by_test_id("agent-search").click()

    suggestions = page.get_by_test_id("agent-suggestion")
    expect(suggestions).to_have_count(5)  # the console asks for the top 5
    first = suggestions.first
    expect(first.locator(".sug-title")).to_contain_text("冻结")
    expect(first.locator("[role=meter]")).to_be_visible()
    expect(first.locator(".passage")).not_to_be_empty()
    expect(first.locator(".src")).to_contain_text("corpus/okpay_faq.zh.md")
    expect(page.get_by_test_id("agent-confidence")).to_have_text(re.compile(r"^[01]\.\d\d$"))
    passage_id = first.get_attribute("data-passage-id")
    query_id = page.locator(".summary .qid").text_content()

    first.locator("select.reason").select_option("partial")
    first.locator("input.comment").fill("客户留了手机 13812345678")
    first.get_by_test_id("agent-mark-correct").click()
    saved = first.get_by_test_id("agent-feedback-saved")
    expect(saved).to_be_visible()
    record_id = int(re.search(r"#(\d+)", saved.text_content()).group(1))
    shot(page, "agent-marked-zh", full_page=True)

    row = db_row(
        server_home,
        "SELECT query_id, passage_id, verdict, reason, comment, source FROM feedback WHERE id = ?",
        record_id,
    )
    assert row == (query_id, passage_id, "correct", "partial", "客户留了手机 [PHONE]", "agent")
    assert watch.errors == []


def test_agent_copies_an_answer(server, browser, request) -> None:
    from .conftest import open_page

    page, watch = open_page(
        browser, request, "zh-CN", permissions=["clipboard-read", "clipboard-write"]
    )
    sign_in(page, server)
    page.get_by_test_id("agent-input").fill("忘记密码")
    page.keyboard.press("Enter")
    first = page.get_by_test_id("agent-suggestion").first
    first.get_by_test_id("agent-copy").click()
    expect(first.get_by_test_id("agent-copy")).to_have_text("已复制")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == first.locator(".passage").text_content()
    assert watch.errors == []


def test_review_queue_is_masked_and_worked_through(server, server_home: Path, zh_page) -> None:
    page, watch = zh_page
    # The same customer asks twice: the queue shows the wording once, with its count.
    for _ in range(2):
        customer = httpx.post(
            f"{server.url}/v1/query",
            json={"question": "我想投资股票,我的邮箱 li.lei@example.com", "channel": "widget"},
            timeout=60,
        ).json()
        assert customer["escalate"] is True
    sign_in(page, server)

    item = page.locator(f"[data-testid=review-item][data-query-id={customer['query_id']}]")
    expect(item).to_be_visible()
    expect(item.locator(".review-q")).to_have_text("我想投资股票,我的邮箱 [EMAIL]")
    expect(page.locator(".review-q", has_text="我想投资股票")).to_have_count(1)
    expect(item.get_by_test_id("times-asked")).to_have_text("问过 2 次")
    expect(page.locator("body")).not_to_contain_text("li.lei@example.com")
    shot(page, "agent-review-zh", full_page=True)

    item.get_by_role("button", name="复核").click()
    expect(page.locator("#reviewing")).to_be_visible()
    expect(page.get_by_test_id("agent-input")).to_have_value("我想投资股票,我的邮箱 [EMAIL]")
    first = page.get_by_test_id("agent-suggestion").first
    first.get_by_test_id("agent-mark-unanswerable").click()
    expect(first.get_by_test_id("agent-feedback-saved")).to_be_visible()
    expect(item).to_have_count(0)  # reviewed: it leaves the queue

    row = db_row(
        server_home,
        "SELECT verdict, source FROM feedback WHERE query_id = ?",
        customer["query_id"],
    )
    assert row == ("unanswerable", "agent")
    assert watch.errors == []


def test_console_in_english(server, en_page) -> None:
    page, watch = en_page
    page.goto(server.url + "/agent")
    expect(page.get_by_test_id("agent-login")).to_have_text("Sign in")
    page.get_by_test_id("agent-token").fill(AGENT_TOKEN)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("agent-search")).to_have_text("Search")
    # Signed in, the console opens with the question box focused; leave it to try the shortcut.
    expect(page.get_by_test_id("agent-input")).to_be_focused()
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("/")  # the shortcut focuses the question box without typing a slash
    expect(page.get_by_test_id("agent-input")).to_be_focused()
    page.keyboard.type("withdrawal fee")
    expect(page.get_by_test_id("agent-input")).to_have_value("withdrawal fee")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("agent-suggestion").first).to_be_visible()
    expect(page.get_by_test_id("agent-mark-incorrect").first).to_have_text("Incorrect")
    shot(page, "agent-console-en", full_page=True)
    assert watch.errors == []


def test_agent_opens_a_handoff_with_its_conversation(server, zh_page) -> None:
    """The escalation link's handoff id opens the whole masked conversation, urgent marked."""
    page, watch = zh_page
    conv = {"conversation_id": "browser-handoff-1", "channel": "widget"}
    httpx.post(
        f"{server.url}/v1/query", json={"question": "账户被冻结了怎么办", **conv}, timeout=30
    )
    esc = httpx.post(
        f"{server.url}/v1/query", json={"question": "我的账号被盗了", **conv}, timeout=30
    ).json()["escalation"]
    assert esc["reason"] == "urgent"
    sign_in(page, server)
    page.goto(f"{server.url}/agent?handoff={esc['handoff_id']}")
    expect(page.get_by_test_id("agent-handoff")).to_be_visible()
    expect(page.get_by_test_id("handoff-summary")).to_contain_text("urgent: 我的账号被盗了")
    turns = page.get_by_test_id("handoff-turn")
    expect(turns).to_have_count(2)
    expect(turns.nth(0)).to_contain_text("账户被冻结了怎么办")
    expect(turns.nth(0)).to_contain_text("account-frozen")
    expect(turns.nth(1)).to_contain_text("紧急")
    shot(page, "agent-handoff-zh")
    assert watch.errors == []
