"""Several embedders as one: ``use-multilingual+sentence-transformers:/models/tuned``.

Each member's L2-normalised vector is scaled by ``sqrt(w_i / sum(w))`` and the parts are
concatenated, so the result is L2-normalised too and its inner product is the weighted mean of
the members' cosines. Weights default to 1 and are written after the spec:
``use-multilingual@0.5+sentence-transformers:/models/tuned``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from .base import Embedder, EmbedderUnavailable


def split_spec(spec: str) -> list[tuple[str, float]]:
    """``a@0.5+b`` -> ``[("a", 0.5), ("b", 1.0)]``; raises on an empty part or a bad weight."""
    parts = []
    for raw in spec.split("+"):
        part = raw.strip()
        name, weight = part, 1.0
        head, _, tail = part.rpartition("@")
        try:
            # Only a number after the last '@' is a weight; a path may hold '@' too.
            weight, name = float(tail), head
        except ValueError:
            pass
        if not math.isfinite(weight) or weight <= 0:
            raise EmbedderUnavailable(f"embedder {part!r}: the weight must be more than 0")
        if not name.strip():
            raise EmbedderUnavailable(f"embedder spec {spec!r} has an empty part")
        parts.append((name.strip(), weight))
    return parts


class EnsembleEmbedder:
    def __init__(self, members: Sequence[tuple[Embedder, float]], spec: str):
        if len(members) < 2:
            raise EmbedderUnavailable("an ensemble needs two or more embedders joined by '+'")
        total = sum(w for _, w in members)
        self.members = [m for m, _ in members]
        self.scales = [math.sqrt(w / total) for _, w in members]
        self.spec = spec
        self.dim = sum(m.dim for m in self.members)

    def _join(self, encode: Callable[[Embedder], np.ndarray], n: int) -> np.ndarray:
        if n == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Members already return L2-normalised rows; the scales make the whole row unit length.
        parts = [encode(m) * s for m, s in zip(self.members, self.scales, strict=True)]
        return np.ascontiguousarray(np.hstack(parts), dtype=np.float32)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._join(lambda m: m.encode_queries(texts), len(texts))

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._join(lambda m: m.encode_passages(texts), len(texts))


def load_ensemble(spec: str, threads: int, load: Callable[[str, int], Embedder]) -> Embedder:
    members = [(load(name, threads), weight) for name, weight in split_spec(spec)]
    return EnsembleEmbedder(members, spec)
