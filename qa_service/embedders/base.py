"""The one interface every embedding backend implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


class EmbedderUnavailable(RuntimeError):
    """A backend cannot be used here; the message says what to install or fix, in one line."""


@runtime_checkable
class Embedder(Protocol):
    spec: str
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 array of shape (len(texts), dim)."""
        ...

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Same as encode_queries, for indexed text (some models mark the two differently)."""
        ...


def normalise_rows(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return x / norms
