"""The gap report: escalated customer questions grouped into clusters, so support can write the
FAQ entries that are missing.

Questions come from the query log (escalated questions on customer channels, plus any an agent
marked unanswerable). They are embedded with the service's own embedder and grouped by
agglomerative clustering on cosine distance with average linkage: no cluster count to guess,
one distance threshold that reads as "how alike must two questions be". Identical questions
(after normalisation) are embedded once and counted as often as they were asked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

DEFAULT_DISTANCE = 0.5


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
    records: list,
    embedder,
    *,
    distance: float = DEFAULT_DISTANCE,
    examples: int = 5,
    progress: Callable[[int, int], None] | None = None,
) -> list[Cluster]:
    """Clusters of the given query records, largest first; ``progress(done, total)`` is told
    how far the embedding has got."""
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

        vectors = []
        for start in range(0, len(keys), 64):
            vectors.append(np.asarray(embedder.encode_queries(keys[start : start + 64])))
            if progress is not None:
                progress(min(start + 64, len(keys)), len(keys))
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
