"""Labelled questions a corpus yields about itself, to fit escalation at index time.

A support team's FAQ changes every week and nobody labels questions for each change, so the
index build asks the corpus instead:

* **held-out questions:** each entry's title and alt questions, a fold at a time, asked of an
  index without them: the entry must still win them (answerable);
* **answer sentences:** each sentence of an answer, a fold at a time, cut out of its passage
  and asked as a question: the entry must still win it. An entry with a title and nothing else
  still gives material this way;
* **held-out entries:** whole entries, a fold at a time, left out of the index: their own
  questions and answer sentences now have no answer and must escalate;
* **held-out not-covered questions:** a fold of ``*.escalate.txt`` left out: they must escalate;
* **off-topic messages** packaged with qa-service: they must escalate.

Everything is looked up in one ``VectorCache``: no text is embedded twice, and each variant is an
index assembled in memory. Weights keep a rich entry's hundreds of wordings from drowning an
entry with only a title, and keep each source at a fixed share of the fit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .corpus import Corpus, FaqEntry, sentences
from .fitting import Observed
from .index import IndexData, VectorCache, assemble_index, corpus_vector_texts
from .off_topic import off_topic_messages
from .pipeline.config import PipelineConfig
from .pipeline.decide import Calibration, Decider
from .pipeline.normalise import has_content, normalise
from .pipeline.retrieve import Retriever
from .pipeline.signals import Signals

# Share of the fit each source carries. Real traffic (the default corpus's dev questions) is about two
# thirds answerable; what escalates is mostly near misses, then off-topic chatter.
GROUP_WEIGHTS = {
    "held-out question": 0.3,
    "title-only entry": 0.2,
    "answer sentence": 0.1,
    "held-out entry": 0.2,
    "held-out not-covered": 0.1,
    "off-topic": 0.1,
}
FOLDS = 5
# Questions asked per entry and group: beyond this an entry's wordings add time, not signal.
PER_ENTRY = 40


@dataclass(frozen=True)
class DerivedQuestion:
    text: str
    expected: str | None  # entry id; None: must escalate
    group: str
    entry: str = ""  # the entry it was written for, also when that entry is held out


class Labelled(Protocol):
    """A labelled question (``labelled.LabelledQuestion`` is one)."""

    question: str
    expected: tuple[str, ...]  # entry or passage ids; empty when it must escalate
    escalate: bool
    line: int  # where the question stands in its file

    def is_correct(self, faq_id: str | None, passage_id: str | None = None) -> bool: ...


def _folds(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    return rng.permutation(np.arange(n) % k) if n else np.zeros(0, dtype=int)


# An entry with this many alt questions can stand for an entry with a title only.
RICH = 10
# A sentence shorter than this says too little to stand as a question.
MIN_SENTENCE_CHARS = 6


def answer_sentences(entry: FaqEntry) -> list[tuple[int, str]]:
    """(paragraph number, sentence) for each sentence that could stand as a question."""
    return [
        (i, s)
        for i, para in enumerate(entry.paragraphs)
        for s in sentences(para)
        if len(s) >= MIN_SENTENCE_CHARS
    ]


def _without(entry: FaqEntry, cut: list[tuple[int, str]]) -> FaqEntry:
    """The entry with the ``cut`` sentences removed from its paragraphs (a paragraph left
    empty keeps its first sentence, so that the entry keeps a passage to show)."""
    paras = []
    for i, para in enumerate(entry.paragraphs):
        gone = {s for j, s in cut if j == i}
        kept = [s for s in sentences(para) if s not in gone]
        paras.append("".join(kept) if kept else "")
    if not any(paras):
        return entry
    return dataclasses.replace(entry, paragraphs=tuple(p for p in paras if p))


def variants(
    corpus: Corpus, folds: int = FOLDS, seed: int = 0
) -> Iterable[tuple[Corpus, list[DerivedQuestion]]]:
    """Corpus variants, each with the derived questions to ask of it."""
    rng = np.random.default_rng(seed)
    entries = corpus.entries
    questions = [(e.question, *e.alt_questions) for e in entries]
    sents = [answer_sentences(e) for e in entries]
    s_fold = [_folds(len(ss), folds, rng) for ss in sents]
    for k in range(folds):
        kept = []
        asked = []
        for e, ss, fold in zip(entries, sents, s_fold, strict=True):
            cut = [x for x, f in zip(ss, fold, strict=True) if f == k]
            changed = _without(e, cut)
            kept.append(changed)
            if changed is not e:
                asked += [DerivedQuestion(s, e.id, "answer sentence", e.id) for _, s in cut]
        yield corpus.variant(kept), asked
    q_fold = [_folds(len(qs), folds, rng) for qs in questions]
    n_fold = _folds(len(corpus.negatives), folds, rng)
    for k in range(folds):
        kept: list[FaqEntry] = []
        asked: list[DerivedQuestion] = []
        for e, qs, fold in zip(entries, questions, q_fold, strict=True):
            out = [q for q, f in zip(qs, fold, strict=True) if f == k]
            keep = [q for q, f in zip(qs, fold, strict=True) if f != k]
            asked += [DerivedQuestion(q, e.id, "held-out question", e.id) for q in out]
            if keep:
                kept.append(dataclasses.replace(e, question=keep[0], alt_questions=tuple(keep[1:])))
            else:  # the entry's only question is out: it is matched by its answer alone
                kept.append(dataclasses.replace(e, alt_questions=(), question=""))
        negs = [n for n, f in zip(corpus.negatives, n_fold, strict=True) if f != k]
        asked += [
            DerivedQuestion(n.text, None, "held-out not-covered")
            for n, f in zip(corpus.negatives, n_fold, strict=True)
            if f == k
        ]
        yield corpus.variant(kept, negatives=negs), asked
    # Entries rich in examples, a fold at a time, cut back to their title: their examples are
    # real customers' wordings of an entry that has only a title, as new entries have.
    rich = [i for i, e in enumerate(entries) if len(e.alt_questions) >= RICH]
    r_fold = _folds(len(rich), min(folds, len(rich)), rng) if len(rich) >= 2 else []
    for k in range(int(max(r_fold, default=-1)) + 1):
        cut = {rich[j] for j, f in enumerate(r_fold) if f == k}
        kept = [
            dataclasses.replace(e, alt_questions=()) if i in cut else e
            for i, e in enumerate(entries)
        ]
        asked = [
            DerivedQuestion(a, entries[i].id, "title-only entry", entries[i].id)
            for i in sorted(cut)
            for a in entries[i].alt_questions
        ]
        yield corpus.variant(kept), asked
    if len(entries) < 3:
        return
    e_fold = _folds(len(entries), min(folds, len(entries)), rng)
    for k in range(int(e_fold.max()) + 1):
        kept = [e for e, f in zip(entries, e_fold, strict=True) if f != k]
        asked = [
            DerivedQuestion(q, None, "held-out entry", e.id)
            for e, qs, ss, f in zip(entries, questions, sents, e_fold, strict=True)
            if f == k
            for q in (*qs, *(s for _, s in ss))
        ]
        yield corpus.variant(kept), asked


def _cap(asked: list[DerivedQuestion], rng: np.random.Generator) -> list[DerivedQuestion]:
    """At most ``PER_ENTRY`` questions per entry and group."""
    by_key: dict[tuple[str, str], list[DerivedQuestion]] = {}
    for q in asked:
        by_key.setdefault((q.entry, q.group), []).append(q)
    out: list[DerivedQuestion] = []
    for (_, group), qs in by_key.items():
        if group != "held-out not-covered" and group != "off-topic" and len(qs) > PER_ENTRY:
            qs = [qs[i] for i in sorted(rng.choice(len(qs), PER_ENTRY, replace=False))]
        out += qs
    return out


def observe_derived(
    corpus: Corpus,
    cache: VectorCache,
    *,
    config: PipelineConfig | None = None,
    base: Calibration | None = None,
    folds: int = FOLDS,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    matcher: bool = True,
) -> Observed:
    """Derived questions asked of the corpus variants; ``matcher=False`` assembles them
    without the learned matcher, as the served index of a large corpus has none."""
    decider = Decider(base or Calibration())
    rng = np.random.default_rng(seed + 1)
    off = [DerivedQuestion(t, None, "off-topic") for t in off_topic_messages()]
    cache.add([corpus.normalise(q.text) for q in off])
    rows: list[Signals] = []
    correct: list[bool] = []
    esc: list[bool] = []
    groups: list[str] = []
    owners: list[str] = []
    todo = list(variants(corpus, folds, seed))
    matchers: dict = {}
    kw = {} if config is None else {"config": config}
    for i, (variant, asked) in enumerate(todo):
        if not variant.entries:
            continue
        cache.add(corpus_vector_texts(variant))  # passages with a sentence cut out are new
        data = assemble_index(
            variant, cache, matchers=matchers, with_acts=False, with_matcher=matcher, **kw
        )
        asked = _cap(asked, rng) + (off if i == 0 else [])
        cache.add([corpus.normalise(q.text) for q in asked])
        for q, feats, faq_id in ask_derived(data, config, cache, asked):
            rows.append(feats)
            correct.append(q.expected is not None and faq_id == q.expected)
            esc.append(q.expected is None)
            groups.append(q.group)
            owners.append(q.entry)
        if progress:
            progress(i + 1, len(todo))
    no_content = [False] * len(rows)
    weights = _weights(groups, owners)
    return Observed.from_rows(rows, correct, esc, no_content, decider, weights, groups)


def ask_derived(
    data: IndexData,
    config: PipelineConfig | None,
    cache: VectorCache,
    asked: Sequence[DerivedQuestion],
):
    """(question, its signals, the best entry's id) for each question with content, asked
    of ``data`` with the vectors already in ``cache``."""
    retriever = Retriever(data, config)
    for q in asked:
        norm = data.normalise(q.text)
        if not has_content(norm):
            continue
        result = retriever.search(norm, cache.get([norm])[0], 1)
        faq_id = result.hits[0].passage.faq_id if result.hits else None
        yield q, result.signals, faq_id


def _weights(groups: list[str], owners: list[str]) -> list[float]:
    """Each group carries its share; within the held-out questions and the held-out entries,
    each entry an equal part."""
    g = np.asarray(groups, dtype=object)
    w = np.zeros(len(groups))
    present = {k: v for k, v in GROUP_WEIGHTS.items() if (g == k).any()}
    scale = sum(present.values()) or 1.0
    for group, share in present.items():
        idx = np.flatnonzero(g == group)
        if group in ("held-out question", "title-only entry", "answer sentence", "held-out entry"):
            own = np.asarray(owners, dtype=object)[idx]
            keys, inverse, counts = np.unique(own, return_inverse=True, return_counts=True)
            w[idx] = share / scale / len(keys) / counts[inverse]
        else:
            w[idx] = share / scale / len(idx)
    return (w * len(groups)).tolist()  # mean weight 1: the confidence model's C keeps its meaning


def observe_labelled(
    questions: Sequence[Labelled],
    ask: Callable[[str], object],
    decider: Decider,
    known: set[str] | None = None,
) -> Observed:
    """Labelled questions asked through ``ask`` (``QAService.ask``-like).

    ``known``: the entries the labels were written for. A question labelled "escalate" whose
    best entry is another one is left out: the labels predate that entry, which may well
    answer it (an editor's new refund entry, and "退款多久能到" labelled before it existed)."""
    rows, correct, esc, no_content = [], [], [], []
    for q in questions:
        a = ask(q.question)
        top = a.passages[0] if a.passages else None
        if known is not None and q.escalate and top is not None and top["faq_id"] not in known:
            continue
        rows.append(a.signals)
        correct.append(
            (not q.escalate) and top is not None and q.is_correct(top["faq_id"], top["id"])
        )
        esc.append(q.escalate)
        no_content.append(not has_content(normalise(q.question)))
    return Observed.from_rows(
        rows, correct, esc, no_content, decider, groups=["labelled"] * len(rows)
    )
