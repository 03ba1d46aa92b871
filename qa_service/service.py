"""QAService: the one facade behind the HTTP API, the CLI and the evaluation."""

from __future__ import annotations

import copy
import dataclasses
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import faiss

from .batching import with_batching
from .cache import RetrievalCache
from .config import Settings
from .embedders import Embedder, load_embedder
from .index import IndexData, IndexError_, corpus_texts, load_index
from .pipeline.acts import CONTEXT, SMALL_TALK, Act, ActModel
from .pipeline.config import PipelineConfig
from .pipeline.context import Conversations, MemoryConversations, failing
from .pipeline.decide import Calibration, Decider, Decision
from .pipeline.language import localise, renderings, reply_language
from .pipeline.normalise import clean, has_content, normalise
from .pipeline.respond import MESSAGES, Answer, escalation_for, hand_off, new_id, new_query_id
from .pipeline.retrieve import Retriever
from .pipeline.signals import Signals
from .pipeline.spell import Speller


class QueryLog(Protocol):
    def log_query(self, answer: Answer, channel: str) -> None: ...


@dataclass
class _Live:
    """Everything a query reads, swapped as one reference so a reload is atomic."""

    index: IndexData
    retriever: Retriever
    speller: Speller | None
    decider: Decider
    related: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    entry_passages: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    # The corpus's renderings in other languages, by passage and by entry title.
    translations: dict[str, dict] = field(default_factory=dict)
    titles: dict[str, dict[str, str]] = field(default_factory=dict)
    languages: dict[str, str] = field(default_factory=dict)  # each passage's own

    def localised(self, passage: dict, lang: str) -> dict:
        own = self.languages.get(passage["id"])
        return localise(passage, lang, self.translations, self.titles, own)


def related_entries(index: IndexData) -> dict[str, list[dict[str, str]]]:
    """Per entry id, the entries that complete its answer, as ``{"faq_id", "title"}``."""
    titles = {e["id"]: e["question"] for e in index.entries}
    return {
        e["id"]: [{"faq_id": r, "title": titles[r]} for r in e.get("related", ()) if r in titles]
        for e in index.entries
    }


def entry_passages(index: IndexData) -> dict[str, list[dict[str, str]]]:
    """Per entry id, its passages as ``{"id", "text"}``, in the entry's order."""
    out: dict[str, list[dict[str, str]]] = {}
    for p in index.passages:
        out.setdefault(p.faq_id, []).append({"id": p.id, "text": p.text})
    return out


class IndexMismatch(IndexError_):
    """A new index cannot replace the live one (another embedder, corrupt files)."""


class QAService:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        calibration: Calibration | None = None,
        retrieval: PipelineConfig | None = None,
        query_log: QueryLog | None = None,
        normalise_queries: bool = True,
        correct_spelling: bool = True,
    ):
        self.settings = settings or Settings()
        self.embedder = embedder or with_batching(
            load_embedder(self.settings.embedder, self.settings.threads), self.settings
        )
        self.cache = RetrievalCache(self.settings.answer_cache_size)
        # Splitting one query's search over threads measured slower on a busy 2-core host
        # (Flat, 100k vectors: 10.8 ms on 1 thread, 40 ms on 2; docs/performance.md).
        faiss.omp_set_num_threads(self.settings.search_threads)
        # A calibration given here or by QA_CALIBRATION_FILE wins; otherwise each index brings
        # the one fitted to its corpus at build time, and older builds the packaged default.
        self._fixed_calibration = calibration or (
            Calibration.load(self.settings.calibration_file)
            if self.settings.calibration_file
            else None
        )
        self._packaged_calibration = Calibration.load()
        # Fixed settings (the ablation's variants); otherwise each build's own (its manifest).
        self._fixed_config = retrieval
        self.query_log = query_log
        # Where earlier turns are read from; the API points it at the query log.
        self.conversations: Conversations = MemoryConversations()
        self.normalise_queries = normalise_queries  # off only to measure what it is worth
        self.correct_spelling = correct_spelling  # likewise
        self._live: _Live | None = None
        # The index directory the live index came from; None for one served from memory,
        # which a replica must not swap for the published build (``qa_service.replica``).
        self.source: Path | None = None
        self.load_error: str | None = None
        self._reload_lock = threading.Lock()

    # Index lifecycle ------------------------------------------------------------------

    def load(self, index_dir: Path | None = None) -> dict:
        """Load (or reload) the index; the old one keeps serving if this fails."""
        path = Path(index_dir or self.settings.index_dir)
        with self._reload_lock:
            try:
                index = load_index(path, expected_embedder=self.embedder.spec)
            except IndexError_ as exc:
                if self._live is None:
                    self.load_error = str(exc)
                raise IndexMismatch(str(exc)) from exc
            manifest = self._serve(index)
            self.source = path
            return manifest

    def use_index(self, index: IndexData) -> dict:
        """Serve an index already in memory (``index.assemble_index``): the escalation fit
        and the simulation ask questions of corpus variants without writing them out."""
        with self._reload_lock:
            self.source = None
            return self._serve(index)

    def _serve(self, index: IndexData) -> dict:
        # The speller's targets are the words of this corpus, so it changes with the index.
        speller = Speller.from_texts(corpus_texts(index)) if self.correct_spelling else None
        decider = Decider(self._calibration_for(index))
        live = _Live(
            index,
            Retriever(index, self._config_for(index)),
            speller,
            decider,
            related_entries(index),
            entry_passages(index),
            *renderings(index.passages),
        )
        self._warm(live)
        self._live = live  # one assignment: in-flight queries keep their old reference
        self.cache.clear()
        self.load_error = None
        return index.manifest

    def _warm(self, live: _Live) -> None:
        """Ask the new index one question before it serves: the encoder loads its model and
        every lazy structure fills on first use, so readiness means the first customer's
        question is as fast as the next (the entry detail lists fill per entry as asked)."""
        if not live.index.entries:
            return
        norm = live.index.normalise(live.index.entries[0]["question"])
        query = live.speller.correct(norm) if live.speller is not None else norm
        vec = self.embedder.encode_queries([query])[0]
        result = live.retriever.search(query, vec, 3)
        live.decider.decide(result.signals, True)
        if live.index.acts is not None:
            live.index.acts.classify(vec)

    def _config_for(self, index: IndexData) -> PipelineConfig:
        return self._fixed_config or PipelineConfig.from_dict(index.manifest.get("pipeline"))

    def _calibration_for(self, index: IndexData) -> Calibration:
        cal = copy.deepcopy(
            self._fixed_calibration or index.calibration or self._packaged_calibration
        )
        if self.settings.answer_threshold is not None:
            cal.answer_threshold = self.settings.answer_threshold
        if self.settings.ambiguity_margin is not None:
            cal.ambiguity_margin = self.settings.ambiguity_margin
        return cal

    @property
    def calibration(self) -> Calibration:
        """The calibration the live index is served with."""
        live = self._live
        return live.decider.calibration if live else self._unloaded_calibration

    @calibration.setter
    def calibration(self, cal: Calibration) -> None:
        # Fixed from now on, for this index and the next (the ablation swaps calibrations).
        self._fixed_calibration = cal
        live = self._live
        if live is not None:
            self._live = dataclasses.replace(
                live, decider=Decider(self._calibration_for(live.index))
            )
            self.cache.clear()

    @property
    def _unloaded_calibration(self) -> Calibration:
        return self._fixed_calibration or self._packaged_calibration

    @property
    def decider(self) -> Decider:
        live = self._live
        return live.decider if live else Decider(self._unloaded_calibration)

    @property
    def index(self) -> IndexData | None:
        """The index being served, or None."""
        live = self._live
        return live.index if live else None

    @property
    def pipeline_config(self) -> PipelineConfig:
        """The settings the live index is served with: its build's, unless fixed."""
        live = self._live
        return live.retriever.config if live else (self._fixed_config or PipelineConfig())

    @property
    def speller(self) -> Speller | None:
        """The live index's speller (None without an index, or with correction off)."""
        live = self._live
        return live.speller if live else None

    def try_load(self, index_dir: Path | None = None) -> bool:
        try:
            self.load(index_dir)
            return True
        except IndexError_:
            return False

    @property
    def ready(self) -> bool:
        return self._live is not None

    @property
    def manifest(self) -> dict | None:
        live = self._live
        return dict(live.index.manifest, path=str(live.index.path)) if live else None

    # Query ----------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        top_k: int = 3,
        channel: str = "api",
        conversation_id: str | None = None,
        lang: str | None = None,
    ) -> Answer:
        """Answer one message. ``lang`` ("zh", "en") fixes the reply's language, as the
        widget's ``data-lang`` does; otherwise the message and its conversation set it."""
        started = time.perf_counter()
        text = clean(question)
        live = self._live
        passages: list[dict] = []
        signals = Signals()
        act: Act | None = None
        # The index's own rules: its build normalised the corpus the same way.
        norm_fn = live.index.normalise if live is not None else normalise
        norm = norm_fn(text) if self.normalise_queries else text
        history = self.conversations.recent_turns(conversation_id) if conversation_id else []
        lang = reply_language(text, (t.language for t in history), lang)
        understood_as = None
        if live is None:
            decision = Decision(True, "no_index", 0.0)
        else:
            passages, signals, act = self._retrieve(live, norm, top_k)
            decision = live.decider.decide(signals, has_content(norm))
        if act is not None and act.kind == CONTEXT:
            # A follow-up ("一般是什么原因导致的?" after a frozen account): read with the last
            # question that had a topic, and taken when that reading answers at least as surely
            # as the message alone, which may be confidently wrong.
            earlier = next((t for t in reversed(history) if t.has_topic), None)
            if earlier is not None and live is not None:
                before = earlier.understood_as or earlier.question
                ctx_passages, ctx_signals, _ = self._retrieve(
                    live, f"{norm_fn(before)} {norm}", top_k
                )
                ctx_decision = live.decider.decide(ctx_signals, True)
                if not ctx_decision.escalate and (
                    decision.escalate or ctx_decision.confidence >= decision.confidence
                ):
                    passages, signals, decision = ctx_passages, ctx_signals, ctx_decision
                    understood_as = f"{before} {text}"
            act = None
        if act is not None and not ActModel.overrides(act, decision.escalate, decision.confidence):
            act = None
        if live is not None:
            passages = [live.localised(p, lang) for p in passages]
        reply = None
        text_for = ""
        if act is not None and live is not None and live.index.acts is not None:
            text_for = live.index.acts.reply(act.name, lang)
            if act.kind == SMALL_TALK:
                decision = Decision(False, None, decision.confidence)
                reply = {"kind": act.name, "text": text_for}
                passages = []
            else:
                decision = Decision(
                    True, "human_requested" if act.name == "human" else act.name, 0.0
                )
        act_message = text_for if act is not None and reply is None else None
        url = self.settings.escalation_url
        escalation = escalation_for(decision, passages, lang, url, act_message)
        query_id = new_query_id()
        if escalation is not None:
            hand_off(escalation, query_id, self.settings.handoff_param)
        # Two escalations in a row: whatever this reply is, a person is offered up front.
        offer = None
        if failing(history) and not decision.escalate:
            offer = {"url": self.settings.escalation_url, "message": MESSAGES["offer"][lang]}
        answer = Answer(
            query_id=query_id,
            question=text,
            escalate=decision.escalate,
            confidence=round(decision.confidence, 4),
            answer=None
            if decision.escalate or reply is not None or not passages
            else self._with_rest(live, passages[0], lang),
            passages=passages,
            escalation=escalation,
            language=lang,
            latency_ms=(time.perf_counter() - started) * 1000,
            signals=signals,
            conversation_id=conversation_id or new_id("c_"),
            reply=reply,
            understood_as=understood_as,
            offer_human=offer,
        )
        if self.query_log is not None:
            self.query_log.log_query(answer, channel)
        if self.conversations is not self.query_log:  # the query log holds the turns itself
            self.conversations.add_turn(answer.conversation_id, answer.turn())
        return answer

    def _retrieve(
        self, live: _Live, norm: str, top_k: int
    ) -> tuple[list[dict], Signals, Act | None]:
        """Passages, signals and the dialogue act for a normalised question, from the cache
        when it has them."""
        if not norm:
            return [], Signals(), None
        cached = self.cache.get(live.index.path, norm, top_k)
        if cached is not None:
            return cached
        # Corrected only on a miss: the cache is per index, like the speller's words.
        query = live.speller.correct(norm) if live.speller is not None else norm
        vec = self.embedder.encode_queries([query])[0]
        result = live.retriever.search(query, vec, top_k)
        act = None
        if live.index.acts is not None and has_content(norm):
            act = live.index.acts.classify(vec)
        passages = [
            {
                "id": h.passage.id,
                "faq_id": h.passage.faq_id,
                "title": h.passage.title,
                "text": h.passage.text,
                "score": round(max(0.0, min(1.0, h.score)), 4),
                "source": h.passage.source,
                "related": live.related.get(h.passage.faq_id, []),
                "highlights": [{"start": h.highlight[0], "end": h.highlight[1]}]
                if h.highlight
                else [],
            }
            for h in result.hits
        ]
        self.cache.put(live.index.path, norm, top_k, (passages, result.signals, act))
        return passages, result.signals, act

    @staticmethod
    def _with_rest(live: _Live, top: dict, lang: str) -> dict:
        """The answer, and its entry's other passages, so no half answer is left hidden."""
        rest = []
        for p in live.entry_passages.get(top["faq_id"], ()):
            if p["id"] != top["id"]:
                shown = live.localised({**p, "title": ""}, lang)
                item = {"id": p["id"], "text": shown["text"], "lang": shown["lang"]}
                if "original" in shown:
                    item["original"] = {k: shown["original"][k] for k in ("lang", "text")}
                rest.append(item)
        return {**top, "other_passages": rest}


def default_threads() -> int:
    return max(1, min(2, os.cpu_count() or 1))
