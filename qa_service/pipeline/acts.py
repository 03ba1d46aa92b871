"""Dialogue acts: small talk, a request for a person, an emergency.

A customer greets, thanks, asks for a person or reports a stolen account; none of these is an
FAQ question, and answering them with the nearest FAQ paragraph starts a conversation on a
wrong note, or worse. The acts are data (``qa_service/data/acts.yaml``, extended by a corpus
folder's ``acts.yaml``). At index time a linear classifier over the encoder's vectors learns
them against what else reaches the service: the corpus's own questions, its not-covered lines
and the packaged off-topic messages (``fit_acts``). A message is an act when that class wins.

Nearest-example matching was tried first: the corpus's not-covered lines include emergencies
("钱被别人转走了") and near ones ("余额有利息吗") alike, so no one similarity threshold kept
both apart (docs/dialogue.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from . import yaml_source

FILE_NAME = "acts.yaml"
SMALL_TALK = "small talk"
ESCALATE = "escalate"
CONTEXT = "context"  # a follow-up, read with the conversation's earlier turns
# A request for a person: escalates whenever the classifier takes a message for it, however
# sure an answer would be (a person asked for must be reached).
HANDOFF = "handoff"
_KINDS = (SMALL_TALK, ESCALATE, HANDOFF, CONTEXT)
LANGS = ("zh", "en")
# The classes every message may fall in besides the acts.
FAQ, NOT_COVERED, OFF_TOPIC = "faq", "not covered", "off-topic"
# Inverse regularisation of the classifier; 4 beat 1 and 16 on the acts dev set
# (tests/data/dialogue/acts.jsonl) and on dev questions taken for acts (docs/dialogue.md).
ACT_C = 4.0
# Corpus questions the classifier learns from, sampled beyond this: a large FAQ's questions
# would otherwise swamp the time of a build.
MAX_FIT_QUESTIONS = 3000


class ActsError(ValueError):
    """Raised with every problem in an acts file, each as ``file:line: message``."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def load_spec(corpus_dir: Path | None = None) -> dict:
    """The packaged acts, with ``corpus_dir/acts.yaml``'s examples added and replies replaced.

    ``{"kinds": {act: kind}, "examples": {act: [text]}, "replies": {act: {lang: text}}}``."""
    (packaged, packaged_name), *own = yaml_source.sources(FILE_NAME, corpus_dir, ActsError)
    spec = _parse(packaged, packaged_name)
    for text, name in own:
        extra = _parse(text, name, known=spec["kinds"])
        spec["kinds"] |= extra["kinds"]
        for act, examples in extra["examples"].items():
            spec["examples"][act] = list(dict.fromkeys([*spec["examples"].get(act, []), *examples]))
        for act, replies in extra["replies"].items():
            spec["replies"][act] = spec["replies"].get(act, {}) | replies
    missing = [
        f"{act} ({lang})"
        for act, kind in spec["kinds"].items()
        if kind != CONTEXT
        for lang in LANGS
        if lang not in spec["replies"].get(act, {})
    ]
    if missing:
        raise ActsError([f"{FILE_NAME}: no reply for {', '.join(missing)}"])
    return spec


def _parse(text: str, name: str, known: dict | None = None) -> dict:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise ActsError([f"{name}:{line}: not valid YAML: {exc}"]) from None
    problems: list[str] = []
    if not isinstance(data, dict) or set(data) - {"kinds", "examples", "replies"}:
        raise ActsError([f"{name}:1: expected the sections kinds, examples and replies"])
    kinds = data.get("kinds") or {}
    if not isinstance(kinds, dict) or any(k not in _KINDS for k in kinds.values()):
        problems.append(f"{name}: 'kinds' maps each act to one of {', '.join(_KINDS)}")
        kinds = {}
    acts = {**(known or {}), **kinds}
    examples: dict[str, list[str]] = {}
    for act, texts in (data.get("examples") or {}).items():
        if act not in acts:
            problems.append(f"{name}: examples for {act!r}, which 'kinds' does not name")
        elif not isinstance(texts, list) or not all(
            isinstance(t, str) and t.strip() for t in texts
        ):
            problems.append(f"{name}: the examples of {act!r} must be a list of messages")
        else:
            examples[act] = [t.strip() for t in texts]
    replies: dict[str, dict[str, str]] = {}
    for act, by_lang in (data.get("replies") or {}).items():
        if act not in acts:
            problems.append(f"{name}: a reply for {act!r}, which 'kinds' does not name")
        elif not isinstance(by_lang, dict) or not all(
            lang in LANGS and isinstance(t, str) and t.strip() for lang, t in by_lang.items()
        ):
            problems.append(f"{name}: the reply of {act!r} maps zh and en to a text")
        else:
            replies[act] = dict(by_lang)
    if problems:
        raise ActsError(problems)
    return {"kinds": dict(kinds), "examples": examples, "replies": replies}


@dataclass(frozen=True)
class Act:
    name: str
    kind: str  # SMALL_TALK, ESCALATE, HANDOFF or CONTEXT
    probability: float


@dataclass
class ActModel:
    """A linear classifier over query vectors: one class per act plus FAQ, NOT_COVERED and
    OFF_TOPIC. ``classify`` costs one small matrix product."""

    spec: dict
    classes: list[str]
    coef: np.ndarray  # (n classes, dim)
    intercept: np.ndarray  # (n classes,)
    fit_report: dict = field(default_factory=dict)

    def classify(self, query_vec: np.ndarray) -> Act | None:
        """The act ``query_vec`` is, or None when it is none of them."""
        logits = self.coef @ query_vec + self.intercept
        best = int(np.argmax(logits))
        name = self.classes[best]
        if name not in self.spec["kinds"]:
            return None
        z = np.exp(logits - logits[best])
        return Act(name, self.spec["kinds"][name], float(1.0 / z.sum()))

    @staticmethod
    def overrides(act: Act, faq_escalates: bool, faq_confidence: float) -> bool:
        """Whether ``act`` replaces what the FAQ would do: always when the FAQ would hand the
        message to a person anyway, or when the act is a request for a person (``handoff``)
        that the classifier takes over the corpus's own questions: such a request answered
        with the contact article ("我要找人工客服", 0.99 sure) fails the customer more than a
        handoff fails one who asked about contact channels. Other acts replace an answer only
        when at least as probable as the answer is confident ("我的账户被冻洁了" sits near
        "my card is lost, freeze it", but the frozen-account entry is surer)."""
        if faq_escalates or act.kind == HANDOFF:
            return True
        return act.probability >= faq_confidence

    def reply(self, act: str, lang: str) -> str:
        return self.spec["replies"][act][lang if lang in LANGS else "en"]

    def table(self) -> dict:
        return {"spec": self.spec, "classes": self.classes, "fit": self.fit_report}

    def arrays(self) -> dict[str, np.ndarray]:
        return {"coef": self.coef, "intercept": self.intercept}


def example_texts(spec: dict) -> tuple[list[str], list[str]]:
    """Every example, and its act, in a fixed order."""
    texts, acts = [], []
    for act in spec["kinds"]:
        for t in spec["examples"].get(act, ()):
            texts.append(t)
            acts.append(act)
    return texts, acts


def fit_acts(
    spec: dict,
    example_vectors: np.ndarray,
    question_vectors: np.ndarray,
    background: np.ndarray,
    not_covered: np.ndarray,
    *,
    report: bool = True,
) -> ActModel:
    """Learn the acts against the corpus's questions, its not-covered lines and off-topic
    messages (``background``), each class weighted alike. With ``report``, 3-fold
    cross-validated recall and precision per act go into ``fit_report``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    _, example_acts = example_texts(spec)
    if len(question_vectors) > MAX_FIT_QUESTIONS:
        pick = np.random.default_rng(0).choice(len(question_vectors), MAX_FIT_QUESTIONS, False)
        question_vectors = question_vectors[np.sort(pick)]
    parts = [
        (example_vectors, example_acts),
        (question_vectors, [FAQ] * len(question_vectors)),
        (not_covered, [NOT_COVERED] * len(not_covered)),
        (background, [OFF_TOPIC] * len(background)),
    ]
    x = np.concatenate([v.reshape(-1, example_vectors.shape[1]) for v, _ in parts])
    y = np.asarray([label for _, labels in parts for label in labels])
    labels, counts = np.unique(y, return_counts=True)
    # Balanced classes: a few dozen examples of an act against hundreds of FAQ questions.
    # Weighting them less (square root, or not at all) kept more FAQ answers on the dev sets
    # but lost most emergencies; ``overrides`` protects confident answers instead.
    weights = {str(k): len(y) / (len(labels) * n) for k, n in zip(labels, counts, strict=True)}
    model = LogisticRegression(C=ACT_C, max_iter=2000, class_weight=weights)
    model.fit(x, y)
    fit: dict[str, dict] = {}
    if report:
        folds = min(3, int(counts.min()))
        if folds >= 2:
            pred = cross_val_predict(
                LogisticRegression(C=ACT_C, max_iter=2000, class_weight=weights), x, y, cv=folds
            )
            for act in spec["kinds"]:
                mine, taken = y == act, pred == act
                fit[act] = {
                    "examples": int(mine.sum()),
                    "recall": round(float((taken & mine).sum() / max(1, mine.sum())), 3),
                    "precision": round(float((taken & mine).sum() / max(1, taken.sum())), 3),
                }
    classes = [str(c) for c in model.classes_]
    return ActModel(
        spec,
        classes,
        model.coef_.astype(np.float32),
        model.intercept_.astype(np.float32),
        fit,
    )


def model_from_table(table: dict, arrays: dict[str, np.ndarray]) -> ActModel:
    return ActModel(
        table["spec"],
        list(table["classes"]),
        arrays["coef"],
        arrays["intercept"],
        table.get("fit", {}),
    )
