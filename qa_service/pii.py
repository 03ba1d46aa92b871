"""Mask customer PII (e-mail, Chinese ID numbers, card numbers, phone numbers) in free text.

Everything that is logged or stored goes through :func:`mask_pii` first. Detection runs on a
copy where full-width characters are folded to ASCII one-for-one, so ``１３８…`` or ``＠`` are
caught while the positions still match the original text.

Over-masking is preferred to leaking: an order number that happens to look like a valid card
number is masked too.
"""

from __future__ import annotations

import logging
import re
from datetime import date

EMAIL = "[EMAIL]"
ID_NUMBER = "[ID]"
CARD = "[CARD]"
PHONE = "[PHONE]"
TOKENS = (EMAIL, ID_NUMBER, CARD, PHONE)

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space, folded one character for one.
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_SEP = r"[ \-.]?"  # what people type between digit groups

_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# 18-digit resident ID (region, birth date, sequence, check digit) and the old 15-digit form.
_ID18_RE = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}\d{4}\d{3}[0-9Xx](?![0-9A-Za-z])"
)
_ID15_RE = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}\d{2}\d{4}\d{3}(?![0-9A-Za-z])")
# 13 to 19 digits, optionally grouped by spaces or dashes; Luhn decides.
_CARD_RE = re.compile(r"(?<![0-9A-Za-z+])\d(?:[ \-]?\d){12,18}(?![0-9A-Za-z])")
# Chinese mobile numbers, with or without +86 / 0086 / 86 and grouping.
_CN_MOBILE_RE = re.compile(
    r"(?<![0-9A-Za-z+])(?:(?:\+|00)?86" + _SEP + r")?1[3-9]\d" + _SEP + r"\d{4}" + _SEP + r"\d{4}"
    r"(?![0-9A-Za-z])"
)
# Chinese landlines: area code 0xx / 0xxx, then 7 or 8 digits; the brackets are optional.
_CN_LANDLINE_RE = re.compile(
    r"(?<![0-9A-Za-z])(?:\(0\d{2,3}\)|0\d{2,3})[ \-]?\d{3,4}[ \-]?\d{4}(?![0-9A-Za-z])"
)
# International numbers written with + or 00 and a country code: 7 to 15 digits in all.
_INTL_RE = re.compile(
    r"(?<![0-9A-Za-z])(?:\+|00)[1-9]\d{0,2}(?:[ \-.]?\(?\d{1,4}\)?){2,6}(?![0-9A-Za-z])"
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def luhn_ok(digits: str) -> bool:
    """The check digit card numbers carry; random digit strings pass one time in ten."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def id_checksum_ok(number: str) -> bool:
    """ISO 7064 MOD 11-2, the check character of an 18-character resident ID."""
    s = sum(int(c) * w for c, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[s % 11] == number[17].upper()


def _valid_birth_date(year: int, month: int, day: int) -> bool:
    try:
        born = date(year, month, day)
    except ValueError:
        return False
    return date(1880, 1, 1) <= born <= date.today()


def _is_id(number: str) -> bool:
    # A real birth date is what tells an ID from any other 18 digits; the checksum is not
    # required because a mistyped ID is still personal data.
    if len(number) == 18:
        return _valid_birth_date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    return _valid_birth_date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))


def _digits(s: str) -> str:
    return "".join(ch for ch in s if ch.isdigit())


def _candidates(folded: str) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    found += [(m.start(), m.end(), EMAIL) for m in _EMAIL_RE.finditer(folded)]
    for rx in (_ID18_RE, _ID15_RE):
        found += [(m.start(), m.end(), ID_NUMBER) for m in rx.finditer(folded) if _is_id(m[0])]
    found += [(m.start(), m.end(), PHONE) for m in _CN_MOBILE_RE.finditer(folded)]
    found += [
        (m.start(), m.end(), PHONE)
        for m in _INTL_RE.finditer(folded)
        if 7 <= len(_digits(m[0])) <= 15
    ]
    found += [(m.start(), m.end(), PHONE) for m in _CN_LANDLINE_RE.finditer(folded)]
    for m in _CARD_RE.finditer(folded):
        digits = _digits(m[0])
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            found.append((m.start(), m.end(), CARD))
    return found


_PRIORITY = {EMAIL: 0, ID_NUMBER: 1, PHONE: 2, CARD: 3}


def find_pii(text: str) -> list[tuple[int, int, str]]:
    """Non-overlapping ``(start, end, token)`` spans, in text order.

    Where detectors overlap the longest span wins, so a grouped card number such as
    ``5500 0055 5555 5559`` is not cut short by the landline pattern inside it; equal spans go
    to the more specific kind (``0086-138…`` is a phone even when it passes Luhn).
    """
    folded = text.translate(_FOLD)
    taken = bytearray(len(text))
    spans: list[tuple[int, int, str]] = []
    for start, end, token in sorted(
        _candidates(folded), key=lambda c: (c[0] - c[1], _PRIORITY[c[2]], c[0])
    ):
        if not any(taken[start:end]):
            taken[start:end] = b"\x01" * (end - start)
            spans.append((start, end, token))
    return sorted(spans)


def mask_pii(text: str) -> str:
    """``text`` with every card, phone, e-mail and ID number replaced by a token like [CARD]."""
    if not text:
        return text
    spans = find_pii(text)
    if not spans:
        return text
    out: list[str] = []
    pos = 0
    for start, end, token in spans:
        out.append(text[pos:start])
        out.append(token)
        pos = end
    out.append(text[pos:])
    return "".join(out)


class PiiLogFilter(logging.Filter):
    """Masks PII in a record's final message; attach it to a handler to cover every logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logging module's problem, not ours
            return True
        masked = mask_pii(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
