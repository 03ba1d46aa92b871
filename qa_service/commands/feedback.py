"""qa-service feedback export: agent-verified questions for the evaluation set and the corpus
(``qa_service.review.export``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..review.export import build_export, write_alt_candidates
from . import settings_from


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
