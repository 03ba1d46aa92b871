"""Evaluation metrics: pure functions over per-question records.

Retrieval metrics (``top1``, ``recall@k``, ``mrr@10``) count only answerable questions and
rank distinct FAQ entries, so several passages of one entry take one rank. Decision metrics
count every question: a decision is right when it answers with the right entry or escalates
a question that should be escalated.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

RECALL_KS = (1, 3, 5)
MRR_K = 10
# Metrics the regression gate watches by default: quality, not machine-dependent latency.
GATE_METRICS = (
    "top1",
    "recall@3",
    "mrr@10",
    "decision_accuracy",
    "escalation_f1",
    "answered_precision",
)


@dataclass
class EvalRecord:
    """One labelled question and what the service did with it."""

    question: str
    expected: list[str]
    escalate_expected: bool
    hits: list[dict]  # {"id", "faq_id", "score"}, best first
    confidence: float
    escalated: bool
    reason: str | None
    latency_ms: float
    lang: str = "zh"
    tags: list[str] = field(default_factory=list)
    line: int = 0

    @property
    def answerable(self) -> bool:
        return not self.escalate_expected

    @property
    def got(self) -> list[str]:
        """Distinct entry ids, best first."""
        return list(dict.fromkeys(h["faq_id"] for h in self.hits))

    @property
    def top_score(self) -> float:
        return float(self.hits[0]["score"]) if self.hits else 0.0

    def _matches(self, hit: dict, expected: Iterable[str]) -> bool:
        """Entry level: a passage label (``payment-methods#2``) names its entry too."""
        return any(e.split("#", 1)[0] == hit["faq_id"] for e in expected)

    @property
    def top1(self) -> bool:
        """The best passage belongs to a right entry (the answer the customer would see)."""
        return self.answerable and bool(self.hits) and self._matches(self.hits[0], self.expected)

    @property
    def passage_labelled(self) -> bool:
        return self.answerable and any("#" in e for e in self.expected)

    @property
    def passage_top1(self) -> bool:
        """The best passage is one the labels name (entry ids count for any passage)."""
        if not (self.answerable and self.hits):
            return False
        hit = self.hits[0]
        return any(e in (hit["faq_id"], hit["id"]) for e in self.expected)

    def entry_rank(self, expected: Iterable[str] | None = None) -> int | None:
        """1-based rank, among distinct entries, of the first hit matching ``expected``."""
        want = list(self.expected if expected is None else expected)
        entries: list[str] = []
        for h in self.hits:
            if h["faq_id"] not in entries:
                entries.append(h["faq_id"])
            if self._matches(h, want):
                return entries.index(h["faq_id"]) + 1
        return None

    @property
    def answered_right(self) -> bool:
        return not self.escalated and self.top1

    @property
    def decision_correct(self) -> bool:
        return self.answered_right or (self.escalated and self.escalate_expected)

    @property
    def outcome(self) -> str:
        if self.decision_correct:
            return "escalated (right)" if self.escalated else "answered (right)"
        if self.escalate_expected:
            return "answered, should escalate"
        if self.escalated:
            return "escalated, top was right" if self.top1 else "escalated, top was wrong"
        return "wrong answer"

    def to_dict(self) -> dict:
        out = asdict(self)
        out.update(got=self.got, top_score=self.top_score, outcome=self.outcome)
        return out


def _ratio(num: float, den: float) -> float | None:
    return float(num) / den if den else None


def recall_at(records: Sequence[EvalRecord], k: int) -> float | None:
    """Share of expected ids found among the first ``k`` entries, averaged over questions."""
    vals = []
    for r in records:
        if not r.answerable:
            continue
        found = [r.entry_rank([e]) for e in r.expected]
        vals.append(sum(1 for x in found if x is not None and x <= k) / len(r.expected))
    return float(np.mean(vals)) if vals else None


def mrr_at(records: Sequence[EvalRecord], k: int = MRR_K) -> float | None:
    vals = []
    for r in records:
        if r.answerable:
            rank = r.entry_rank()
            vals.append(1.0 / rank if rank is not None and rank <= k else 0.0)
    return float(np.mean(vals)) if vals else None


def percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else None


def risk_coverage(records: Sequence[EvalRecord]) -> list[dict]:
    """Answer the most confident questions first: risk (share wrong) at each coverage.

    A point per distinct confidence; answering a should-escalate question counts as wrong.
    """
    if not records:
        return []
    conf = np.asarray([r.confidence for r in records], dtype=float)
    right = np.asarray([r.top1 for r in records], dtype=float)
    order = np.argsort(-conf, kind="stable")
    conf, right = conf[order], right[order]
    answered = np.arange(1, len(conf) + 1)
    wrong = np.cumsum(1.0 - right)
    # Ties in confidence are answered together: keep the last point of each run.
    last = np.r_[conf[1:] != conf[:-1], True]
    n = len(conf)
    return [
        {"threshold": float(c), "coverage": float(a / n), "risk": float(w / a)}
        for c, a, w, keep in zip(conf, answered, wrong, last, strict=True)
        if keep
    ]


def aurc(points: Sequence[dict]) -> float | None:
    """Area under the risk-coverage curve (step-wise); lower is better."""
    if not points:
        return None
    area, prev = 0.0, 0.0
    for p in points:
        area += (p["coverage"] - prev) * p["risk"]
        prev = p["coverage"]
    return area


def reliability(records: Sequence[EvalRecord], bins: int = 10) -> list[dict]:
    """Mean confidence against the share answered right, per confidence bin."""
    out = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [
            r for r in records if lo <= r.confidence < hi or (b == bins - 1 and r.confidence == 1.0)
        ]
        if inside:
            out.append(
                {
                    "lo": lo,
                    "hi": hi,
                    "n": len(inside),
                    "confidence": float(np.mean([r.confidence for r in inside])),
                    "accuracy": float(np.mean([r.top1 for r in inside])),
                }
            )
    return out


def ece(records: Sequence[EvalRecord], bins: int = 10) -> float | None:
    """Expected calibration error: how far ``confidence`` is from the observed accuracy."""
    if not records:
        return None
    n = len(records)
    return float(
        sum(b["n"] / n * abs(b["confidence"] - b["accuracy"]) for b in reliability(records, bins))
    )


def summary(records: Sequence[EvalRecord]) -> dict:
    """Every metric over one set of records (no per-group splits)."""
    n = len(records)
    answerable = [r for r in records if r.answerable]
    should = sum(r.escalate_expected for r in records)
    escalated = sum(r.escalated for r in records)
    tp = sum(r.escalated and r.escalate_expected for r in records)
    answered = n - escalated
    right = sum(r.answered_right for r in records)
    p, rec = _ratio(tp, escalated), _ratio(tp, should)
    f1 = 2 * p * rec / (p + rec) if p is not None and rec is not None and p + rec > 0 else None
    if p is not None and rec is not None and p + rec == 0:
        f1 = 0.0
    lat = [r.latency_ms for r in records]
    out: dict[str, float | int | None] = {
        "n": n,
        "n_answerable": len(answerable),
        "n_should_escalate": should,
        "top1": _ratio(sum(r.top1 for r in answerable), len(answerable)),
        # hit@1 at the passage level, over the questions whose labels name passages
        "passage_top1": _ratio(
            sum(r.passage_top1 for r in answerable if r.passage_labelled),
            sum(r.passage_labelled for r in answerable),
        ),
    }
    for k in RECALL_KS:
        out[f"recall@{k}"] = recall_at(records, k)
    out[f"mrr@{MRR_K}"] = mrr_at(records, MRR_K)
    out.update(
        {
            "decision_accuracy": _ratio(sum(r.decision_correct for r in records), n),
            "escalation_precision": p,
            "escalation_recall": rec,
            "escalation_f1": f1,
            "answered_precision": _ratio(right, answered),
            "coverage": _ratio(answered, n),
            "wrong_answer_rate": _ratio(answered - right, n),
            "ece": ece(records),
            "aurc": aurc(risk_coverage(records)),
            "latency_p50_ms": percentile(lat, 50),
            "latency_p95_ms": percentile(lat, 95),
            "latency_p99_ms": percentile(lat, 99),
        }
    )
    return out


def split_by(records: Sequence[EvalRecord], key: str) -> dict[str, dict]:
    """``summary`` per language (``key="lang"``) or per tag (``key="tags"``)."""
    groups: dict[str, list[EvalRecord]] = {}
    for r in records:
        values = r.tags if key == "tags" else [getattr(r, key)]
        for v in values:
            groups.setdefault(v, []).append(r)
    return {g: summary(rs) for g, rs in sorted(groups.items())}


def compute(records: Sequence[EvalRecord]) -> dict:
    """The whole metrics document: overall, by language, by tag and the curves."""
    points = risk_coverage(records)
    return {
        "overall": summary(records),
        "by_lang": split_by(records, "lang"),
        "by_tag": split_by(records, "tags"),
        "risk_coverage": thin(points, 50),
        "reliability": reliability(records),
    }


def thin(points: Sequence[dict], keep: int) -> list[dict]:
    """At most about ``keep`` points, evenly spread, always with the last one."""
    if len(points) <= keep:
        return list(points)
    step = math.ceil(len(points) / keep)
    out = list(points[::step])
    if out[-1] is not points[-1]:
        out.append(points[-1])
    return out


@dataclass(frozen=True)
class Drop:
    metric: str
    baseline: float
    current: float | None

    @property
    def points(self) -> float:
        return 100.0 * (self.baseline - (self.current or 0.0))

    def __str__(self) -> str:
        now = "missing" if self.current is None else f"{self.current:.4f}"
        return f"{self.metric} dropped from {self.baseline:.4f} to {now} ({self.points:.1f} points)"


def regressions(
    current: dict, baseline: dict, max_drop: float = 0.01, keys: Sequence[str] = GATE_METRICS
) -> list[Drop]:
    """Metrics of ``current["overall"]`` that fell more than ``max_drop`` below the baseline."""
    drops = []
    for key in keys:
        base = baseline.get("overall", {}).get(key)
        if base is None:  # not measured in the baseline (e.g. no escalation questions)
            continue
        now = current.get("overall", {}).get(key)
        if now is None or base - now > max_drop + 1e-9:
            drops.append(Drop(key, float(base), None if now is None else float(now)))
    return drops
