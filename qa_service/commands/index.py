"""qa-service index: build the index directory from a corpus (skipped when up to date)."""

from __future__ import annotations

import argparse
import json
import sys

from . import add_common, progress_bar, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("index", help="build the FAISS index from the FAQ corpus")
    add_common(p, corpus=True)
    p.add_argument("--force", action="store_true", help="rebuild even if the index is fresh")
    p.add_argument("--json", action="store_true", help="print the manifest as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..corpus import load_corpus
    from ..embedders import load_embedder
    from ..index import build_index

    s = settings_from(args)
    corpus = load_corpus(s.corpus)
    embedder = load_embedder(s.embedder, s.threads)
    result = build_index(
        s.corpus,
        s.index_dir,
        embedder,
        force=args.force,
        corpus=corpus,
        progress=progress_bar("embedding"),
    )
    m = result.manifest
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
    return 0
