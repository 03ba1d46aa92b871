"""qa-service tune: fine-tune a sentence-transformers model on the corpus's own questions."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import progress_bar
from .tune_args import add_tune_args, tune_config


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tune",
        help="fine-tune an embedding model on the corpus's questions (needs the st extra)",
        description="Contrastive fine-tuning: questions of one FAQ entry (title, alt questions, "
        "optionally verified feedback) are pulled together, other entries pushed apart. Writes "
        "a model directory; index with --embedder sentence-transformers:OUT.",
    )
    p.add_argument("--corpus", type=Path, default=Path("corpus"), help="corpus dir or file")
    p.add_argument("--out", type=Path, required=True, help="directory for the tuned model")
    p.add_argument(
        "--feedback",
        type=Path,
        action="append",
        default=[],
        help="JSONL of verified questions ({question, expected, escalate}); repeatable",
    )
    add_tune_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..corpus import load_corpus
    from ..tuning import add_feedback, corpus_groups, tune

    try:
        config = tune_config(args)
    except ValueError as exc:
        print(f"qa-service tune: {exc}", file=sys.stderr)
        return 2
    groups = corpus_groups(args.corpus)
    norm = load_corpus(args.corpus).normalise
    added = sum(add_feedback(groups, f, norm) for f in args.feedback)
    r = tune(groups, args.out, config, progress=progress_bar("tuning"))
    extra = f" (+{added} from feedback)" if args.feedback else ""
    stop = " — stopped at --max-seconds" if r.stopped_early else ""
    print(
        f"tuned {config.base} on {r.examples} questions{extra} of {r.groups} entries: "
        f"{r.steps}/{r.planned_steps} steps, {r.cpu_seconds:.0f} CPU s, "
        f"{r.wall_seconds:.0f} s{stop}"
    )
    print(f"-> {args.out}; index with --embedder sentence-transformers:{args.out}")
    return 0
