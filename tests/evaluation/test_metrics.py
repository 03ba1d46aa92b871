"""Metrics on small cases that can be checked by hand."""

from __future__ import annotations

import pytest

from qa_service.evaluation.metrics import (
    EvalRecord,
    aurc,
    compute,
    ece,
    mrr_at,
    percentile,
    recall_at,
    regressions,
    reliability,
    risk_coverage,
    summary,
)


def rec(
    got: list[str],
    expected: list[str] | None = None,
    *,
    escalated: bool = False,
    confidence: float = 0.9,
    latency: float = 10.0,
    lang: str = "zh",
    tags: tuple[str, ...] = (),
) -> EvalRecord:
    """A record whose hits are one passage per entry id in ``got``."""
    return EvalRecord(
        question="q",
        expected=expected or [],
        escalate_expected=not expected,
        hits=[{"id": f"{g}#1", "faq_id": g, "score": 0.9 - 0.1 * i} for i, g in enumerate(got)],
        confidence=confidence,
        escalated=escalated,
        reason="low_confidence" if escalated else None,
        latency_ms=latency,
        lang=lang,
        tags=list(tags),
    )


def test_retrieval_metrics_by_hand() -> None:
    records = [
        rec(["a", "b", "c"], ["a"]),  # rank 1
        rec(["b", "a", "c"], ["a"]),  # rank 2
        rec(["b", "c", "d", "e", "a"], ["a"]),  # rank 5
        rec(["b", "c"], ["a"]),  # missing
        rec(["x"]),  # should escalate: not a retrieval question
    ]
    m = summary(records)
    assert m["n"] == 5 and m["n_answerable"] == 4 and m["n_should_escalate"] == 1
    assert m["top1"] == pytest.approx(1 / 4)
    assert m["recall@1"] == pytest.approx(1 / 4)
    assert m["recall@3"] == pytest.approx(2 / 4)
    assert m["recall@5"] == pytest.approx(3 / 4)
    assert m["mrr@10"] == pytest.approx((1 + 1 / 2 + 1 / 5 + 0) / 4)


def test_ranks_count_entries_not_passages() -> None:
    r = rec(["a"], ["b"])
    r.hits = [
        {"id": "a#1", "faq_id": "a", "score": 0.9},
        {"id": "a#2", "faq_id": "a", "score": 0.85},
        {"id": "b#1", "faq_id": "b", "score": 0.8},
    ]
    assert r.got == ["a", "b"] and r.entry_rank() == 2
    assert mrr_at([r]) == pytest.approx(0.5)


def test_expected_passage_ids_and_multiple_expected() -> None:
    by_passage = rec(["a"], ["a#2"])
    by_passage.hits = [
        {"id": "a#1", "faq_id": "a", "score": 0.9},
        {"id": "a#2", "faq_id": "a", "score": 0.8},
    ]
    # The customer sees a#1: the right entry (top1), not the right passage.
    assert by_passage.top1 and by_passage.passage_labelled and not by_passage.passage_top1
    assert by_passage.entry_rank() == 1
    # Two right entries: hit@1 needs one, recall@1 counts the share found.
    two = rec(["a", "c", "b"], ["a", "b"])
    assert two.top1
    assert recall_at([two], 1) == pytest.approx(0.5)
    assert recall_at([two], 3) == pytest.approx(1.0)


def test_decision_metrics_by_hand() -> None:
    records = [
        rec(["a"], ["a"]),  # answered right
        rec(["a"], ["a"]),  # answered right
        rec(["b"], ["a"]),  # wrong answer
        rec(["a"], ["a"], escalated=True),  # needless escalation
        rec(["x"], escalated=True),  # right escalation
        rec(["x"], escalated=True),  # right escalation
        rec(["x"]),  # answered, should have escalated
    ]
    m = summary(records)
    assert m["decision_accuracy"] == pytest.approx(4 / 7)
    assert m["escalation_precision"] == pytest.approx(2 / 3)
    assert m["escalation_recall"] == pytest.approx(2 / 3)
    assert m["escalation_f1"] == pytest.approx(2 / 3)
    assert m["answered_precision"] == pytest.approx(2 / 4)
    assert m["coverage"] == pytest.approx(4 / 7)
    assert m["wrong_answer_rate"] == pytest.approx(2 / 7)
    outcomes = [r.outcome for r in records]
    assert outcomes == [
        "answered (right)",
        "answered (right)",
        "wrong answer",
        "escalated, top was right",
        "escalated (right)",
        "escalated (right)",
        "answered, should escalate",
    ]


def test_undefined_figures_are_none_not_zero() -> None:
    m = summary([rec(["a"], ["a"])])
    assert m["escalation_precision"] is None and m["escalation_recall"] is None
    assert m["escalation_f1"] is None
    m = summary([rec(["x"], escalated=True)])
    assert m["top1"] is None and m["mrr@10"] is None and m["answered_precision"] is None
    assert m["coverage"] == 0.0 and m["escalation_f1"] == 1.0


def test_latency_percentiles() -> None:
    records = [rec(["a"], ["a"], latency=float(ms)) for ms in range(1, 101)]
    m = summary(records)
    assert m["latency_p50_ms"] == pytest.approx(50.5)
    assert m["latency_p95_ms"] == pytest.approx(95.05)
    assert m["latency_p99_ms"] == pytest.approx(99.01)
    assert percentile([], 50) is None


def test_risk_coverage_and_area() -> None:
    records = [
        rec(["a"], ["a"], confidence=0.9),
        rec(["b"], ["a"], confidence=0.8),
        rec(["a"], ["a"], confidence=0.8),
        rec(["x"], confidence=0.1),
    ]
    points = risk_coverage(records)
    # Ties are answered together: three points, not four.
    assert [(p["coverage"], p["risk"]) for p in points] == [
        (0.25, 0.0),
        (0.75, pytest.approx(1 / 3)),
        (1.0, 0.5),
    ]
    assert aurc(points) == pytest.approx(0.25 * 0 + 0.5 * (1 / 3) + 0.25 * 0.5)
    assert risk_coverage([]) == [] and aurc([]) is None


def test_reliability_and_ece() -> None:
    records = [rec(["a"], ["a"], confidence=0.95)] * 3 + [rec(["b"], ["a"], confidence=0.95)]
    records += [rec(["b"], ["a"], confidence=0.15)] * 2
    bins = reliability(records)
    assert [(b["lo"], b["n"]) for b in bins] == [(pytest.approx(0.1), 2), (pytest.approx(0.9), 4)]
    assert bins[1]["accuracy"] == pytest.approx(0.75)
    assert ece(records) == pytest.approx(4 / 6 * 0.2 + 2 / 6 * 0.15)
    # confidence 1.0 falls in the last bin, not outside every bin.
    assert reliability([rec(["a"], ["a"], confidence=1.0)])[0]["hi"] == 1.0


def test_splits_by_language_and_tag() -> None:
    records = [
        rec(["a"], ["a"], lang="zh", tags=("typo", "short")),
        rec(["b"], ["a"], lang="en", tags=("typo",)),
        rec(["x"], escalated=True, lang="en", tags=("oos",)),
    ]
    doc = compute(records)
    assert set(doc["by_lang"]) == {"en", "zh"}
    assert doc["by_lang"]["zh"]["top1"] == 1.0 and doc["by_lang"]["en"]["top1"] == 0.0
    assert doc["by_lang"]["en"]["decision_accuracy"] == 0.5
    assert set(doc["by_tag"]) == {"typo", "short", "oos"}
    assert doc["by_tag"]["typo"]["n"] == 2 and doc["by_tag"]["typo"]["top1"] == 0.5
    assert doc["overall"]["n"] == 3


def test_regression_gate() -> None:
    base = {"overall": {"top1": 0.90, "decision_accuracy": 0.80, "escalation_f1": None}}
    same = {"overall": {"top1": 0.90, "decision_accuracy": 0.80, "escalation_f1": 0.5}}
    assert regressions(same, base, 0.01, ["top1", "decision_accuracy", "escalation_f1"]) == []
    # A drop of exactly the allowance passes; more than it fails.
    edge = {"overall": {"top1": 0.89, "decision_accuracy": 0.75}}
    drops = regressions(edge, base, 0.01, ["top1", "decision_accuracy"])
    assert [d.metric for d in drops] == ["decision_accuracy"]
    assert "decision_accuracy dropped from 0.8000 to 0.7500 (5.0 points)" == str(drops[0])
    missing = regressions({"overall": {}}, base, 0.01, ["top1"])
    assert missing[0].current is None and "missing" in str(missing[0])
