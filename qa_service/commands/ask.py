"""qa-service ask: answer one question in the terminal."""

from __future__ import annotations

import argparse
import json

from . import add_common, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ask", help="answer one question from the terminal")
    p.add_argument("question")
    add_common(p)
    p.add_argument("--top-k", type=int, default=3)
    p.add_argument("--json", action="store_true", help="print the full API response")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..service import QAService

    service = QAService(settings_from(args))
    service.load()
    a = service.ask(args.question, top_k=args.top_k, channel="api")
    if args.json:
        print(json.dumps(a.to_dict(), ensure_ascii=False, indent=2))
        return 0
    if a.reply is not None:
        print(f"[{a.reply['kind']}] {a.reply['text']}")
    elif a.escalate:
        print(f"[escalate: {a.escalation['reason']}] {a.escalation['message']}")
        print(f"  -> {a.escalation['url']}")
        for r in a.escalation.get("related", []):
            print(f"  related: {r['title']} ({r['faq_id']})")
    elif a.answer is not None:
        print(f"{a.answer['title']}  (confidence {a.confidence:.2f}, {a.answer['id']})")
        print(a.answer["text"])
    if a.passages:
        print("\nsuggestions:")
        for p in a.passages:
            print(f"  {p['score']:.3f}  {p['id']:<24} {p['title']}")
    return 0
