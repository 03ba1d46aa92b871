"""qa-service check: lint a corpus before publishing it (exit 1 on errors)."""

from __future__ import annotations

import argparse
import sys

from . import add_common, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="lint a corpus: stale not-covered lines, weak entries")
    add_common(p, corpus=True, index=False)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..corpus import load_corpus
    from ..embedders import load_embedder
    from ..index import VectorCache
    from ..lint import check_corpus

    s = settings_from(args)
    corpus = load_corpus(s.corpus)
    findings = check_corpus(corpus, VectorCache(load_embedder(s.embedder, s.threads)))
    for f in findings:
        print(f)
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    print(
        f"{len(corpus.entries)} entries, {len(corpus.negatives)} not-covered questions: "
        f"{errors} error(s), {warnings} warning(s)",
        file=sys.stderr,
    )
    return 1 if errors else 0
