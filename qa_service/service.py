"""QAService: the one facade behind the HTTP API, the CLI and the evaluation."""

from __future__ import annotations

import copy
import dataclasses
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import faiss

from .batching import with_batching
from .cache import RetrievalCache
from .config import Settings
from .embedders import Embedder, load_embedder
from .index import IndexData, IndexError_, corpus_texts, load_index
from .pipeline.acts import CONTEXT, SMALL_TALK, Act, ActModel
from .pipeline.config import PipelineConfig
from .pipeline.context import Conversations, MemoryConversations, Turn, failing
from .pipeline.decide import Calibration, Decider, Decision
from .pipeline.normalise import clean, detect_language, has_content, normalise
from .pipeline.retrieve import Retriever
from .pipeline.signals import Signals
from .pipeline.spell import Speller

MESSAGES = {
    "low_confidence": {
        "zh": "抱歉,我不确定能准确回答这个问题。请联系人工客服,我们会尽快帮您处理。",
        "en": "Sorry, I'm not sure I can answer that correctly. Please contact a human agent.",
    },
    "ambiguous": {
        "zh": "您的问题可能涉及多个方面,为避免答错,请联系人工客服。",
        "en": "Your question could match several topics. To avoid a wrong answer, please "
        "contact a human agent.",
    },
    "out_of_scope": {
        "zh": "这个问题不在常见问题的范围内,请联系人工客服获得帮助。",
        "en": "This question is outside what our FAQ covers. Please contact a human agent.",
    },
    # The detail check: the best entry is on topic but does not give the detail asked for.
    "detail": {
        "zh": "常见问题里没有您要的具体信息,请联系人工客服。下面的相关问题也许能先帮到您。",
        "en": "Our FAQ does not give the specific detail you asked for. Please contact a human "
        "agent; the related question below may help in the meantime.",
    },
    # After two escalations in a row, beside whatever comes next.
    "offer": {
        "zh": "如果问题还没解决，可以直接联系人工客服。",
        "en": "If this still does not solve it, you can talk to a person right away.",
    },
    # A request for a person or an emergency: the corpus's acts give their own messages.
    "no_index": {
        "zh": "自动答复暂时不可用,请联系人工客服。",
        "en": "Automatic answers are unavailable right now. Please contact a human agent.",
    },
}
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(prefix: str) -> str:
    """``prefix`` + a ULID: sortable by time, unique without coordination."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return prefix + "".join(reversed(chars))


def with_param(url: str, name: str, value: str) -> str:
    """``url`` with ``name=value`` added to its query string."""
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), (name, value)])
    return urlunsplit(parts._replace(query=query))


def new_query_id() -> str:
    return new_id("q_")


class QueryLog(Protocol):
    def log_query(self, answer: Answer, channel: str) -> None: ...


@dataclass
class Answer:
    query_id: str
    question: str
    escalate: bool
    confidence: float
    answer: dict | None
    passages: list[dict]
    escalation: dict | None
    language: str
    latency_ms: float
    signals: Signals = field(default_factory=Signals)
    conversation_id: str | None = None
    reply: dict | None = None  # small talk: {"kind", "text"}, with no answer and no escalation
    understood_as: str | None = None  # a follow-up, read with its conversation's last question
    offer_human: dict | None = None  # {"url", "message"} after repeated failure

    def turn(self) -> Turn:
        """This answer as a turn of its conversation."""
        return Turn(
            question=self.question,
            faq_id=self.answer["faq_id"] if self.answer else None,
            escalated=self.escalate,
            reason=(self.escalation or {}).get("reason"),
            reply_kind=(self.reply or {}).get("kind"),
            understood_as=self.understood_as,
        )

    def to_dict(self, debug: bool = False) -> dict[str, Any]:
        out = {
            "query_id": self.query_id,
            "question": self.question,
            "escalate": self.escalate,
            "confidence": self.confidence,
            "answer": self.answer,
            "passages": self.passages,
            "escalation": self.escalation,
            "language": self.language,
            "conversation_id": self.conversation_id,
            "reply": self.reply,
            "understood_as": self.understood_as,
            "offer_human": self.offer_human,
        }
        if debug:
            out["signals"] = self.signals.as_dict()
            out["latency_ms"] = self.latency_ms
        return out


@dataclass
class _Live:
    """Everything a query reads, swapped as one reference so a reload is atomic."""

    index: IndexData
    retriever: Retriever
    speller: Speller | None
    decider: Decider
    related: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    entry_passages: dict[str, list[dict[str, str]]] = field(default_factory=dict)


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
        norm = normalise(live.index.entries[0]["question"])
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
    ) -> Answer:
        started = time.perf_counter()
        text = clean(question)
        lang = detect_language(text)
        live = self._live
        passages: list[dict] = []
        signals = Signals()
        act: Act | None = None
        norm = normalise(text) if self.normalise_queries else text
        history = self.conversations.recent_turns(conversation_id) if conversation_id else []
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
                    live, f"{normalise(before)} {norm}", top_k
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
        escalation = None
        if decision.escalate and act is not None and reply is None:
            top = passages[0] if passages else None
            escalation = {
                "url": self.settings.escalation_url,
                "reason": decision.reason,
                "message": text_for,
                "related": [{"faq_id": top["faq_id"], "title": top["title"]}] if top else [],
            }
        elif decision.escalate:
            # A missing detail: the best entry is on topic, so it is offered next to the human
            # link (asked for the hotline's digits, the customer learns where they are listed).
            on_topic = decision.rule == "detail" and bool(passages)
            message = "detail" if on_topic else decision.reason or "low_confidence"
            top = passages[0] if on_topic else None
            escalation = {
                "url": self.settings.escalation_url,
                "reason": decision.reason,
                "message": MESSAGES[message][lang],
                "related": [{"faq_id": top["faq_id"], "title": top["title"]}] if top else [],
            }
        query_id = new_query_id()
        if escalation is not None:
            # The handoff is this turn: its id opens the whole conversation for the agent.
            escalation["handoff_id"] = query_id
            escalation["url"] = with_param(escalation["url"], self.settings.handoff_param, query_id)
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
            else self._with_rest(live, passages[0]),
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
    def _with_rest(live: _Live, top: dict) -> dict:
        """The answer, and its entry's other passages, so no half answer is left hidden."""
        rest = [p for p in live.entry_passages.get(top["faq_id"], ()) if p["id"] != top["id"]]
        return {**top, "other_passages": rest}


def default_threads() -> int:
    return max(1, min(2, os.cpu_count() or 1))
