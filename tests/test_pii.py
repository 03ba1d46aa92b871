"""PII masking: each kind, the look-alikes that must survive, and the logging filter."""

from __future__ import annotations

import io
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa_service.pii import (
    CARD,
    EMAIL,
    ID_NUMBER,
    PHONE,
    PiiLogFilter,
    find_pii,
    id_checksum_ok,
    luhn_ok,
    mask_pii,
)


def luhn_complete(prefix: str) -> str:
    """``prefix`` plus the Luhn check digit, computed here independently of the module."""
    digits = [int(c) for c in prefix]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:  # these positions are doubled once the check digit is appended
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return prefix + str((10 - total % 10) % 10)


def resident_id(first17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights, strict=True)) % 11]
    return first17 + check


FULL_WIDTH = {ord(c): ord(c) + 0xFEE0 for c in "0123456789"}
UNIONPAY_19 = luhn_complete("621700123456789012")
ID_WITH_X = "11010519491231002X"  # the published GB 11643 sample
ID_DIGITS = resident_id("44030419850613123")


# Cards ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "card",
    [
        "4111111111111111",  # Visa test number
        "5500005555555559",  # Mastercard test number
        "378282246310005",  # Amex test number (15 digits)
        "6011111111111117",  # Discover
        UNIONPAY_19,
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        UNIONPAY_19.translate(FULL_WIDTH),  # full-width digits
    ],
)
def test_card_numbers_are_masked(card: str) -> None:
    text = f"我的卡号是{card},扣款失败了"
    assert mask_pii(text) == f"我的卡号是{CARD},扣款失败了"


def test_luhn() -> None:
    assert luhn_ok("4111111111111111") and luhn_ok(UNIONPAY_19)
    assert not luhn_ok("4111111111111112")


@pytest.mark.parametrize(
    "text",
    [
        "订单号 4111111111111112 还没到账",  # 16 digits failing Luhn: an order number
        "交易流水 123456789012",  # 12 digits: too short for a card
        "2024-01-15 转账 500.00 元",
        "验证码 123456 收不到",
        "提现 3 天了,金额 10000",
        "top 3 results, version 1.2.3",
    ],
)
def test_look_alikes_survive(text: str) -> None:
    assert mask_pii(text) == text


# Phones --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "0086-13812345678",
        "８６１３９１２３４５６７８",
        "010-12345678",
        "(021)8765-4321",
        "0755 8888 1234",
        "+1 415 555 2671",
        "+44 20 7946 0958",
        "0044 20 7946 0958",
        "+852 9123 4567",
        "+1.415.555.2671",
    ],
)
def test_phone_numbers_are_masked(phone: str) -> None:
    assert mask_pii(f"请打我电话 {phone} 谢谢") == f"请打我电话 {PHONE} 谢谢"


def test_phone_inside_chinese_text() -> None:
    assert mask_pii("手机号13912345678收不到验证码") == f"手机号{PHONE}收不到验证码"


# E-mail --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    ["zhang.san@qq.com", "li+okpay@example.com.cn", "USER_01@mail.example.org", "a@b.io"],
)
def test_emails_are_masked(email: str) -> None:
    assert mask_pii(f"邮箱是{email}谢谢") == f"邮箱是{EMAIL}谢谢"


def test_full_width_at_sign() -> None:
    assert mask_pii("邮箱 wang＠163.com") == f"邮箱 {EMAIL}"


# Chinese ID numbers --------------------------------------------------------------------


@pytest.mark.parametrize("number", [ID_WITH_X, ID_WITH_X.lower(), ID_DIGITS, "110105491231002"])
def test_id_numbers_are_masked(number: str) -> None:
    assert mask_pii(f"身份证号{number},实名认证失败") == f"身份证号{ID_NUMBER},实名认证失败"


def test_mistyped_id_is_still_masked() -> None:
    wrong = ID_DIGITS[:-1] + ("0" if ID_DIGITS[-1] != "0" else "1")
    assert not id_checksum_ok(wrong)
    assert ID_NUMBER in mask_pii(f"身份证 {wrong}") or CARD in mask_pii(f"身份证 {wrong}")
    assert wrong not in mask_pii(f"身份证 {wrong}")


def test_id_checksum() -> None:
    assert id_checksum_ok(ID_WITH_X) and id_checksum_ok(ID_DIGITS)
    assert not id_checksum_ok(ID_WITH_X[:-1] + "1")


def test_eighteen_digits_without_a_birth_date_are_not_an_id() -> None:
    spans = find_pii("单号 110105999912310021")
    assert all(token != ID_NUMBER for _, _, token in spans)


# Mixed text and properties -------------------------------------------------------------


def test_every_kind_in_one_message() -> None:
    text = f"卡号4111 1111 1111 1111,身份证{ID_WITH_X},手机+86 13812345678,邮箱 a.b@c.com,别的不变"
    assert mask_pii(text) == f"卡号{CARD},身份证{ID_NUMBER},手机{PHONE},邮箱 {EMAIL},别的不变"


def test_empty_and_clean_text() -> None:
    assert mask_pii("") == ""
    assert mask_pii("忘记密码了怎么办?") == "忘记密码了怎么办?"


_cards = st.builds(
    luhn_complete, st.text(alphabet="0123456789", min_size=15, max_size=15).map(lambda s: "4" + s)
)
_filler = st.text(alphabet="忘记密码怎么办提现账户冻结 ,。?abcXYZ", max_size=20)


@settings(max_examples=200, deadline=None)
@given(before=_filler, card=_cards, after=_filler)
def test_any_valid_card_disappears(before: str, card: str, after: str) -> None:
    masked = mask_pii(f"{before} {card} {after}")
    assert card not in masked and CARD in masked


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_masking_is_idempotent(text: str) -> None:
    once = mask_pii(text)
    assert mask_pii(once) == once


# Logging -------------------------------------------------------------------------------


def test_log_filter_masks_messages_and_arguments() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(PiiLogFilter())
    logger = logging.getLogger("tests.pii")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("question from %s: card %s", "a.b@c.com", "4111111111111111")
        logger.warning("phone 13812345678")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert "a.b@c.com" not in out and "4111111111111111" not in out and "13812345678" not in out
    assert out.count(EMAIL) == 1 and out.count(CARD) == 1 and out.count(PHONE) == 1


@pytest.mark.parametrize("card", ["5500 0055 5555 5559", "4000 0012 3456 7899"])
def test_grouped_card_is_masked_whole(card: str) -> None:
    # Digit groups inside a card look like a landline or a 00-prefixed number on their own.
    assert luhn_ok(card.replace(" ", ""))
    assert mask_pii(f"卡 {card} 被拒") == f"卡 {CARD} 被拒"
