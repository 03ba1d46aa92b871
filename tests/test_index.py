from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from qa_service.embedders import Embedder
from qa_service.index import (
    IndexError_,
    encode_texts,
    encode_workers,
    index_status,
    load_index,
    resolve_build,
)
from qa_service.indexing import build_index

from .conftest import CORPUS


@pytest.fixture()
def small_corpus(tmp_path: Path) -> Path:
    d = tmp_path / "corpus"
    d.mkdir()
    shutil.copy(CORPUS / "okpay_faq.zh.md", d / "okpay_faq.zh.md")
    return d


def test_build_writes_manifest_and_loads(
    tmp_path: Path, small_corpus: Path, embedder: Embedder
) -> None:
    result = build_index(small_corpus, tmp_path / "idx", embedder)
    m = result.manifest
    assert not result.skipped
    assert m["embedder"] == "use-multilingual" and m["dimension"] == 512
    assert m["passage_count"] == 18 and m["entry_count"] >= 10
    assert len(m["corpus_sha256"]) == 64 and m["built_at"].endswith("Z")
    # vectors: one per passage, title and alt question
    assert m["vector_count"] > m["passage_count"] + m["entry_count"]
    idx = load_index(tmp_path / "idx", expected_embedder="use-multilingual")
    assert idx.dense.ntotal == m["vector_count"]
    assert {p.faq_id for p in idx.passages} == {e["id"] for e in idx.entries}


def test_unchanged_corpus_skips_and_change_rebuilds(
    tmp_path: Path, small_corpus: Path, embedder: Embedder
) -> None:
    idx_dir = tmp_path / "idx"
    first = build_index(small_corpus, idx_dir, embedder)
    again = build_index(small_corpus, idx_dir, embedder)
    assert again.skipped and again.path == first.path
    forced = build_index(small_corpus, idx_dir, embedder, force=True)
    assert not forced.skipped and forced.path != first.path
    with (small_corpus / "okpay_faq.zh.md").open("a", encoding="utf-8") as f:
        f.write("\n---\nid: refund\nquestion: 如何退款?\n---\n\n请联系客服。\n")
    from qa_service.corpus import load_corpus

    assert index_status(idx_dir, load_corpus(small_corpus).sha256, embedder.spec) == "stale"
    assert index_status(idx_dir, load_corpus(small_corpus).sha256, "e5-small") == "stale"
    rebuilt = build_index(small_corpus, idx_dir, embedder)
    assert not rebuilt.skipped and rebuilt.manifest["passage_count"] == 19


def test_swap_is_atomic_and_old_build_stays_readable(
    tmp_path: Path, small_corpus: Path, embedder: Embedder
) -> None:
    idx_dir = tmp_path / "idx"
    old = build_index(small_corpus, idx_dir, embedder)
    reader = load_index(idx_dir)  # a server holding the old build
    new = build_index(small_corpus, idx_dir, embedder, force=True)
    assert (idx_dir / "current").is_symlink()
    assert resolve_build(idx_dir) == new.path
    assert old.path.exists() and reader.dense.ntotal == new.manifest["vector_count"]
    # no temporary build or link is left behind
    assert not [p for p in (idx_dir / "builds").iterdir() if p.name.startswith(".")]
    assert not [p for p in idx_dir.iterdir() if p.name.startswith(".current")]


def test_failed_build_leaves_live_index_untouched(
    tmp_path: Path, small_corpus: Path, embedder: Embedder
) -> None:
    idx_dir = tmp_path / "idx"
    good = build_index(small_corpus, idx_dir, embedder)

    class Broken:
        spec, dim = "use-multilingual", 512

        def encode_passages(self, texts):
            raise RuntimeError("encoder crashed")

    with pytest.raises(RuntimeError):
        build_index(small_corpus, idx_dir, Broken(), force=True)  # type: ignore[arg-type]
    assert resolve_build(idx_dir) == good.path
    load_index(idx_dir)


def test_load_refuses_missing_corrupt_and_foreign(
    tmp_path: Path, small_corpus: Path, embedder: Embedder
) -> None:
    with pytest.raises(IndexError_, match="no index"):
        load_index(tmp_path / "none")
    idx_dir = tmp_path / "idx"
    built = build_index(small_corpus, idx_dir, embedder)
    with pytest.raises(IndexError_, match="built with embedder 'use-multilingual'"):
        load_index(idx_dir, expected_embedder="e5-small")
    (built.path / "dense.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexError_, match="corrupt"):
        load_index(idx_dir)
    m = json.loads((built.path / "manifest.json").read_text())
    m["format_version"] = 999
    (built.path / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(IndexError_, match="format 999"):
        load_index(idx_dir)


def test_parallel_encoding_equals_one_batch(embedder: Embedder) -> None:
    from qa_service.corpus import load_corpus

    corpus = load_corpus(CORPUS)
    texts = [p.text for p in corpus.passages]
    texts += [q for e in corpus.entries for q in (e.question, *e.alt_questions)]
    # The packaged encoder shares its model across threads; small batches make several jobs.
    assert encode_workers(embedder) == len(os.sched_getaffinity(0))
    seen: list[int] = []
    parallel = encode_texts(embedder, texts, batch_size=16, progress=lambda n, _: seen.append(n))
    serial = embedder.encode_passages(texts)
    np.testing.assert_allclose(parallel, serial, atol=1e-5)
    assert seen == sorted(seen) and seen[-1] == len(texts)


def test_matcher_skipped_above_its_entry_limit(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qa_service.index as index_module

    monkeypatch.setattr(index_module, "MATCHER_MAX_ENTRIES", 5)
    built = build_index(CORPUS, tmp_path / "index", embedder)
    assert built.manifest["entry_count"] > 5 and built.manifest["matcher"] is False
    data = load_index(tmp_path / "index")
    assert data.matcher is None and data.lexical.n_docs == built.manifest["entry_count"]
