"""Build, save and load an index directory.

Layout of ``INDEX_DIR``::

    current -> builds/<build id>      symlink, swapped atomically
    builds/<build id>/manifest.json   format, embedder, dimension, counts, corpus sha256, time
    builds/<build id>/dense.faiss     one vector per indexed text (passage, title, alt question)
    builds/<build id>/table.json      entries, passages and what each vector points to
    builds/<build id>/bm25/           lexical index, one document per entry
    builds/<build id>/matcher.npz     learned matcher over example questions (see matcher.py)
    builds/<build id>/negatives.npy   vectors of questions the FAQ does not answer
    builds/<build id>/calibration.json the escalation model fitted to this corpus
    builds/<build id>/sentences.npy   one vector per sentence of the answers (highlights)

A build is written beside the live one and published by replacing the ``current`` symlink
with ``os.replace``, so a reader resolves either the old build or the new one, never a half.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import faiss
import numpy as np
from threadpoolctl import threadpool_limits

from .corpus import Corpus, FaqEntry, Passage, sentence_spans
from .embedders import Embedder
from .off_topic import off_topic_messages
from .pipeline.acts import ActModel, example_texts, fit_acts, model_from_table
from .pipeline.config import DEFAULTS, PipelineConfig
from .pipeline.decide import Calibration
from .pipeline.lexical import LexicalIndex, document_terms
from .pipeline.matcher import Matcher
from .pipeline.normalise import Normaliser, normaliser

FORMAT_VERSION = 10  # bump whenever what a build writes or means changes
KIND_PASSAGE, KIND_TITLE, KIND_ALT = 0, 1, 2
KEEP_BUILDS = 3
# Chosen with `qa-service bench` (docs/performance.md): 512-d vectors, 138 real questions,
# single queries on 1 thread of a shared 2-core machine. Flat up to
# PipelineConfig.flat_max_vectors; above, IVF with about sqrt(n) lists: at 1M, nlist=1024 and
# nprobe=16 gave recall@10 0.970 against exact search at p50 1.8 ms, built in 25 s. HNSW
# (M=32, efConstruction=80) reached only 0.85 (efSearch=128) or 0.91 (256) there and took
# 442 s to build.
IVF_NPROBE = 16
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 80, 128  # older builds may be HNSW


class IndexError_(RuntimeError):
    """The index directory is missing, corrupt or incompatible; the message says which."""


IndexLoadError = IndexError_


@dataclass
class IndexData:
    path: Path
    manifest: dict
    entries: list[dict]
    passages: list[Passage]
    item_entry: np.ndarray
    item_kind: np.ndarray
    item_passage: np.ndarray
    dense: faiss.Index
    lexical: LexicalIndex
    matcher: Matcher | None = None
    negatives: np.ndarray | None = None
    entry_terms: list[frozenset[str]] | None = None
    vectors: np.ndarray | None = None  # item vectors, kept only by an index held in memory
    # How close unrelated messages come to each entry's questions, and to the not-covered
    # ones, above the sparsest entry (see ``density_offsets``).
    question_offsets: np.ndarray | None = None
    negative_offset: float = 0.0
    # Each passage's sentences: vectors, the passage they belong to, their character spans.
    sentence_vectors: np.ndarray | None = None
    sentence_passage: np.ndarray | None = None
    sentence_spans: np.ndarray | None = None
    # Labelled questions that name one passage of an entry: their vectors and that passage.
    passage_examples: np.ndarray | None = None
    passage_example_owner: np.ndarray | None = None
    calibration: Calibration | None = None  # fitted to this corpus at build time
    # What the detail check looks for (``details.load_spec``); the generic kinds when empty.
    details_spec: dict = field(default_factory=dict)
    acts: ActModel | None = None  # small talk, requests for a person, emergencies
    # How questions are normalised (``normalise.load_spec``); the packaged rules when empty.
    normalise_spec: dict = field(default_factory=dict)

    @cached_property
    def normalise(self) -> Normaliser:
        """Questions asked of this index are normalised as its build normalised the corpus."""
        return normaliser(self.normalise_spec)

    @property
    def n_entries(self) -> int:
        return len(self.entries)


@dataclass
class BuildResult:
    manifest: dict
    path: Path
    skipped: bool


# Training cost grows with entries x example questions: 13 s for 668 entries of 21 questions
# on 2 cores (bench, build section), so about a minute at 1,000 and hours at 100k.
MATCHER_MAX_ENTRIES = 1000


def corpus_texts(index: IndexData) -> list[str]:
    """An index's questions and passages, normalised like queries."""
    questions = (q for e in index.entries for q in (e["question"], *e.get("alt_questions", ())))
    return [index.normalise(t) for t in (*questions, *(p.text for p in index.passages))]


@lru_cache(maxsize=100_000)
def _part_terms(text: str, norm: Normaliser) -> tuple[str, ...]:
    # Memoised: the escalation fit assembles 20 variants of one corpus with most texts the
    # same in all, and a build needs each entry's words with and without its alt questions.
    return document_terms(text, norm)


def entry_terms(e: FaqEntry, norm: Normaliser, examples: bool = True) -> tuple[str, ...]:
    """An entry's words for BM25: its title, its alt questions (``examples``) and its answer,
    each text tokenised once (BM25 counts words, not their order)."""
    parts = [e.question, *(e.alt_questions if examples else ()), *e.paragraphs]
    return tuple(t for part in parts for t in _part_terms(part, norm))


def dense_index_type(n_vectors: int, flat_max: int = DEFAULTS.flat_max_vectors) -> str:
    return "flat" if n_vectors <= flat_max else "ivf"


def ivf_lists(n: int) -> int:
    """About sqrt(n) lists (a power of two), keeping enough points per list to train on."""
    return max(1, min(n // 39, 2 ** round(math.log2(math.sqrt(max(n, 1))))))


def make_dense_index(
    vectors: np.ndarray, kind: str | None = None, flat_max: int = DEFAULTS.flat_max_vectors
) -> faiss.Index:
    n, dim = vectors.shape
    if (kind or dense_index_type(n, flat_max)) == "flat":
        index: faiss.Index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexIVFFlat(
            faiss.IndexFlatIP(dim), dim, ivf_lists(n), faiss.METRIC_INNER_PRODUCT
        )
        sample = np.random.default_rng(0).choice(n, size=min(n, 64 * index.nlist), replace=False)
        index.train(vectors[np.sort(sample)])
        index.nprobe = IVF_NPROBE
    index.add(vectors)
    return index


def mmap_flag(index_type: str) -> int:
    """Map the vectors instead of reading them, so server workers share one copy in the page
    cache and start at once. IVF maps its lists, Flat and HNSW their storage. A mapped index
    is read-only: never ``add`` to it (faiss aborts the process)."""
    return faiss.IO_FLAG_MMAP if index_type == "ivf" else faiss.IO_FLAG_MMAP_IFC


def resolve_build(index_dir: Path) -> Path:
    """The directory holding the live build (``index_dir`` itself if it is a build)."""
    if (index_dir / "manifest.json").is_file():
        return index_dir
    current = index_dir / "current"
    if current.exists():
        return current.resolve()
    raise IndexError_(
        f"no index in {index_dir} (build one: qa-service index --index-dir {index_dir})"
    )


def read_manifest(index_dir: Path) -> dict | None:
    try:
        return json.loads((resolve_build(index_dir) / "manifest.json").read_text("utf-8"))
    except (IndexError_, OSError, ValueError):
        return None


def index_status(index_dir: Path, corpus_sha256: str, embedder_spec: str) -> str:
    """'missing', 'stale' (corpus, embedder or format changed) or 'fresh'."""
    m = read_manifest(index_dir)
    if m is None:
        return "missing"
    same = (
        m.get("format_version") == FORMAT_VERSION
        and m.get("corpus_sha256") == corpus_sha256
        and m.get("embedder") == embedder_spec
    )
    return "fresh" if same else "stale"


def index_items(corpus: Corpus) -> tuple[list[str], list[int], list[int], list[int]]:
    """Every text a build embeds, with the entry, kind and passage each vector points to.
    Questions are embedded in the same normal form as incoming queries."""
    entry_pos = {e.id: i for i, e in enumerate(corpus.entries)}
    texts: list[str] = []
    item_entry: list[int] = []
    item_kind: list[int] = []
    item_passage: list[int] = []
    for p_idx, p in enumerate(corpus.passages):
        texts.append(p.text)
        item_entry.append(entry_pos[p.faq_id])
        item_kind.append(KIND_PASSAGE)
        item_passage.append(p_idx)
    for e_idx, e in enumerate(corpus.entries):
        for kind, text in [(KIND_TITLE, e.question)] + [(KIND_ALT, a) for a in e.alt_questions]:
            if not text:  # a variant of the escalation fit may hold an entry's title out
                continue
            texts.append(corpus.normalise(text))
            item_entry.append(e_idx)
            item_kind.append(kind)
            item_passage.append(-1)
    return texts, item_entry, item_kind, item_passage


class VectorCache:
    """Texts embedded once and looked up by text: a build and every corpus variant the
    escalation fit derives from it share one encoding pass."""

    def __init__(self, embedder: Embedder):
        self.embedder = embedder
        self._rows: dict[str, int] = {}
        self._vectors = np.zeros((0, embedder.dim), dtype=np.float32)

    def add(
        self,
        texts: Sequence[str],
        batch_size: int = 64,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        new = list(dict.fromkeys(t for t in texts if t not in self._rows))
        if not new:
            return
        vectors = encode_texts(self.embedder, new, batch_size, progress)
        base = len(self._vectors)
        self._vectors = np.vstack([self._vectors, vectors])
        self._rows.update((t, base + i) for i, t in enumerate(new))

    def get(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return self._vectors[[self._rows[t] for t in texts]]


def sentence_items(corpus: Corpus) -> tuple[list[str], list[int], list[tuple[int, int]]]:
    """Every sentence of every passage: its text, its passage and its span in the passage."""
    texts: list[str] = []
    owner: list[int] = []
    spans: list[tuple[int, int]] = []
    for p_idx, p in enumerate(corpus.passages):
        for start, end in sentence_spans(p.text):
            texts.append(p.text[start:end])
            owner.append(p_idx)
            spans.append((start, end))
    return texts, owner, spans


def corpus_vector_texts(corpus: Corpus) -> list[str]:
    """What a build of ``corpus`` embeds: its items, its not-covered questions and its
    answers' sentences."""
    return (
        index_items(corpus)[0]
        + [corpus.normalise(n.text) for n in corpus.negatives]
        + sentence_items(corpus)[0]
    )


# Background messages sampled to measure each entry's density: plenty for a mean.
DENSITY_SAMPLE = 1000


def density_offsets(
    x: np.ndarray,
    item_entry: np.ndarray,
    is_question: np.ndarray,
    negatives: np.ndarray,
    background: np.ndarray,
    n_entries: int,
) -> tuple[np.ndarray, float]:
    """Per entry, how close messages about something else come to its nearest question, and
    the same for the not-covered questions, both less the sparsest entry's.

    The nearest of 300 wordings is closer to any message than a lone title is, so an entry
    with many examples (or a long not-covered file) wins questions that belong to an entry
    with a title only. Subtracting this offset compares each with its own background. The
    background is every other question of the corpus plus the packaged off-topic messages."""
    rng = np.random.default_rng(0)
    q = x[is_question]
    q_entry = item_entry[is_question]
    pool = np.vstack([q, negatives, background])
    owner = np.concatenate([q_entry, np.full(len(negatives) + len(background), -1)])
    if len(pool) > DENSITY_SAMPLE:
        pick = np.sort(rng.choice(len(pool), DENSITY_SAMPLE, replace=False))
        pool, owner = pool[pick], owner[pick]
    sims = pool @ q.T
    off = np.zeros(n_entries, dtype=np.float32)
    for e in range(n_entries):
        cols = q_entry == e
        rows = owner != e
        if cols.any() and rows.any():
            off[e] = float(sims[np.ix_(rows, cols)].max(1).mean())
    base = float(off[off > 0].min()) if (off > 0).any() else 0.0
    off = np.where(off > 0, off - base, 0.0).astype(np.float32)
    neg_off = 0.0
    if len(negatives):
        outside = np.vstack([q, background])
        if len(outside) > DENSITY_SAMPLE:
            outside = outside[np.sort(rng.choice(len(outside), DENSITY_SAMPLE, replace=False))]
        neg_off = float((outside @ negatives.T).max(1).mean()) - base
    return off, neg_off


def assemble_index(
    corpus: Corpus,
    vectors: VectorCache,
    *,
    config: PipelineConfig = DEFAULTS,
    path: Path | None = None,
    background: np.ndarray | None = None,
    matchers: dict | None = None,
    with_acts: bool = True,
    with_matcher: bool = True,
) -> IndexData:
    """An index held in memory, from vectors already computed (``vectors`` has every text of
    ``corpus_vector_texts``). A build saves one; the escalation fit makes many, without the
    dialogue acts (``with_acts``), which it never asks about. ``with_matcher=False``: no
    learned matcher, as a corpus above ``MATCHER_MAX_ENTRIES`` has none (the fit's sample of
    such a corpus must be served as the corpus is)."""
    texts, item_entry, item_kind, item_passage = index_items(corpus)
    if background is None:
        off_topic = [corpus.normalise(t) for t in off_topic_messages()]
        vectors.add(off_topic)
        background = vectors.get(off_topic)
    x = vectors.get(texts)
    negatives = vectors.get([corpus.normalise(n.text) for n in corpus.negatives])
    s_texts, s_owner, s_spans = sentence_items(corpus)
    vectors.add(s_texts)
    # Variants that differ only in their answers share a matcher (``matchers``: a memo).
    key = (
        tuple((e.question, e.alt_questions) for e in corpus.entries),
        tuple(n.text for n in corpus.negatives),
        config.matcher_c,
        config.matcher_reject_weight,
    )
    if not with_matcher:
        matcher = None
    elif matchers is not None and key in matchers:
        matcher = matchers[key]
    else:
        matcher = train_matcher(
            x,
            np.asarray(item_kind),
            np.asarray(item_entry),
            negatives,
            reject_weight=config.matcher_reject_weight,
            c=config.matcher_c,
        )
        if matchers is not None:
            matchers[key] = matcher
    terms = [entry_terms(e, corpus.normalise) for e in corpus.entries]
    # BM25 reads each entry's title and answer: 300 wordings hold nearly every word a customer
    # types, so with them a rich entry outscores an entry with a title alone on its own topic.
    lexical_terms = (
        terms
        if config.lexical_examples
        else [entry_terms(e, corpus.normalise, examples=False) for e in corpus.entries]
    )
    kinds = np.asarray(item_kind)
    offsets, neg_offset = density_offsets(
        x,
        np.asarray(item_entry),
        kinds != KIND_PASSAGE,
        negatives,
        background,
        len(corpus.entries),
    )
    entries = [
        {
            "id": e.id,
            "question": e.question,
            "tags": list(e.tags),
            "url": e.url,
            "source": e.source,
            "alt_questions": list(e.alt_questions),
            "related": list(e.related),
        }
        for e in corpus.entries
    ]
    manifest = {
        "format_version": FORMAT_VERSION,
        "embedder": vectors.embedder.spec,
        "dimension": vectors.embedder.dim,
        "entry_count": len(corpus.entries),
        "passage_count": len(corpus.passages),
        "vector_count": len(texts),
        "negative_count": len(corpus.negatives),
        "matcher": matcher is not None,
        "index_type": dense_index_type(len(texts), config.flat_max_vectors),
        "corpus_sha256": corpus.sha256,
        "pipeline": config.to_dict(),  # the settings it was built with, and is served with
    }
    s_vectors = vectors.get(s_texts)
    acts = None
    if corpus.acts and with_acts:
        a_texts = [corpus.normalise(t) for t in example_texts(corpus.acts)[0]]
        vectors.add(a_texts)
        acts = fit_acts(
            corpus.acts,
            vectors.get(a_texts),
            x[kinds != KIND_PASSAGE],
            background,
            negatives,
        )
    return IndexData(
        path=path or Path("<memory>"),
        manifest=manifest,
        entries=entries,
        passages=list(corpus.passages),
        item_entry=np.asarray(item_entry, dtype=np.int32),
        item_kind=np.asarray(item_kind, dtype=np.int8),
        item_passage=np.asarray(item_passage, dtype=np.int32),
        dense=make_dense_index(x, flat_max=config.flat_max_vectors),
        lexical=LexicalIndex.from_terms(lexical_terms),
        matcher=matcher,
        negatives=negatives,
        entry_terms=[frozenset(t) for t in terms],
        vectors=x,
        question_offsets=offsets,
        negative_offset=neg_offset,
        sentence_vectors=s_vectors,
        sentence_passage=np.asarray(s_owner, dtype=np.int32),
        sentence_spans=np.asarray(s_spans, dtype=np.int32).reshape(-1, 2),
        details_spec=corpus.details,
        acts=acts,
        normalise_spec=corpus.normalise_spec,
    )


def write_build(
    index_dir: Path,
    data: IndexData,
    corpus: Corpus,
    *,
    calibration: Calibration | None = None,
    extra: dict | None = None,
    started: float | None = None,
) -> BuildResult:
    """Save an assembled index as a new build and publish it (``current`` swapped at once)."""
    index_dir = Path(index_dir)
    builds = index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    build_id = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.time_ns() % 10**6:06d}"
    tmp = builds / f".tmp-{build_id}"
    tmp.mkdir()
    try:
        faiss.write_index(data.dense, str(tmp / "dense.faiss"))
        data.lexical.save(tmp / "bm25")
        np.save(tmp / "negatives.npy", data.negatives)
        if data.matcher is not None:
            data.matcher.save(tmp / "matcher.npz")
        if calibration is not None:
            calibration.save(tmp / "calibration.json")
        if data.sentence_vectors is not None:
            np.save(tmp / "sentences.npy", data.sentence_vectors)
        if data.passage_examples is not None and len(data.passage_examples):
            np.save(tmp / "passage_examples.npy", data.passage_examples)
        offsets = data.question_offsets
        table = {
            "entries": data.entries,
            "passages": [p.__dict__ for p in corpus.passages],
            "item_entry": data.item_entry.tolist(),
            "item_kind": data.item_kind.tolist(),
            "item_passage": data.item_passage.tolist(),
            "entry_terms": [sorted(t) for t in data.entry_terms or []],
            "question_offsets": [] if offsets is None else offsets.tolist(),
            "negative_offset": data.negative_offset,
            "sentence_passage": _list(data.sentence_passage),
            "sentence_spans": _list(data.sentence_spans),
            "passage_example_owner": _list(data.passage_example_owner),
            "details": data.details_spec,
            "normalise": data.normalise_spec,
            "acts": data.acts.table() if data.acts is not None else None,
        }
        if data.acts is not None:
            np.savez(tmp / "acts.npz", **data.acts.arrays())
        (tmp / "table.json").write_text(json.dumps(table, ensure_ascii=False), "utf-8")
        manifest = {
            **data.manifest,
            "build_id": build_id,
            "corpus_files": [str(f) for f in corpus.files],
            **(extra or {}),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        if started is not None:
            manifest["build_seconds"] = round(time.perf_counter() - started, 3)
        # The manifest goes last: a build directory without one is incomplete by definition.
        (tmp / "manifest.json").write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False), "utf-8"
        )
        final = builds / build_id
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _publish(index_dir, final)
    _prune(builds, keep=final)
    return BuildResult(manifest, final, False)


def _list(a: np.ndarray | None) -> list:
    return [] if a is None else a.tolist()


def fresh_build(index_dir: Path, corpus: Corpus, embedder_spec: str) -> BuildResult | None:
    """The live build, when it was made from this corpus with this embedder and format."""
    if index_status(Path(index_dir), corpus.sha256, embedder_spec) != "fresh":
        return None
    live = resolve_build(Path(index_dir))
    return BuildResult(json.loads((live / "manifest.json").read_text("utf-8")), live, True)


def encode_workers(embedder: Embedder) -> int:
    """Threads to embed a corpus with: one per core if the embedder can share them."""
    if not getattr(embedder, "parallel_threads", False):
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def encode_texts(
    embedder: Embedder,
    texts: Sequence[str],
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Embed ``texts`` in batches, on all cores when the embedder allows it: 405 against 232
    FAQ passages/s, 3,160 against 1,640 questions/s with 2 threads (docs/performance.md)."""
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    starts = range(0, len(texts), batch_size)

    def encode(start: int) -> int:
        end = min(start + batch_size, len(texts))
        vectors[start:end] = embedder.encode_passages(texts[start:end])
        return end

    workers = encode_workers(embedder)
    if workers < 2 or len(starts) < 3:
        for start in starts:
            end = encode(start)
            if progress:
                progress(end, len(texts))
        return vectors
    encode(starts[0])  # loads any lazy weights before threads share the model
    # One BLAS thread per worker for the whole section: the threads are the parallelism.
    with threadpool_limits(1), ThreadPoolExecutor(workers) as pool:
        for end in pool.map(encode, starts[1:]):
            if progress:
                progress(end, len(texts))
    return vectors


def _publish(index_dir: Path, build: Path) -> None:
    link_tmp = index_dir / f".current-{os.getpid()}-{time.time_ns()}"
    os.symlink(Path("builds") / build.name, link_tmp)
    os.replace(link_tmp, index_dir / "current")


def _prune(builds: Path, keep: Path) -> None:
    # Keep a few old builds: a server may still be reading one it resolved before the swap.
    done = sorted(
        (p for p in builds.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name,
    )
    for old in done[:-KEEP_BUILDS]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)


def passage_examples(
    passages: Sequence[Passage], questions: Iterable[tuple[str, Sequence[str]]]
) -> tuple[list[str], list[int]]:
    """The labelled questions that name exactly one passage (``payment-methods#2``), as texts
    and the index of that passage; questions naming an entry, or several, are left out."""
    pos = {p.id: i for i, p in enumerate(passages)}
    texts, owners = [], []
    for question, expected in questions:
        named = [pos[e] for e in expected if e in pos]
        if len(named) == 1 and len(expected) == 1:
            texts.append(question)
            owners.append(named[0])
    return texts, owners


def load_index(index_dir: Path, expected_embedder: str | None = None) -> IndexData:
    path = resolve_build(Path(index_dir))
    try:
        manifest = json.loads((path / "manifest.json").read_text("utf-8"))
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexError_(
                f"index in {path} has format {manifest.get('format_version')}, this version "
                f"reads {FORMAT_VERSION}; rebuild it with qa-service index --force"
            )
        if expected_embedder and manifest.get("embedder") != expected_embedder:
            raise IndexError_(
                f"index in {path} was built with embedder {manifest.get('embedder')!r}, "
                f"but the service is configured for {expected_embedder!r}"
            )
        table = json.loads((path / "table.json").read_text("utf-8"))
        dense = faiss.read_index(
            str(path / "dense.faiss"), mmap_flag(manifest.get("index_type", "flat"))
        )
        lexical = LexicalIndex.load(path / "bm25", len(table["entries"]))
        matcher = Matcher.load(path / "matcher.npz") if (path / "matcher.npz").exists() else None
        negatives = np.load(path / "negatives.npy") if (path / "negatives.npy").exists() else None
        sentences = np.load(path / "sentences.npy") if (path / "sentences.npy").exists() else None
        examples_file = path / "passage_examples.npy"
        examples = np.load(examples_file) if examples_file.exists() else None
        act_arrays = dict(np.load(path / "acts.npz")) if (path / "acts.npz").exists() else None
        cal_file = path / "calibration.json"
        calibration = Calibration.load(cal_file) if cal_file.exists() else None
    except IndexError_:
        raise
    except Exception as exc:
        raise IndexError_(f"index in {path} is unreadable or corrupt: {exc}") from exc
    try:  # a table of the wrong shape is corruption too, not a crash
        item_entry = np.asarray(table["item_entry"], dtype=np.int32)
        if dense.ntotal != len(item_entry) or dense.d != manifest.get("dimension"):
            raise IndexError_(
                f"index in {path} is corrupt: {dense.ntotal} vectors for {len(item_entry)} items"
            )
        if isinstance(dense, faiss.IndexHNSWFlat):
            dense.hnsw.efSearch = HNSW_EF_SEARCH
        elif isinstance(dense, faiss.IndexIVF):
            dense.nprobe = IVF_NPROBE
        return IndexData(
            path=path,
            manifest=manifest,
            entries=table["entries"],
            passages=[Passage(**p) for p in table["passages"]],
            item_entry=item_entry,
            item_kind=np.asarray(table["item_kind"], dtype=np.int8),
            item_passage=np.asarray(table["item_passage"], dtype=np.int32),
            dense=dense,
            lexical=lexical,
            matcher=matcher,
            negatives=negatives,
            entry_terms=[frozenset(t) for t in table.get("entry_terms", [])] or None,
            calibration=calibration,
            question_offsets=np.asarray(table["question_offsets"], dtype=np.float32)
            if table.get("question_offsets")
            else None,
            negative_offset=float(table.get("negative_offset", 0.0)),
            sentence_vectors=sentences,
            passage_examples=examples,
            passage_example_owner=np.asarray(table.get("passage_example_owner", []), dtype=np.int32)
            if examples is not None
            else None,
            sentence_passage=np.asarray(table.get("sentence_passage", []), dtype=np.int32),
            sentence_spans=np.asarray(table.get("sentence_spans", []), dtype=np.int32).reshape(
                -1, 2
            ),
            details_spec=table.get("details") or {},
            normalise_spec=table.get("normalise") or {},
            acts=model_from_table(table["acts"], act_arrays)
            if table.get("acts") and act_arrays is not None
            else None,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise IndexError_(f"index in {path} is corrupt: table.json does not fit: {exc}") from exc


def train_matcher(
    vectors: np.ndarray,
    kinds: np.ndarray,
    entries: np.ndarray,
    negatives: np.ndarray,
    reject_weight: float = DEFAULTS.matcher_reject_weight,
    c: float = DEFAULTS.matcher_c,
) -> Matcher | None:
    """Fit the learned matcher on titles and alt questions (+ negatives as a reject class).

    None when there is too little to learn from (fewer than two questions an entry on average:
    titles alone teach nothing nearest neighbour does not know), or too much: above
    ``MATCHER_MAX_ENTRIES`` nearest neighbour over the questions decides alone.
    """
    n_entries = int(entries.max()) + 1 if entries.size else 0
    is_q = kinds != KIND_PASSAGE
    if n_entries < 2 or is_q.sum() < 2 * n_entries or n_entries > MATCHER_MAX_ENTRIES:
        return None
    x = np.vstack([vectors[is_q], negatives]) if len(negatives) else vectors[is_q]
    y = np.concatenate([entries[is_q], np.full(len(negatives), n_entries)])
    return Matcher.fit(x, y, n_entries, c=c, reject_weight=reject_weight)
