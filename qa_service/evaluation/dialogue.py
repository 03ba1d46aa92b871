"""How well dialogue acts are told apart from FAQ questions, on labelled messages.

Each line of a labelled file is ``{"text", "act", "lang"}``, where ``act`` is an act of the
corpus (``greeting``, ``human``, ``urgent``...), ``escalate`` (an ordinary question the FAQ
does not cover: it must go to a person, but not as an act) or ``question`` (an FAQ question:
it must not be taken for an act). Messages are asked through ``QAService``, as users ask them.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from ..service import QAService

# What ``escalation.reason`` says for the escalating acts.
ACT_REASONS = {"human_requested": "human", "urgent": "urgent"}
ORDINARY = ("question", "escalate")


@dataclass(frozen=True)
class Labelled:
    text: str
    act: str
    lang: str
    line: int


def load_messages(path: Path) -> list[Labelled]:
    out = []
    for n, raw in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
            out.append(Labelled(row["text"], row["act"], row.get("lang", "zh"), n))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f'{path}:{n}: expected {{"text", "act", "lang"}}: {exc}') from None
    if not out:
        raise ValueError(f"{path}: no labelled messages")
    return out


def what_it_did(service: QAService, text: str) -> str:
    """The act the service took ``text`` for, else "escalate" or "question" (answered)."""
    a = service.ask(text, channel="eval")
    if a.reply is not None:
        return a.reply["kind"]
    if a.escalate:
        return ACT_REASONS.get(a.escalation["reason"], "escalate")
    return "question"


@dataclass
class Score:
    group: str
    n: int
    right: int
    confused: Counter  # what the wrong ones were taken for

    @property
    def share(self) -> float:
        return self.right / self.n if self.n else 0.0


def score(service: QAService, messages: list[Labelled]) -> tuple[list[Score], list[dict]]:
    """Per label and language: how many were taken for what they are. An FAQ question is
    right when it is taken for no act (answered, or escalated as the FAQ would)."""
    groups: dict[tuple[str, str], Score] = {}
    mistakes = []
    for m in messages:
        got = what_it_did(service, m.text)
        right = got in ORDINARY if m.act == "question" else got == m.act
        for key in ((m.act, m.lang), (m.act, "all")):
            s = groups.setdefault(key, Score(f"{key[0]} ({key[1]})", 0, 0, Counter()))
            s.n += 1
            s.right += right
            if not right:
                s.confused[got] += 1
        if not right:
            mistakes.append({"line": m.line, "text": m.text, "act": m.act, "got": got})
    order = defaultdict(
        int,
        {
            a: i
            for i, a in enumerate(
                ["greeting", "thanks", "goodbye", "ack", "human", "urgent", "escalate", "question"]
            )
        },
    )
    rows = sorted(groups.values(), key=lambda s: (order[s.group.split(" ")[0]], s.group))
    return rows, mistakes


def markdown(rows: list[Score]) -> str:
    lines = [
        "| label (language) | messages | right | share | taken instead for |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for s in rows:
        confused = ", ".join(f"{k} {v}" for k, v in s.confused.most_common()) or "–"
        lines.append(f"| {s.group} | {s.n} | {s.right} | {s.share:.1%} | {confused} |")
    return "\n".join(lines)


@dataclass(frozen=True)
class Dialogue:
    turns: tuple[str, str]
    expected: str  # the entry that answers the second turn in context, or "escalate"
    kind: str  # "follow-up" or "standalone"
    lang: str
    line: int


def load_dialogues(path: Path) -> list[Dialogue]:
    out = []
    for n, raw in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
            first, second = row["turns"]
            out.append(Dialogue((first, second), row["expected"], row["kind"], row["lang"], n))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(
                f'{path}:{n}: expected {{"turns": [first, second], "expected", "kind", '
                f'"lang"}}: {exc}'
            ) from None
    if not out:
        raise ValueError(f"{path}: no dialogues")
    return out


def _outcome(answer) -> str:
    if answer.escalate or answer.reply is not None:
        return "escalate"
    return answer.answer["faq_id"] if answer.answer else "escalate"


def score_dialogues(service: QAService, dialogues: list[Dialogue]) -> tuple[list[dict], list[dict]]:
    """Per kind: the second turn right in its conversation, and right when asked alone (what
    the service did before it read conversations). Right is the expected entry answered, or
    an escalation where the FAQ cannot answer."""
    by: dict[str, dict] = {}
    mistakes = []
    for i, d in enumerate(dialogues):
        conversation = f"eval-dialogue-{i}"
        service.ask(d.turns[0], channel="eval", conversation_id=conversation)
        in_context = service.ask(d.turns[1], channel="eval", conversation_id=conversation)
        alone = service.ask(d.turns[1], channel="eval")
        got, got_alone = _outcome(in_context), _outcome(alone)
        for key in (d.kind, "all"):
            row = by.setdefault(key, {"kind": key, "n": 0, "right": 0, "right_alone": 0})
            row["n"] += 1
            row["right"] += got == d.expected
            row["right_alone"] += got_alone == d.expected
        if got != d.expected:
            mistakes.append(
                {
                    "line": d.line,
                    "turns": list(d.turns),
                    "expected": d.expected,
                    "got": got,
                    "understood_as": in_context.understood_as,
                }
            )
    return [by[k] for k in ("follow-up", "standalone", "all") if k in by], mistakes


def dialogue_markdown(rows: list[dict]) -> str:
    lines = [
        "| second turn | dialogues | right in conversation | right asked alone |",
        "| --- | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['kind']} | {r['n']} | {r['right']} ({r['right'] / r['n']:.1%}) | "
            f"{r['right_alone']} ({r['right_alone'] / r['n']:.1%}) |"
        )
    return "\n".join(lines)
