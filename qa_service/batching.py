"""Micro-batching: ``encode_queries`` calls from concurrent threads share one encoder call.

Encoding 32 short questions together costs far less than 32 single calls (the encoder
streams its weights once per call), and one caller at a time also keeps BLAS from
oversubscribing the cores. The first caller to find the encoder idle leads: it encodes its
own questions together with everything queued meanwhile, then hands the lead to the oldest
waiter. A lone caller pays no hand-off at all; under load, batches form while the encoder
is busy. With ``max_wait_ms`` the leader also waits that long for company, but only while
recent batches had any (so a quiet server never waits).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence

import numpy as np

from .config import Settings
from .embedders import Embedder


class _Job:
    __slots__ = ("texts", "result", "error", "done", "lead")

    def __init__(self, texts: list[str]):
        self.texts = texts
        self.result: np.ndarray | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.lead = False


class BatchingEmbedder:
    """An Embedder that coalesces concurrent ``encode_queries`` calls of the wrapped one."""

    def __init__(self, inner: Embedder, max_batch: int = 64, max_wait_ms: float = 0.0):
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.inner = inner
        self.spec = inner.spec
        self.dim = inner.dim
        self.max_batch = max_batch
        self.max_wait = max(0.0, max_wait_ms) / 1000.0
        self._cond = threading.Condition(threading.Lock())
        self._pending: deque[_Job] = deque()
        self._busy = False
        self._last_batch = 1
        self.calls = 0  # encoder calls made
        self.questions = 0  # questions encoded through them

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        job = _Job(list(texts))
        if not job.texts:
            return self.inner.encode_queries(job.texts)
        with self._cond:
            self._pending.append(job)
            lead = not self._busy
            self._busy = True
            self._cond.notify()  # a leader waiting for company may have enough now
        if not lead:
            job.done.wait()
            lead = job.lead
        if lead:
            self._lead()
        if job.error is not None:
            raise job.error
        assert job.result is not None
        return job.result

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        # Indexing already sends large batches; nothing to coalesce.
        return self.inner.encode_passages(texts)

    @property
    def mean_batch(self) -> float:
        return self.questions / self.calls if self.calls else 0.0

    def _lead(self) -> None:
        """Encode one batch headed by the leader's own job, then pass the lead on."""
        with self._cond:
            if self.max_wait and self._last_batch > 1:
                self._cond.wait_for(self._full, timeout=self.max_wait)
            batch, n = [], 0
            while self._pending and (
                not batch or n + len(self._pending[0].texts) <= self.max_batch
            ):
                job = self._pending.popleft()
                batch.append(job)
                n += len(job.texts)
            self._last_batch = len(batch)
        try:
            vectors = self.inner.encode_queries([t for job in batch for t in job.texts])
            start = 0
            for job in batch:
                job.result = vectors[start : start + len(job.texts)]
                start += len(job.texts)
        except BaseException as exc:  # every caller in the batch sees the failure
            for job in batch:
                job.error = exc
        finally:
            with self._cond:
                self.calls += 1
                self.questions += n
                if self._pending:
                    heir = self._pending[0]
                    heir.lead = True
                    heir.done.set()
                else:
                    self._busy = False
            for job in batch[1:]:
                job.done.set()

    def _full(self) -> bool:
        return sum(len(j.texts) for j in self._pending) >= self.max_batch


def with_batching(embedder: Embedder, settings: Settings) -> Embedder:
    """The embedder wrapped for micro-batching when the settings ask for it."""
    if not settings.micro_batching:
        return embedder
    return BatchingEmbedder(embedder, settings.batch_max_size, settings.batch_max_wait_ms)
