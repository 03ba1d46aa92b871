"""qa-service tune: fine-tune a sentence-transformers model on the corpus's own questions."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import progress_bar


def register(sub: argparse._SubParsersAction) -> None:
    from ..tuning import DEFAULT_BASE, LOSSES, TuneConfig

    d = TuneConfig()
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
        "--base", default=DEFAULT_BASE, help=f"sentence-transformers model (default {DEFAULT_BASE})"
    )
    p.add_argument(
        "--feedback",
        type=Path,
        action="append",
        default=[],
        help="JSONL of verified questions ({question, expected, escalate}); repeatable",
    )
    p.add_argument("--epochs", type=float, default=d.epochs, help=f"default {d.epochs:g}")
    p.add_argument(
        "--max-seconds",
        type=float,
        help="stop training after this much process CPU time and save the model so far",
    )
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--loss", choices=LOSSES, default=d.loss, help=f"default {d.loss}")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help=f"default {d.batch_size}")
    p.add_argument(
        "--learning-rate", type=float, default=d.learning_rate, help=f"default {d.learning_rate}"
    )
    p.add_argument("--threads", type=int, default=d.threads, help="torch threads")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..tuning import TuneConfig, add_feedback, corpus_groups, tune

    if args.batch_size < 2:
        print("qa-service tune: --batch-size must be 2 or more", file=sys.stderr)
        return 2
    if args.max_seconds is not None and args.max_seconds <= 0:
        print("qa-service tune: --max-seconds must be more than 0", file=sys.stderr)
        return 2
    groups = corpus_groups(args.corpus)
    added = sum(add_feedback(groups, f) for f in args.feedback)
    config = TuneConfig(
        base=args.base,
        epochs=args.epochs,
        max_seconds=args.max_seconds,
        seed=args.seed,
        loss=args.loss,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        threads=args.threads,
    )
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
