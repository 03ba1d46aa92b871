"""qa-service gaps: the escalated customer questions in clusters (``qa_service.review.gaps``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..review.gaps import DEFAULT_DISTANCE, cluster_questions, render_markdown
from . import add_common, progress_bar, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "gaps",
        help="cluster escalated questions to show what the FAQ is missing",
        description="Write gaps.json and gaps.md: clusters of escalated questions with counts "
        "and examples, largest first.",
    )
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--data-dir", type=Path, help="where the database lives (QA_DATA_DIR)")
    add_common(p, index=False)
    p.add_argument(
        "--distance",
        type=float,
        default=DEFAULT_DISTANCE,
        help=f"cosine distance below which questions join a cluster (default {DEFAULT_DISTANCE})",
    )
    p.add_argument("--since", help="only questions logged on or after this date (YYYY-MM-DD)")
    p.add_argument("--min-count", type=int, default=1, help="hide clusters asked fewer times")
    p.add_argument("--examples", type=int, default=5, help="examples shown per cluster")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..embedders import load_embedder
    from ..storage import StorageError, open_storage

    if not 0.0 < args.distance < 2.0:
        raise ValueError(f"--distance must lie between 0 and 2, not {args.distance}")
    settings = settings_from(args)
    if args.data_dir:
        settings = settings.model_copy(update={"data_dir": args.data_dir})
    try:
        storage = open_storage(settings)
    except StorageError as exc:
        print(f"qa-service gaps: {exc}", file=sys.stderr)
        return 2
    try:
        records = storage.gap_questions(since=args.since)
    finally:
        storage.close()
    embedder = load_embedder(settings.embedder, settings.threads) if records else None
    clusters = cluster_questions(
        records,
        embedder,
        distance=args.distance,
        examples=max(1, args.examples),
        progress=progress_bar("embedding"),
    )
    shown = [c for c in clusters if c.count >= args.min_count]

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    report = {
        "total_questions": len(records),
        "clusters": [c.to_dict(i) for i, c in enumerate(shown, start=1)],
        "distance": args.distance,
        "embedder": settings.embedder,
        "since": args.since,
    }
    (out / "gaps.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
    (out / "gaps.md").write_text(render_markdown(shown, len(records), args.distance), "utf-8")
    print(
        f"{len(records)} escalated questions in {len(clusters)} clusters "
        f"({len(shown)} shown) -> {out / 'gaps.json'}, {out / 'gaps.md'}"
    )
    return 0
