"""The reply, the last stage: an answer, a small-talk reply, or an escalation with its message
and handoff link, in the customer's language, as the ``Answer`` the API, the CLI and the
evaluation all get."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .context import Turn
from .decide import Decision
from .signals import Signals

MESSAGES = {
    "low_confidence": {
        "zh": "抱歉，我不确定能准确回答这个问题。请联系人工客服，我们会尽快帮您处理。",
        "en": "Sorry, I'm not sure I can answer that correctly. Please contact a human agent.",
    },
    "ambiguous": {
        "zh": "您的问题可能涉及多个方面，为避免答错，请联系人工客服。",
        "en": "Your question could match several topics. To avoid a wrong answer, please "
        "contact a human agent.",
    },
    "out_of_scope": {
        "zh": "这个问题不在常见问题的范围内，请联系人工客服获得帮助。",
        "en": "This question is outside what our FAQ covers. Please contact a human agent.",
    },
    # The detail check: the best entry is on topic but does not give the detail asked for.
    "detail": {
        "zh": "常见问题里没有您要的具体信息，请联系人工客服。下面的相关问题也许能先帮到您。",
        "en": "Our FAQ does not give the specific detail you asked for. Please contact a human "
        "agent; the related question below may help in the meantime.",
    },
    # After two escalations in a row, beside whatever comes next.
    "offer": {
        "zh": "如果问题还没解决，可以直接联系人工客服。",
        "en": "If this still does not solve it, you can talk to a person right away.",
    },
    # A request for a person or an emergency: the corpus's acts give their own messages.
    "no_index": {
        "zh": "自动答复暂时不可用，请联系人工客服。",
        "en": "Automatic answers are unavailable right now. Please contact a human agent.",
    },
}
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(prefix: str) -> str:
    """``prefix`` + a ULID: sortable by time, unique without coordination."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return prefix + "".join(reversed(chars))


def with_param(url: str, name: str, value: str) -> str:
    """``url`` with ``name=value`` added to its query string."""
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), (name, value)])
    return urlunsplit(parts._replace(query=query))


def new_query_id() -> str:
    return new_id("q_")


@dataclass
class Answer:
    query_id: str
    question: str
    escalate: bool
    confidence: float
    answer: dict | None
    passages: list[dict]
    escalation: dict | None
    language: str
    latency_ms: float
    signals: Signals = field(default_factory=Signals)
    conversation_id: str | None = None
    reply: dict | None = None  # small talk: {"kind", "text"}, with no answer and no escalation
    understood_as: str | None = None  # a follow-up, read with its conversation's last question
    offer_human: dict | None = None  # {"url", "message"} after repeated failure

    def turn(self) -> Turn:
        """This answer as a turn of its conversation."""
        return Turn(
            question=self.question,
            faq_id=self.answer["faq_id"] if self.answer else None,
            escalated=self.escalate,
            reason=(self.escalation or {}).get("reason"),
            reply_kind=(self.reply or {}).get("kind"),
            understood_as=self.understood_as,
            language=self.language,
        )

    def to_dict(self, debug: bool = False) -> dict[str, Any]:
        out = {
            "query_id": self.query_id,
            "question": self.question,
            "escalate": self.escalate,
            "confidence": self.confidence,
            "answer": self.answer,
            "passages": self.passages,
            "escalation": self.escalation,
            "language": self.language,
            "conversation_id": self.conversation_id,
            "reply": self.reply,
            "understood_as": self.understood_as,
            "offer_human": self.offer_human,
        }
        if debug:
            out["signals"] = self.signals.as_dict()
            out["latency_ms"] = self.latency_ms
        return out


def related_to(passage: dict | None) -> list[dict[str, str]]:
    return [{"faq_id": passage["faq_id"], "title": passage["title"]}] if passage else []


def escalation_for(
    decision: Decision, passages: list[dict], lang: str, url: str, act_message: str | None
) -> dict | None:
    """The escalation to send, or None when the question is answered (or replied to).

    ``act_message``: a request for a person or an emergency speaks in its act's own words,
    beside the best entry. Otherwise the reason's message; and a missing detail offers the
    best entry, which is on topic, next to the human link (asked for the hotline's digits,
    the customer learns where they are listed)."""
    if not decision.escalate:
        return None
    if act_message is not None:
        message, top = act_message, (passages[0] if passages else None)
    else:
        on_topic = decision.rule == "detail" and bool(passages)
        message = MESSAGES["detail" if on_topic else decision.reason or "low_confidence"][lang]
        top = passages[0] if on_topic else None
    return {"url": url, "reason": decision.reason, "message": message, "related": related_to(top)}


def hand_off(escalation: dict, query_id: str, param: str) -> None:
    """The handoff is this turn: its id, in the link too, opens the whole conversation for
    the agent who takes it."""
    escalation["handoff_id"] = query_id
    escalation["url"] = with_param(escalation["url"], param, query_id)
