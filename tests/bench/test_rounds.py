"""The concurrency-1 ratios in interleaved rounds: each ratio is taken within its round."""

from __future__ import annotations

import statistics

from qa_service.bench.inprocess import raw_embedder
from qa_service.bench.report import evaluate_targets, round_lines
from qa_service.bench.rounds import bench_rounds

QUESTIONS = ["忘记密码了怎么办?", "提现手续费是多少", "how do I contact support"]


def test_rounds_alternate_and_take_each_ratio_within_its_round(service) -> None:
    calls: list[str] = []

    def server(name: str, p50: float):
        def load(seconds: float) -> dict:
            calls.append(name)
            return {"p50_ms": p50}

        return load

    out = bench_rounds(
        raw_embedder(service),
        service,
        QUESTIONS,
        {"http": server("http", 4.0), "txtai": server("txtai", 5.0)},
        rounds=3,
        seconds=0.2,
    )
    # A warm-up each, then one block each per round, in turn.
    assert calls == ["http", "txtai"] + ["http", "txtai"] * 3
    rows = out["rounds"]
    assert len(rows) == 3 and all(r["encode_p50_ms"] > 0 and r["ask_p50_ms"] > 0 for r in rows)
    expected = statistics.median(4.0 / r["encode_p50_ms"] for r in rows)
    assert out["ratios"]["http"]["over_encode"] == round(expected, 3)
    assert out["median"]["txtai"] == 5.0

    targets = {t["measure"]: t for t in evaluate_targets({"encoder": _encoder(), "rounds": out})}
    peer = targets["HTTP p50, c=1, no cache, against txtai's API"]
    assert peer["met"] is True and "0.80 x" in peer["value"]
    vs_ask = targets["HTTP p50, c=1, no cache, against ask()"]
    assert vs_ask["met"] is (out["ratios"]["http"]["over_ask"] <= 1.3)
    text = "\n".join(round_lines({"rounds": out}))
    assert "| median |" in text and "- txtai:" in text


def _encoder() -> dict:
    return {"single": {"p50_ms": 1.0}}
