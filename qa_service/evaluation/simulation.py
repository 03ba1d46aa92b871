"""How well the service serves an FAQ whose entries have few example questions.

A support team adds entries with a title and an answer and nothing else. The simulation strips
a corpus's alt questions down to a few per entry (0, 1, 3), or holds whole entries out, fits
escalation to each variant exactly as ``qa-service index`` does (no labelled questions), and
asks the labelled questions of it in-process, through ``QAService``:

* ``alts=k``: every entry keeps its title and its first k alt questions;
* ``held-out``: a fold of entries is left out; their questions must now escalate;
* ``new``: a fold of entries keeps only its title and answer while the others keep every alt
  question, as when an editor adds entries to a rich FAQ; the row scores their questions.
* ``editor``: the same, fitted as ``qa-service index --questions`` fits a labelled FAQ: with the
  labelled questions of the other entries only, since labels written before an entry existed
  cannot name it. The row scores the new entries' questions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..config import Settings
from ..corpus import Corpus
from ..corpus_fit import CorpusFit
from ..embedders import Embedder
from ..index import VectorCache, assemble_index, corpus_vector_texts
from ..labelled import LabelledQuestion
from ..service import QAService
from ..stale import find_stale, without
from .evaluator import InProcessClient, evaluate
from .metrics import EvalRecord

DEFAULT_ALTS = (None, 3, 1, 0)  # None: the corpus as written


@dataclass
class Row:
    scenario: str
    n_answerable: int
    answered_right: float  # answerable questions answered with a right entry
    answered_right_passage: float | None  # ... and a right passage, where labels name one
    wrong: float  # share of all questions answered wrongly
    escalated_unanswerable: float  # questions that must escalate and did
    n_held_out: int = 0
    held_out_escalated: float | None = None  # questions of held-out entries that escalated
    threshold: float = 0.0

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def strip_alts(corpus: Corpus, keep: int | None) -> Corpus:
    if keep is None:
        return corpus
    entries = [dataclasses.replace(e, alt_questions=e.alt_questions[:keep]) for e in corpus.entries]
    return corpus.variant(entries)


def strip_some(corpus: Corpus, ids: set[str]) -> Corpus:
    entries = [
        dataclasses.replace(e, alt_questions=()) if e.id in ids else e for e in corpus.entries
    ]
    return corpus.variant(entries)


def drop_entries(corpus: Corpus, ids: set[str]) -> Corpus:
    entries = [e for e in corpus.entries if e.id not in ids]
    return corpus.variant(entries)


def _score(
    name: str,
    records: Sequence[EvalRecord],
    held: set[str],
    threshold: float,
    only: set[str] | None = None,
) -> Row:
    answerable = [r for r in records if r.answerable and not set(r.expected) & held]
    if only:
        answerable = [r for r in answerable if set(r.expected) & only]
    must = [r for r in records if r.escalate_expected]
    held_qs = [r for r in records if r.answerable and set(r.expected) <= held and held]
    with_passage = [r for r in answerable if any("#" in e for e in r.expected)]
    wrong = sum(not r.escalated and not r.answered_right for r in records if r not in held_qs)
    wrong += sum(not r.escalated for r in held_qs)
    return Row(
        name,
        len(answerable),
        _share(sum(r.answered_right for r in answerable), len(answerable)),
        _share(sum(r.answered_right for r in with_passage), len(with_passage))
        if with_passage
        else None,
        _share(wrong, len(records)),
        _share(sum(r.escalated for r in must), len(must)),
        len(held_qs),
        _share(sum(r.escalated for r in held_qs), len(held_qs)) if held_qs else None,
        threshold,
    )


def _share(a: int, b: int) -> float:
    return a / b if b else 0.0


def simulate(
    corpus: Corpus,
    questions: list[LabelledQuestion],
    embedder: Embedder,
    *,
    alts: Sequence[int | None] = DEFAULT_ALTS,
    held_out_folds: int = 4,
    settings: Settings | None = None,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    fit: CorpusFit | None = None,
    editor: bool = True,
) -> list[Row]:
    settings = settings or Settings()
    cache = VectorCache(embedder)
    cache.add(corpus_vector_texts(corpus))
    self_fit = fit or CorpusFit()
    scenarios: list[tuple[str, Corpus, set[str], set[str] | None, CorpusFit]] = [
        (f"alts={'all' if k is None else k}", strip_alts(corpus, k), set(), None, self_fit)
        for k in alts
    ]
    if held_out_folds and len(corpus.entries) > held_out_folds:
        ids = [e.id for e in corpus.entries]
        folds = np.random.default_rng(seed).permutation(np.arange(len(ids)) % held_out_folds)
        for k in range(held_out_folds):
            fold = {i for i, f in zip(ids, folds, strict=True) if f == k}
            name = f"{k + 1}/{held_out_folds}"
            new = strip_some(corpus, fold)
            scenarios.append((f"held-out {name}", drop_entries(corpus, fold), fold, None, self_fit))
            scenarios.append((f"new {name}", new, set(), fold, self_fit))
            if editor:
                older = [
                    q for q in questions if not {e.split("#", 1)[0] for e in q.expected} & fold
                ]
                labelled = dataclasses.replace(self_fit, labelled=older, labelled_name="older")
                scenarios.append((f"editor {name}", new, set(), fold, labelled))
    rows: list[Row] = []
    for name, variant, held, only, corpus_fit in scenarios:
        if progress:
            progress(name)
        variant = without(variant, find_stale(variant, cache))
        data = assemble_index(variant, cache)
        data.calibration, _ = corpus_fit(variant, cache, data)
        svc = QAService(settings, embedder=embedder)
        svc.use_index(data)
        records = evaluate(InProcessClient(svc), questions)
        rows.append(_score(name, records, held, data.calibration.answer_threshold, only))
    return rows


def pooled(rows: list[Row], prefix: str) -> Row | None:
    """The folds of one kind ("held-out", "new") as one row: each question counted once."""
    held = [r for r in rows if r.scenario.startswith(prefix + " ")]
    if not held:
        return None
    n = sum(r.n_held_out for r in held)
    esc = sum((r.held_out_escalated or 0.0) * r.n_held_out for r in held)
    m = len(held)
    n_ans = sum(r.n_answerable for r in held)
    return Row(
        f"{prefix} (pooled)",
        n_ans,
        sum(r.answered_right * r.n_answerable for r in held) / n_ans if n_ans else 0.0,
        None,
        sum(r.wrong for r in held) / m,
        sum(r.escalated_unanswerable for r in held) / m,
        n,
        esc / n if n else None,
        sum(r.threshold for r in held) / m,
    )


def markdown(rows: list[Row]) -> str:
    lines = [
        "| scenario | answerable | answered right | right passage | wrong (of all) | "
        "must-escalate escalated | held-out questions | held-out escalated | threshold |",
        "|" + "---|" * 9,
    ]
    pct = lambda v: "-" if v is None else f"{100 * v:.1f}%"  # noqa: E731
    for r in rows:
        lines.append(
            f"| {r.scenario} | {r.n_answerable} | {pct(r.answered_right)} | "
            f"{pct(r.answered_right_passage)} | {pct(r.wrong)} | {pct(r.escalated_unanswerable)} | "
            f"{r.n_held_out or '-'} | {pct(r.held_out_escalated)} | {r.threshold:.3f} |"
        )
    return "\n".join(lines)
