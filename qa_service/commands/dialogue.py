"""qa-service dialogue: score small talk, requests for a person and emergencies on labelled
messages (docs/dialogue.md)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from . import add_common, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dialogue", help="how well small talk, person requests and emergencies are recognised"
    )
    add_common(p)
    p.add_argument(
        "--messages", type=Path, required=True, help="labelled messages (JSONL: text, act)"
    )
    p.add_argument(
        "--dialogues",
        type=Path,
        help="two-turn dialogues to score as well (JSONL)",
    )
    p.add_argument("--out", type=Path, default=Path("out/dialogue"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..config import Settings
    from ..evaluation.dialogue import (
        dialogue_markdown,
        load_dialogues,
        load_messages,
        markdown,
        score,
        score_dialogues,
    )
    from ..service import QAService

    messages = load_messages(args.messages)
    settings = settings_from(args)
    # Every message asked afresh: a repeated greeting must not be a cache hit.
    service = QAService(Settings(**{**settings.model_dump(), "answer_cache_size": 0}))
    service.load()
    rows, mistakes = score(service, messages)
    args.out.mkdir(parents=True, exist_ok=True)
    table = markdown(rows)
    (args.out / "dialogue.md").write_text(table + "\n", "utf-8")
    (args.out / "mistakes.jsonl").write_text(
        "".join(json.dumps(m, ensure_ascii=False) + "\n" for m in mistakes), "utf-8"
    )
    print(table)
    print(f"{len(messages)} messages, {len(mistakes)} mistaken -> {args.out}/")
    if args.dialogues:
        rows, wrong = score_dialogues(service, load_dialogues(args.dialogues))
        table = dialogue_markdown(rows)
        (args.out / "dialogues.md").write_text(table + "\n", "utf-8")
        (args.out / "dialogue_mistakes.jsonl").write_text(
            "".join(json.dumps(m, ensure_ascii=False) + "\n" for m in wrong), "utf-8"
        )
        print()
        print(table)
    return 0
