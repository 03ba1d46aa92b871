"""qa-service index: build the index directory from a corpus (skipped when up to date)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import add_common, progress_bar, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("index", help="build the FAISS index from the FAQ corpus")
    add_common(p, corpus=True)
    p.add_argument("--force", action="store_true", help="rebuild even if the index is fresh")
    p.add_argument("--json", action="store_true", help="print the manifest as JSON")
    p.add_argument(
        "--questions",
        type=Path,
        help="labelled questions (JSONL or CSV) that refine the escalation fit",
    )
    p.add_argument(
        "--passage-questions",
        type=Path,
        help="labelled questions naming passages (payment-methods#2): within an entry whose "
        "passages all have some, the passage nearest by them is shown first",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="fail when a not-covered question is answered by an entry",
    )
    p.add_argument(
        "--no-fit",
        action="store_true",
        help="do not fit escalation to this corpus (the service uses its packaged calibration)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..corpus import load_corpus
    from ..embedders import load_embedder
    from ..indexing import build_index
    from ..labelled import load_questions

    s = settings_from(args)
    corpus = load_corpus(s.corpus)
    questions = load_questions(args.questions) if args.questions else []
    passage_questions = load_questions(args.passage_questions) if args.passage_questions else []
    embedder = load_embedder(s.embedder, s.threads)
    result = build_index(
        s.corpus,
        s.index_dir,
        embedder,
        force=args.force,
        corpus=corpus,
        progress=progress_bar("embedding"),
        fit=not args.no_fit,
        questions=questions,
        questions_name=str(args.questions) if args.questions else None,
        passage_questions=passage_questions,
        strict=args.strict,
        fit_progress=progress_bar("fitting escalation"),
    )
    m = result.manifest
    for line in result.stale:
        print(f"warning: {line}", file=sys.stderr)
    if args.json:
        print(json.dumps(m, indent=2, ensure_ascii=False))
    elif result.skipped:
        print(
            f"index in {s.index_dir} is up to date ({m['passage_count']} passages, "
            f"{m['embedder']}); use --force to rebuild",
            file=sys.stderr,
        )
    else:
        print(
            f"indexed {m['entry_count']} entries, {m['passage_count']} passages, "
            f"{m['vector_count']} vectors with {m['embedder']} in {m['build_seconds']:.2f}s "
            f"-> {result.path}",
            file=sys.stderr,
        )
        fit = m.get("calibration")
        if fit:
            cv = fit["cross_validated"]
            print(
                f"escalation fitted on {sum(fit['sources'].values())} questions "
                f"({', '.join(f'{v} {k}' for k, v in fit['sources'].items())}): "
                f"cross-validated answered precision {cv['answered_precision']:.3f}, "
                f"escalation recall {cv['escalation_recall']:.3f}, "
                f"decision accuracy {cv['decision_accuracy']:.3f}",
                file=sys.stderr,
            )
            if fit.get("labelled_left_out"):
                print(
                    f"left out {fit['labelled_left_out']} questions labelled to escalate whose "
                    "best entry the labels do not name (they predate it)",
                    file=sys.stderr,
                )
            if fit.get("sparse_threshold") is not None:
                print(
                    "entries with fewer than 3 example questions are judged by the corpus's "
                    f"own questions (threshold {fit['sparse_threshold']:.3f})",
                    file=sys.stderr,
                )
    return 0
