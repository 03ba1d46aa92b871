"""qa-service feedback export: agent-verified questions for the evaluation set and the corpus.

Per logged question, the agents' marks are replayed oldest first: ``correct`` adds the entry
of the marked passage to the expected answers, ``unanswerable`` resets the question to "should
escalate", and ``incorrect`` alone says what is wrong but not what is right, so such questions
are counted and left out. Identical questions (after normalisation) are merged.

Two files come out: the questions in the evaluation's JSONL format (``question``, ``expected``,
``escalate``, ``lang``, ``tags``), and per FAQ entry the verified questions the corpus does not
list yet, as alt-question candidates to review before they go into the corpus.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import settings_from

MASK_TOKENS = ("[EMAIL]", "[ID]", "[CARD]", "[PHONE]")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("feedback", help="work with stored feedback")
    fsub = p.add_subparsers(dest="feedback_command", metavar="ACTION", required=True)
    e = fsub.add_parser(
        "export",
        help="write agent-verified questions (evaluation JSONL) and alt-question candidates",
    )
    e.add_argument("--out", type=Path, required=True, help="JSONL file to write")
    e.add_argument(
        "--alt-out",
        type=Path,
        help="alt-question candidates (YAML); default: <out stem>.alt_questions.yaml",
    )
    e.add_argument("--data-dir", type=Path, help="where the database lives (QA_DATA_DIR)")
    e.add_argument("--corpus", type=Path, help="corpus, to check ids and skip known questions")
    e.set_defaults(func=run_export)


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


def run_export(args: argparse.Namespace) -> int:
    from ..corpus import load_corpus
    from ..storage import StorageError, open_storage

    settings = settings_from(args)
    if args.data_dir:
        settings = settings.model_copy(update={"data_dir": args.data_dir})
    try:
        storage = open_storage(settings)
    except StorageError as exc:
        print(f"qa-service feedback export: {exc}", file=sys.stderr)
        return 2
    corpus = load_corpus(settings.corpus) if Path(settings.corpus).exists() else None
    try:
        result = build_export(storage, corpus)
    finally:
        storage.close()
    titles = {e.id: e.question for e in corpus.entries} if corpus else {}

    out: Path = args.out
    alt_out: Path = args.alt_out or out.with_name(out.stem + ".alt_questions.yaml")
    out.parent.mkdir(parents=True, exist_ok=True)
    alt_out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        for row in result.rows:
            f.write(json.dumps(row.to_row(), ensure_ascii=False) + "\n")
    write_alt_candidates(alt_out, result, titles)

    n_esc = sum(r.escalate for r in result.rows)
    n_alt = sum(len(v) for v in result.alt_candidates.values())
    print(
        f"wrote {len(result.rows)} verified questions ({len(result.rows) - n_esc} answerable, "
        f"{n_esc} escalate) to {out}"
    )
    print(
        f"wrote {n_alt} alt-question candidates for {len(result.alt_candidates)} entries to {alt_out}"
    )
    if result.skipped_incorrect_only or result.skipped_unknown_ids:
        print(
            f"left out: {result.skipped_incorrect_only} marked only incorrect, "
            f"{result.skipped_unknown_ids} naming entries not in the corpus"
        )
    return 0
