"""qa-service gaps: group escalated customer questions into clusters, so support can write the
FAQ entries that are missing.

Questions come from the query log (escalated questions on customer channels, plus any an agent
marked unanswerable). They are embedded with the service's own embedder and grouped by
agglomerative clustering on cosine distance with average linkage: no cluster count to guess,
one distance threshold that reads as "how alike must two questions be". Identical questions
(after normalisation) are embedded once and counted as often as they were asked.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from . import add_common, progress_bar, settings_from

DEFAULT_DISTANCE = 0.5


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


@dataclass
class Cluster:
    count: int
    examples: list[str]
    reasons: dict[str, int]
    nearest_entries: dict[str, int]
    first_seen: str
    last_seen: str
    query_ids: list[str] = field(default_factory=list)

    def to_dict(self, rank: int) -> dict:
        return {
            "rank": rank,
            "count": self.count,
            "examples": self.examples,
            "reasons": self.reasons,
            "nearest_entries": self.nearest_entries,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "query_ids": self.query_ids,
        }


def cluster_questions(
    records: list, embedder, *, distance: float = DEFAULT_DISTANCE, examples: int = 5
) -> list[Cluster]:
    """Clusters of the given query records, largest first."""
    import numpy as np

    from ..pipeline.normalise import normalise

    groups: dict[str, list] = {}
    for r in records:
        key = normalise(r.question)
        if key:
            groups.setdefault(key, []).append(r)
    keys = list(groups)
    if not keys:
        return []
    if len(keys) == 1:
        labels = np.zeros(1, dtype=int)
    else:
        from sklearn.cluster import AgglomerativeClustering

        bar = progress_bar("embedding")
        vectors = []
        for start in range(0, len(keys), 64):
            vectors.append(np.asarray(embedder.encode_queries(keys[start : start + 64])))
            bar(min(start + 64, len(keys)), len(keys))
        x = np.vstack(vectors)
        labels = AgglomerativeClustering(
            n_clusters=None, metric="cosine", linkage="average", distance_threshold=distance
        ).fit_predict(x)

    members: dict[int, list[str]] = {}
    for key, label in zip(keys, labels, strict=True):
        members.setdefault(int(label), []).append(key)
    clusters = []
    for label_keys in members.values():
        recs = [r for k in label_keys for r in groups[k]]
        # Examples: the most asked wordings first, each once.
        asked = Counter({k: len(groups[k]) for k in label_keys})
        shown = [groups[k][0].question for k, _ in asked.most_common(examples)]
        reasons = Counter(r.reason or "agent_unanswerable" for r in recs)
        nearest = Counter(r.results[0]["faq_id"] for r in recs if r.results)
        times = sorted(r.created_at for r in recs)
        clusters.append(
            Cluster(
                count=len(recs),
                examples=shown,
                reasons=dict(reasons.most_common()),
                nearest_entries=dict(nearest.most_common(3)),
                first_seen=times[0],
                last_seen=times[-1],
                query_ids=[r.id for r in recs][:20],
            )
        )
    clusters.sort(key=lambda c: c.last_seen, reverse=True)
    clusters.sort(key=lambda c: c.count, reverse=True)  # stable: ties stay most recent first
    return clusters


def render_markdown(clusters: list[Cluster], total: int, distance: float) -> str:
    lines = [
        "# FAQ gaps: escalated questions, grouped",
        "",
        f"{total} escalated questions in {len(clusters)} clusters "
        f"(cosine distance < {distance}). Largest first; each cluster is a candidate FAQ entry.",
        "",
    ]
    for i, c in enumerate(clusters, start=1):
        reasons = ", ".join(f"{k} {v}" for k, v in c.reasons.items())
        nearest = ", ".join(f"`{k}` {v}" for k, v in c.nearest_entries.items()) or "none"
        lines += [
            f"## {i}. {c.examples[0]}  ({c.count}×)",
            "",
            f"- reasons: {reasons}",
            f"- nearest existing entries: {nearest}",
            f"- seen: {c.first_seen[:10]} to {c.last_seen[:10]}",
            "",
        ]
        lines += [f"  - {ex}" for ex in c.examples]
        lines.append("")
    return "\n".join(lines)


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
        records, embedder, distance=args.distance, examples=max(1, args.examples)
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
