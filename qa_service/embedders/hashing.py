"""A deterministic embedder with no model: character n-grams hashed into a fixed number of
dimensions (the "hashing trick"), L2-normalised. Texts that share characters are close.

It is the test seam (``hashing`` or ``hashing:<dim>``): unit tests of the index and of each
pipeline stage run in milliseconds and give the same vectors on every machine. It knows
nothing of meaning, so do not serve with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from .base import normalise_rows

DEFAULT_DIM = 256


class HashingEmbedder:
    def __init__(self, dim: int = DEFAULT_DIM, ngrams: tuple[int, ...] = (1, 2)):
        if dim < 8:
            raise ValueError("the hashing embedder needs at least 8 dimensions")
        self.dim = dim
        self.ngrams = ngrams
        self.spec = "hashing" if dim == DEFAULT_DIM else f"hashing:{dim}"
        self.parallel_threads = True

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        chars = "".join(text.lower().split())
        for n in self.ngrams:
            for i in range(len(chars) - n + 1):
                # blake2b, not hash(): the same vector in every process and on every machine.
                h = int.from_bytes(
                    hashlib.blake2b(chars[i : i + n].encode(), digest_size=8).digest()
                )
                v[h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
        return v

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise_rows(np.stack([self._vector(t) for t in texts]))

    encode_passages = encode_queries
