"""FAISS at scale: Flat (exact) against HNSW and IVF on synthetic corpora.

Database vectors are synthetic (see synthetic.VectorModel); query vectors come from the real
encoder on real questions, and the end-to-end figure times the real encoder plus the search.
Recall@k is measured against exact (Flat) search over the same vectors.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from .. import index as qa_index
from ..embedders import Embedder
from ..pipeline.config import DEFAULTS
from .stats import load_average, process_memory, self_peak_rss_mb, summarize
from .synthetic import VectorModel

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ScalePlan:
    sizes: tuple[int, ...] = (1_000, 100_000, 1_000_000)
    k: int = 10
    ef_search: tuple[int, ...] = (16, 32, 64, 128, 256)
    nprobe: tuple[int, ...] = (4, 8, 16, 32, 64)
    recall_target: float = 0.95
    mmap_workers: int = 2  # processes sharing one index file in the mmap check (0: skip)


def _latency(index: faiss.Index, queries: np.ndarray, k: int, threads: int) -> dict:
    faiss.omp_set_num_threads(threads)
    try:
        index.search(queries[:1], k)
        durations = []
        for q in queries:
            start = time.perf_counter()
            index.search(q[None], k)
            durations.append(time.perf_counter() - start)
    finally:
        faiss.omp_set_num_threads(_MAX_THREADS)
    return summarize(durations)


_MAX_THREADS = faiss.omp_get_max_threads()


def _recall(index: faiss.Index, queries: np.ndarray, truth: np.ndarray, k: int) -> float:
    _, ids = index.search(queries, k)
    hits = sum(len(set(a) & set(b)) for a, b in zip(ids, truth, strict=True))
    return round(hits / truth.size, 4)


def _file_mb(index: faiss.Index, path: Path) -> float:
    faiss.write_index(index, str(path))
    return round(path.stat().st_size / 1e6, 1)


def _bench_flat(x: np.ndarray, q: np.ndarray, plan: ScalePlan, path: Path) -> tuple:
    start = time.perf_counter()
    flat = faiss.IndexFlatIP(x.shape[1])
    flat.add(x)
    build_s = time.perf_counter() - start
    truth = flat.search(q, plan.k)[1]
    row = {
        "type": "flat",
        "params": {},
        "build_s": round(build_s, 3),
        "size_mb": _file_mb(flat, path / "flat.faiss"),
        "recall_at_k": 1.0,
        "search_1thread": _latency(flat, q, plan.k, 1),
        "search_all_threads": _latency(flat, q, plan.k, _MAX_THREADS),
        "search_service_k": _latency(flat, q, min(len(x), DEFAULTS.dense_candidates), 1),
    }
    (path / "flat.faiss").unlink()
    return flat, truth, row


def _bench_hnsw(x, q, truth, plan: ScalePlan, path: Path, progress: Progress) -> list[dict]:
    m, efc = qa_index.HNSW_M, qa_index.HNSW_EF_CONSTRUCTION
    hnsw = faiss.IndexHNSWFlat(x.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = efc
    start = time.perf_counter()
    step = 100_000
    for i in range(0, len(x), step):
        hnsw.add(x[i : i + step])
        if len(x) > step:
            progress(f"hnsw add {min(i + step, len(x)):,}/{len(x):,}")
    build_s = time.perf_counter() - start
    size_mb = _file_mb(hnsw, path / "hnsw.faiss")
    rows = []
    for ef in sorted(set(plan.ef_search) | {qa_index.HNSW_EF_SEARCH}):
        hnsw.hnsw.efSearch = ef
        rows.append(
            {
                "type": "hnsw",
                "params": {"M": m, "efConstruction": efc, "efSearch": ef},
                "build_s": round(build_s, 3),
                "size_mb": size_mb,
                "recall_at_k": _recall(hnsw, q, truth, plan.k),
                "search_1thread": _latency(hnsw, q, plan.k, 1),
                "search_all_threads": _latency(hnsw, q, plan.k, _MAX_THREADS),
                "search_service_k": _latency(hnsw, q, min(len(x), DEFAULTS.dense_candidates), 1),
            }
        )
    (path / "hnsw.faiss").unlink()
    return rows


def _bench_ivf(x, q, truth, plan: ScalePlan, path: Path) -> tuple:
    start = time.perf_counter()
    ivf = qa_index.make_dense_index(x, "ivf")  # exactly what an index build makes
    build_s = time.perf_counter() - start
    size_mb = _file_mb(ivf, path / "ivf.faiss")
    rows = []
    for nprobe in sorted(set(plan.nprobe) | {qa_index.IVF_NPROBE}):
        if nprobe > ivf.nlist:
            continue
        ivf.nprobe = nprobe
        rows.append(
            {
                "type": "ivf",
                "params": {"nlist": ivf.nlist, "nprobe": nprobe},
                "build_s": round(build_s, 3),
                "size_mb": size_mb,
                "recall_at_k": _recall(ivf, q, truth, plan.k),
                "search_1thread": _latency(ivf, q, plan.k, 1),
                "search_all_threads": _latency(ivf, q, plan.k, _MAX_THREADS),
                "search_service_k": _latency(ivf, q, min(len(x), DEFAULTS.dense_candidates), 1),
            }
        )
    ivf.nprobe = qa_index.IVF_NPROBE
    return ivf, rows


def _end_to_end(embedder: Embedder, texts: Sequence[str], index: faiss.Index) -> dict:
    """The real encoder on each question, then the search at the service's depth."""
    k = min(index.ntotal, DEFAULTS.dense_candidates)
    faiss.omp_set_num_threads(1)
    try:
        durations = []
        for t in texts:
            start = time.perf_counter()
            index.search(embedder.encode_queries([t]), k)
            durations.append(time.perf_counter() - start)
    finally:
        faiss.omp_set_num_threads(_MAX_THREADS)
    return summarize(durations)


def mmap_check(
    index_path: Path, index_type: str, queries: np.ndarray, workers: int, workdir: Path
) -> dict:
    """RSS and PSS of ``workers`` processes serving one index file, mapped or read."""
    qfile = workdir / "queries.npy"
    np.save(qfile, queries)
    out = {
        "index_type": index_type,
        "index_mb": round(index_path.stat().st_size / 1e6, 1),
        "workers": workers,
    }
    for mode in ("read", "mmap"):
        flags = qa_index.mmap_flag(index_type) if mode == "mmap" else 0
        cmd = [sys.executable, "-m", "qa_service.bench.mmapcheck", str(index_path), str(qfile)]
        cmd += ["--flags", str(flags)]
        procs = [
            subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            for _ in range(workers)
        ]
        try:
            timings = [json.loads(p.stdout.readline()) for p in procs]
            mems = [process_memory(p.pid) for p in procs]
        finally:
            for p in procs:
                p.communicate("", timeout=60)
        out[mode] = {
            "load_s": max(t["load_s"] for t in timings),
            "search_s": max(t["search_s"] for t in timings),
            "rss_mb_per_worker": max(m["rss_mb"] for m in mems),
            "pss_mb_per_worker": max(m["pss_mb"] for m in mems),
        }
    return out


def auto_choice(n: int) -> dict:
    """What qa_service.index builds for ``n`` vectors."""
    kind = qa_index.dense_index_type(n)
    if kind == "flat":
        return {"type": kind, "params": {}}
    return {"type": kind, "params": {"nlist": qa_index.ivf_lists(n), "nprobe": qa_index.IVF_NPROBE}}


def bench_scale(
    anchors: np.ndarray,
    queries: np.ndarray,
    query_texts: Sequence[str],
    embedder: Embedder,
    plan: ScalePlan,
    workdir: Path,
    progress: Progress = lambda _msg: None,
    on_size: Callable[[dict], None] = lambda _partial: None,
) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    model = VectorModel(anchors)
    sizes = []
    mmap = None
    for n in plan.sizes:
        progress(f"{n:,} vectors: generate")
        started = time.perf_counter()
        x = model.sample(n, seed=n)
        gen_s = time.perf_counter() - started
        choice = auto_choice(n)
        progress(f"{n:,} vectors: flat")
        flat, truth, flat_row = _bench_flat(x, queries, plan, workdir)
        rows = [flat_row]
        if choice["type"] != "flat":
            flat = None  # 4 bytes x dim per vector; free it before the next index
        progress(f"{n:,} vectors: hnsw")
        rows += _bench_hnsw(x, queries, truth, plan, workdir, progress)
        progress(f"{n:,} vectors: ivf")
        ivf, ivf_rows = _bench_ivf(x, queries, truth, plan, workdir)
        rows += ivf_rows
        chosen = flat if choice["type"] == "flat" else ivf
        match = next(
            r for r in rows if r["type"] == choice["type"] and r["params"] == choice["params"]
        )
        progress(f"{n:,} vectors: end to end")
        e2e = _end_to_end(embedder, query_texts, chosen)
        if n == max(plan.sizes) and plan.mmap_workers:
            progress(f"{n:,} vectors: memory-mapped workers")
            path = workdir / f"{choice['type']}.faiss"
            faiss.write_index(chosen, str(path))
            mmap = mmap_check(path, choice["type"], queries, plan.mmap_workers, workdir)
        for f in workdir.glob("*.faiss"):
            f.unlink()
        del flat, ivf, chosen, x
        sizes.append(
            {
                "vectors": n,
                "dim": int(anchors.shape[1]),
                "generate_s": round(gen_s, 3),
                "queries": len(queries),
                "k": plan.k,
                "indexes": rows,
                "auto": choice
                | {
                    "recall_at_k": match["recall_at_k"],
                    "search_p50_ms": match["search_1thread"]["p50_ms"],
                    "search_service_k_p50_ms": match["search_service_k"]["p50_ms"],
                    "end_to_end": e2e,
                },
                "peak_rss_mb": self_peak_rss_mb(),
                "load_avg_1m": load_average(),
            }
        )
        on_size(_summary(model, sizes, mmap))
    return _summary(model, sizes, mmap)


def _summary(model: VectorModel, sizes: list[dict], mmap: dict | None) -> dict:
    return {
        "vector_model": {"anchors": len(model.anchors), "rank": len(model.scales)},
        "sizes": sizes,
        "mmap": mmap,
        "index_constants": {
            "FLAT_MAX_VECTORS": DEFAULTS.flat_max_vectors,
            "IVF_NPROBE": qa_index.IVF_NPROBE,
            "HNSW_M": qa_index.HNSW_M,
            "HNSW_EF_CONSTRUCTION": qa_index.HNSW_EF_CONSTRUCTION,
            "HNSW_EF_SEARCH": qa_index.HNSW_EF_SEARCH,
        },
    }
