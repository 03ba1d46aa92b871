"""Ablations: what each retrieval and escalation lever is worth.

Every variant is the default configuration with one lever removed (or one added). Each one
is calibrated on the dev questions (cross-validated figures kept) and then scored once on
the test questions, in-process through ``QAService``, exactly as users are served.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings
from ..embedders import EmbedderUnavailable, load_embedder
from ..indexing import build_index
from ..labelled import LabelledQuestion
from ..pipeline.config import DEFAULTS, PipelineConfig
from ..service import QAService
from .calibration import DEFAULT_FEATURES, DEFAULT_MAX_WRONG_RATE, calibrate
from .evaluator import InProcessClient, evaluate
from .metrics import summary


@dataclass
class Variant:
    name: str
    lever: str
    retrieval: PipelineConfig = field(default_factory=PipelineConfig)
    features: tuple[str, ...] = DEFAULT_FEATURES
    negatives: bool = True
    reject_wins: bool = True
    detail_rule: bool = True
    reject_weight: float = DEFAULTS.matcher_reject_weight  # the matcher's not-covered class
    normalise: bool = True
    spelling: bool = True
    embedder: str | None = None  # None: the configured default


def default_variants() -> list[Variant]:
    base = PipelineConfig()
    return [
        Variant("default", "all levers on"),
        Variant("- BM25 leg", "hybrid retrieval", dataclasses.replace(base, lexical_weight=0.0)),
        Variant(
            "+ alt questions in BM25",
            "BM25 over title and answer only",
            dataclasses.replace(base, lexical_examples=True),
        ),
        Variant(
            "- question fields",
            "query-question matching",
            dataclasses.replace(base, use_questions=False),
        ),
        Variant(
            "- answer text", "query-answer matching", dataclasses.replace(base, use_passages=False)
        ),
        Variant(
            "- learned matcher", "learned matcher", dataclasses.replace(base, matcher_weight=0.0)
        ),
        Variant(
            "- not-covered examples",
            "answerability: escalate.txt negatives",
            negatives=False,
            reject_wins=False,
        ),
        Variant("- reject rule", "answerability: negatives beat every entry", reject_wins=False),
        Variant(
            "reject class weighted 1",
            "answerability: the matcher's not-covered class weighs as much as an entry",
            reject_weight=1.0,
        ),
        Variant(
            "reject class weighted 2",
            "answerability: the matcher's not-covered class weighs twice an entry",
            reject_weight=2.0,
        ),
        Variant(
            "- detail check",
            "answerability: a duration, rate, platform... the answer does not give",
            detail_rule=False,
        ),
        Variant(
            "- answerability signals",
            "answerability: key terms, reject gap",
            features=("top", "margin", "clf_top"),
        ),
        Variant("- query normalisation", "normalisation", normalise=False),
        Variant("- typo correction", "normalisation: homophones and pinyin", spelling=False),
        Variant("+ e5-small ensemble", "embedder ensemble", embedder="use-multilingual+e5-small"),
    ]


def run_ablation(
    corpus: Path,
    dev: list[LabelledQuestion],
    test: list[LabelledQuestion],
    variants: list[Variant] | None = None,
    target_precision: float = 0.95,
    settings: Settings | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[dict]:
    settings = settings or Settings()
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="qa-ablation-") as tmp:
        indexes: dict[tuple[str, bool, float], Path] = {}
        embedders: dict[str, object] = {}
        for v in variants or default_variants():
            if progress:
                progress(v.name)
            spec = v.embedder or settings.embedder
            try:
                emb = embedders.get(spec) or load_embedder(spec, settings.threads)
            except EmbedderUnavailable as exc:
                rows.append({"variant": v.name, "lever": v.lever, "skipped": str(exc)})
                continue
            embedders[spec] = emb
            key = (spec, v.negatives, v.reject_weight)
            if key not in indexes:
                src = corpus
                if not v.negatives:
                    src = Path(tmp) / f"corpus-{len(indexes)}"
                    shutil.copytree(corpus, src, ignore=shutil.ignore_patterns("*.escalate.txt"))
                indexes[key] = Path(tmp) / f"index-{len(indexes)}"
                config = dataclasses.replace(DEFAULTS, matcher_reject_weight=v.reject_weight)
                build_index(src, indexes[key], emb, config=config, fit=False)
            svc = QAService(
                settings.model_copy(update={"embedder": spec, "index_dir": indexes[key]}),
                embedder=emb,
                retrieval=v.retrieval,
                normalise_queries=v.normalise,
                correct_spelling=v.spelling,
            )
            svc.load()
            svc.calibration.reject_wins = v.reject_wins
            svc.calibration.detail_rule = v.detail_rule
            cal, report = calibrate(
                svc,
                dev,
                target_precision,
                features=v.features,
                max_wrong_rate=DEFAULT_MAX_WRONG_RATE,
            )
            svc.calibration = cal
            svc.cache.clear()
            test_summary = summary(evaluate(InProcessClient(svc), test))
            rows.append(
                {
                    "variant": v.name,
                    "lever": v.lever,
                    "dev_cv_decision_accuracy": report["cross_validated"]["decision_accuracy"],
                    **{k: test_summary[k] for k in SHOWN},
                }
            )
    return rows


SHOWN = (
    "top1",
    "decision_accuracy",
    "wrong_answer_rate",
    "escalation_recall",
    "answered_precision",
    "coverage",
    "latency_p50_ms",
)


def markdown(rows: list[dict]) -> str:
    head = (
        "| variant | lever | dev CV decision acc. | test top-1 | test decision acc. | "
        "wrong answers | escalation recall | answered precision | coverage | p50 ms |"
    )
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['variant']} | {r['lever']} | skipped: {r['skipped']} |" + " |" * 7)
            continue
        cells = [f"{r['dev_cv_decision_accuracy']:.3f}"] + [
            "-" if r[k] is None else (f"{r[k]:.2f}" if k == "latency_p50_ms" else f"{r[k]:.3f}")
            for k in SHOWN
        ]
        lines.append(f"| {r['variant']} | {r['lever']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
