"""The dense index chosen by size (Flat, then IVF), and memory-mapped loading."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from qa_service import index as qa_index
from qa_service.config import Settings
from qa_service.embedders import Embedder
from qa_service.index import dense_index_type, ivf_lists, load_index, make_dense_index
from qa_service.indexing import build_index
from qa_service.pipeline.config import PipelineConfig
from qa_service.service import QAService

from .conftest import CORPUS


def _unit(n: int, dim: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_small_is_flat_and_large_is_ivf() -> None:
    limit = PipelineConfig().flat_max_vectors
    assert dense_index_type(limit) == "flat" and dense_index_type(limit + 1) == "ivf"
    assert dense_index_type(51, flat_max=50) == "ivf"
    assert ivf_lists(1_000_000) == 1024 and ivf_lists(100_000) == 256
    assert ivf_lists(200) == 5  # few points: lists shrink so each still has ~39 to train on
    x = _unit(3000, 32)
    ivf = make_dense_index(x, "ivf")
    assert isinstance(ivf, faiss.IndexIVFFlat) and ivf.is_trained and ivf.ntotal == 3000
    assert ivf.nprobe == qa_index.IVF_NPROBE and ivf.nlist == ivf_lists(3000)
    flat = make_dense_index(x)
    assert isinstance(flat, faiss.IndexFlatIP)
    # Each vector finds itself first, through the lists as through the exact scan.
    _, ids = ivf.search(x[:50], 1)
    np.testing.assert_array_equal(ids[:, 0], np.arange(50))


def test_an_ivf_build_is_mapped_and_answers(tmp_path: Path, embedder: Embedder) -> None:
    # Lower the limit so the shipped corpus (a few hundred vectors) is built as IVF; the
    # build records the settings it was made with, and a rebuild with others is not skipped.
    config = PipelineConfig(flat_max_vectors=50)
    flat = build_index(CORPUS, tmp_path / "idx", embedder, fit=False)
    assert flat.manifest["index_type"] == "flat"
    result = build_index(CORPUS, tmp_path / "idx", embedder, config=config, fit=False)
    assert not result.skipped and result.manifest["index_type"] == "ivf"
    assert result.manifest["pipeline"]["flat_max_vectors"] == 50
    data = load_index(tmp_path / "idx")
    assert isinstance(data.dense, faiss.IndexIVFFlat)
    assert data.dense.nprobe == qa_index.IVF_NPROBE
    svc = QAService(Settings(index_dir=tmp_path / "idx"), embedder=embedder)
    svc.load()
    answer = svc.ask("忘记密码了怎么办?")
    assert answer.passages[0]["faq_id"] == "password-reset"


def test_mapped_flat_index_matches_a_read_one(tmp_path: Path) -> None:
    x = _unit(500, 64, seed=1)
    path = tmp_path / "flat.faiss"
    faiss.write_index(make_dense_index(x), str(path))
    mapped = faiss.read_index(str(path), qa_index.mmap_flag("flat"))
    read = faiss.read_index(str(path))
    d1, i1 = mapped.search(x[:20], 5)
    d2, i2 = read.search(x[:20], 5)
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_allclose(d1, d2)
    assert qa_index.mmap_flag("ivf") == faiss.IO_FLAG_MMAP


def test_service_runs_faiss_on_the_configured_threads(embedder: Embedder) -> None:
    before = faiss.omp_get_max_threads()
    try:
        QAService(Settings(search_threads=1), embedder=embedder)
        assert faiss.omp_get_max_threads() == 1
    finally:
        faiss.omp_set_num_threads(before)
