"""The export of agent-verified questions, for the evaluation set and the corpus.

Per logged question, the agents' marks are replayed oldest first: ``correct`` adds the entry
of the marked passage to the expected answers, ``unanswerable`` resets the question to "should
escalate", and ``incorrect`` alone says what is wrong but not what is right, so such questions
are counted and left out. Identical questions (after normalisation) are merged.

Two files come out: the questions in the evaluation's JSONL format (``question``, ``expected``,
``escalate``, ``lang``, ``tags``), and per FAQ entry the verified questions the corpus does not
list yet, as alt-question candidates to review before they go into the corpus.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MASK_TOKENS = ("[EMAIL]", "[ID]", "[CARD]", "[PHONE]")


@dataclass
class Verified:
    question: str
    lang: str
    expected: list[str] = field(default_factory=list)
    escalate: bool = False
    query_ids: list[str] = field(default_factory=list)
    verified_at: str = ""

    def to_row(self) -> dict:
        return {
            "question": self.question,
            "expected": self.expected,
            "escalate": self.escalate,
            "lang": self.lang,
            "tags": ["feedback", "agent-verified"],
            "query_ids": self.query_ids,
            "verified_at": self.verified_at,
        }


@dataclass
class ExportResult:
    rows: list[Verified]
    alt_candidates: dict[str, list[dict]]
    skipped_incorrect_only: int
    skipped_unknown_ids: int


def _verdict_of(feedback: list) -> tuple[list[str], bool] | None:
    """(expected faq ids, escalate) after replaying the marks, or None when undecided."""
    expected: list[str] = []
    escalate: bool | None = None
    for fb in feedback:
        if fb.verdict == "unanswerable":
            expected, escalate = [], True
        elif fb.verdict == "correct" and fb.faq_id:
            if escalate:
                expected = []
            escalate = False
            if fb.faq_id not in expected:
                expected.append(fb.faq_id)
        elif fb.verdict == "incorrect" and fb.faq_id in expected:
            expected.remove(fb.faq_id)
            if not expected:
                escalate = None
    return None if escalate is None else (expected, escalate)


def build_export(storage, corpus=None) -> ExportResult:
    """Turn stored agent feedback into evaluation rows and alt-question candidates."""
    from ..pipeline.normalise import normalise

    known_ids = {e.id for e in corpus.entries} if corpus else None
    by_question: dict[str, Verified] = {}
    skipped_incorrect = skipped_unknown = 0
    for query, feedback in storage.verified():
        decided = _verdict_of(feedback)
        if decided is None:
            skipped_incorrect += 1
            continue
        expected, escalate = decided
        if known_ids is not None and any(e not in known_ids for e in expected):
            skipped_unknown += 1
            continue
        key = normalise(query.question)
        row = by_question.get(key)
        if row is None:
            row = by_question[key] = Verified(query.question, query.language)
        # The same question verified twice: the later decision on answer-or-escalate wins,
        # answers agreed on by different agents add up.
        if escalate:
            row.escalate, row.expected = True, []
        else:
            if row.escalate:
                row.escalate, row.expected = False, []
            row.expected += [e for e in expected if e not in row.expected]
        row.query_ids.append(query.id)
        row.verified_at = max(row.verified_at, feedback[-1].created_at)
    rows = list(by_question.values())

    listed: dict[str, set[str]] = {}
    if corpus:
        for e in corpus.entries:
            listed[e.id] = {normalise(q) for q in (e.question, *e.alt_questions)}
    candidates: dict[str, list[dict]] = {}
    for row in rows:
        # Only single-entry, unmasked questions make good alt questions.
        if row.escalate or len(row.expected) != 1 or any(t in row.question for t in MASK_TOKENS):
            continue
        faq_id = row.expected[0]
        if normalise(row.question) in listed.get(faq_id, set()):
            continue
        candidates.setdefault(faq_id, []).append(
            {"question": row.question, "verified": len(row.query_ids)}
        )
    for items in candidates.values():
        items.sort(key=lambda c: -c["verified"])
    return ExportResult(rows, candidates, skipped_incorrect, skipped_unknown)


def write_alt_candidates(path: Path, result: ExportResult, titles: dict[str, str]) -> None:
    import yaml

    doc = {
        faq_id: {"title": titles.get(faq_id, ""), "candidates": items}
        for faq_id, items in sorted(result.alt_candidates.items())
    }
    header = (
        "# Alt-question candidates from agent-verified feedback.\n"
        "# Review each one before adding it to the entry's alt_questions in the corpus.\n"
    )
    body = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False) if doc else "{}\n"
    path.write_text(header + body, "utf-8")
