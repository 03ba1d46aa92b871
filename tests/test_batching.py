"""Micro-batching of concurrent encode_queries calls, with the real default embedder."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from qa_service.batching import BatchingEmbedder, with_batching
from qa_service.config import Settings
from qa_service.embedders import Embedder

QUESTIONS = [
    "忘记密码了怎么办?",
    "账户被冻结了咋办",
    "How do I contact support?",
    "提现多久到账",
    "手续费是多少",
    "怎么找人工客服",
    "OKPAY是什么",
    "在线客服在哪里",
]


class Recording:
    """The real embedder, recording the size of every call it receives."""

    def __init__(self, inner: Embedder, before_call=None):
        self.inner, self.spec, self.dim = inner, inner.spec, inner.dim
        self.sizes: list[int] = []
        self.before_call = before_call

    def encode_queries(self, texts):
        if self.before_call:
            self.before_call(len(self.sizes))
        self.sizes.append(len(texts))
        return self.inner.encode_queries(texts)

    def encode_passages(self, texts):
        return self.inner.encode_passages(texts)


def test_a_lone_caller_gets_the_same_vectors(embedder: Embedder) -> None:
    rec = Recording(embedder)
    batcher = BatchingEmbedder(rec)
    assert (batcher.spec, batcher.dim) == (embedder.spec, embedder.dim)
    for q in QUESTIONS[:3]:
        got = batcher.encode_queries([q])
        assert got.shape == (1, embedder.dim) and got.dtype == np.float32
        np.testing.assert_allclose(got, embedder.encode_queries([q]), atol=1e-5)
    assert rec.sizes == [1, 1, 1]


def test_concurrent_callers_share_one_encoder_call(embedder: Embedder) -> None:
    n = len(QUESTIONS)
    batcher: BatchingEmbedder

    def hold_first_call(call_no: int) -> None:
        # Keep the first batch open until every other caller is queued behind it.
        if call_no == 0:
            deadline = time.monotonic() + 30
            while len(batcher._pending) < n - 1 and time.monotonic() < deadline:
                time.sleep(0.001)

    rec = Recording(embedder, before_call=hold_first_call)
    batcher = BatchingEmbedder(rec, max_batch=64)
    barrier = threading.Barrier(n)

    def ask(q: str) -> np.ndarray:
        barrier.wait()
        return batcher.encode_queries([q])

    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(ask, QUESTIONS))

    assert rec.sizes == [1, n - 1]  # the leader alone, then everyone who queued meanwhile
    assert batcher.calls == 2 and batcher.mean_batch == n / 2
    expected = embedder.encode_queries(QUESTIONS)
    for q, got in zip(QUESTIONS, results, strict=True):
        np.testing.assert_allclose(got[0], expected[QUESTIONS.index(q)], atol=1e-5)


def test_batches_respect_max_batch(embedder: Embedder) -> None:
    rec = Recording(embedder)
    batcher = BatchingEmbedder(rec, max_batch=3)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda q: batcher.encode_queries([q, q]), QUESTIONS * 4))
    assert all(r.shape == (2, embedder.dim) for r in results)
    assert sum(rec.sizes) == 2 * len(QUESTIONS) * 4
    assert max(rec.sizes) <= 3  # a 2-question job never joins a batch that would pass 3


def test_a_failing_call_raises_and_the_batcher_keeps_working(embedder: Embedder) -> None:
    batcher = BatchingEmbedder(embedder)
    with pytest.raises((TypeError, AttributeError)):
        batcher.encode_queries([None])  # type: ignore[list-item]
    assert batcher.encode_queries(["还能用吗"]).shape == (1, embedder.dim)
    assert batcher.encode_queries([]).shape == (0, embedder.dim)


def test_passages_bypass_the_queue(embedder: Embedder) -> None:
    rec = Recording(embedder)
    got = BatchingEmbedder(rec).encode_passages(QUESTIONS)
    assert got.shape == (len(QUESTIONS), embedder.dim) and rec.sizes == []


def test_settings_switch_it(embedder: Embedder) -> None:
    assert with_batching(embedder, Settings(micro_batching=False)) is embedder
    wrapped = with_batching(embedder, Settings(batch_max_size=8, batch_max_wait_ms=2))
    assert isinstance(wrapped, BatchingEmbedder)
    assert (wrapped.max_batch, wrapped.max_wait) == (8, 0.002)
    with pytest.raises(ValueError):
        BatchingEmbedder(embedder, max_batch=0)


def test_under_load_the_leader_waits_for_company(embedder: Embedder) -> None:
    rec = Recording(embedder)
    batcher = BatchingEmbedder(rec, max_batch=2, max_wait_ms=10_000)
    batcher._last_batch = 2  # as after a busy spell: the last batch had company
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(batcher.encode_queries, [QUESTIONS[0]])
        time.sleep(0.2)  # well inside the leader's wait
        second = pool.submit(batcher.encode_queries, [QUESTIONS[1]])
        first.result(timeout=30), second.result(timeout=30)
    assert rec.sizes == [2]  # a full batch ends the wait early
