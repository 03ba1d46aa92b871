"""Conversations: the earlier turns a follow-up is read with.

A chat widget sends one ``conversation_id`` per browser tab. The service reads the last few
turns of it to understand a follow-up ("那打电话呢?") and to notice repeated failure (two
escalations in a row: the next reply offers a person first). Turns live in the query log
when there is one (``Storage.recent_turns``), so every worker and replica sees the same
conversation; otherwise in this process (``MemoryConversations``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Protocol

# Turns kept per conversation: a follow-up reads the last content turn, failure the last two.
KEEP_TURNS = 4


@dataclass(frozen=True)
class Turn:
    question: str  # as the customer wrote it (masked where it was stored)
    faq_id: str | None  # the entry answered with, if any
    escalated: bool
    reason: str | None = None
    reply_kind: str | None = None  # small talk
    understood_as: str | None = None  # the question read with its context, if it was
    language: str | None = None  # the language it was answered in: the conversation's
    unhelpful: bool = False  # the customer voted its answer "not helpful"

    @property
    def has_topic(self) -> bool:
        """A turn a follow-up can lean on: a question, not small talk."""
        return self.reply_kind is None and self.reason not in ("human_requested",)


class Conversations(Protocol):
    def recent_turns(self, conversation_id: str, n: int = KEEP_TURNS) -> list[Turn]:
        """The last ``n`` turns, oldest first."""
        ...

    def add_turn(self, conversation_id: str, turn: Turn) -> None: ...


class MemoryConversations:
    """Turns of the most recent conversations, in this process only."""

    def __init__(self, max_conversations: int = 10_000):
        self.max_conversations = max_conversations
        self._turns: OrderedDict[str, deque[Turn]] = OrderedDict()
        self._lock = threading.Lock()

    def recent_turns(self, conversation_id: str, n: int = KEEP_TURNS) -> list[Turn]:
        with self._lock:
            turns = self._turns.get(conversation_id)
            return list(turns)[-n:] if turns else []

    def add_turn(self, conversation_id: str, turn: Turn) -> None:
        with self._lock:
            turns = self._turns.setdefault(conversation_id, deque(maxlen=KEEP_TURNS))
            turns.append(turn)
            self._turns.move_to_end(conversation_id)
            while len(self._turns) > self.max_conversations:
                self._turns.popitem(last=False)


def failing(turns: list[Turn]) -> bool:
    """Two escalations in a row, or an answer the customer voted "not helpful": whatever
    comes next, a person is offered first."""
    if any(t.unhelpful for t in turns):
        return True
    return len(turns) >= 2 and all(t.escalated for t in turns[-2:])
