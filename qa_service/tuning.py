"""Contrastive fine-tuning of a sentence-transformers model on a corpus's own questions.

Every FAQ entry gives a group of questions that share an answer: its title, its alt questions
and, optionally, agent-verified questions from feedback (the evaluation JSONL format). The
model learns to pull questions of one group together and push other groups apart, so the
nearest-neighbour legs and the learned matcher of the index see sharper clusters.

Two losses:

* ``mnrl`` (default): multiple-negatives ranking. A batch holds one (anchor, positive) pair per
  group, every group at most once, so the other positives are true negatives.
* ``cosine``: SetFit's pair loss, the squared error between the cosine of a pair and 1 (same
  group) or 0 (different groups), on as many positive as negative pairs.

Training is a plain torch loop (no ``datasets`` dependency); ``max_seconds`` bounds the
process CPU time, and the model trained so far is saved when it runs out.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from .corpus import load_corpus
from .embedders.base import EmbedderUnavailable
from .labelled import load_questions
from .pipeline.normalise import normalise

DEFAULT_BASE = "all-MiniLM-L6-v2"
LOSSES = ("mnrl", "cosine")
# In an embedder spec, this name stands for the model tuned by the same command.
TUNED = "tuned"


@dataclass
class TuneConfig:
    base: str = DEFAULT_BASE
    epochs: float = (
        5.0  # BANKING77 10-shot: 5 and 10 epochs within noise of each other (docs/results.md)
    )
    max_seconds: float | None = None  # process CPU seconds for training; None: no bound
    seed: int = 0
    loss: str = "mnrl"
    batch_size: int = 32  # groups per batch (mnrl) or pairs per batch (cosine)
    learning_rate: float = 5e-5
    warmup: float = 0.1  # share of steps with a rising learning rate
    scale: float = 20.0  # mnrl: inverse temperature of the cosine logits
    threads: int = 2


@dataclass
class TuneResult:
    out: Path
    steps: int
    planned_steps: int
    examples: int
    groups: int
    stopped_early: bool
    cpu_seconds: float
    wall_seconds: float
    first_loss: float | None
    last_loss: float | None


def corpus_groups(corpus_path: Path) -> dict[str, list[str]]:
    """Questions per entry id: title then alt questions, in the form queries are embedded in."""
    corpus = load_corpus(corpus_path)
    return {
        e.id: list(dict.fromkeys(corpus.normalise(q) for q in (e.question, *e.alt_questions)))
        for e in corpus.entries
    }


def add_feedback(
    groups: dict[str, list[str]], path: Path, norm: Callable[[str], str] = normalise
) -> int:
    """Add answerable questions of a feedback file (``expected`` ids) to their entries,
    normalised with ``norm`` (the corpus's ``normalise``).

    Escalated questions have no group to join here; the index's reject class uses them.
    Returns how many questions were added.
    """
    added = 0
    for q in load_questions(path):
        if q.escalate:
            continue
        # An expected id may name a passage (``entry#2``): its entry is the part before '#'.
        for faq_id in dict.fromkeys(e.split("#", 1)[0] for e in q.expected):
            if faq_id in groups:
                text = norm(q.question)
                if text not in groups[faq_id]:
                    groups[faq_id].append(text)
                    added += 1
    return added


def groups_sha256(groups: dict[str, list[str]]) -> str:
    return hashlib.sha256(json.dumps(groups, sort_keys=True).encode()).hexdigest()


def resolve_tuned(spec: str, model_dir: Path) -> str:
    """Replace each ``tuned`` member of an embedder spec by the model in ``model_dir``."""
    from .embedders.ensemble import split_spec

    parts = []
    for name, weight in split_spec(spec):
        if name == TUNED:
            name = f"sentence-transformers:{Path(model_dir).resolve()}"
        parts.append(name if weight == 1.0 else f"{name}@{weight:g}")
    return "+".join(parts)


def previous_tuning(groups: dict[str, list[str]], out: Path, config: TuneConfig) -> dict | None:
    """The ``tune.json`` of a model in ``out`` already tuned on these groups with this config."""
    try:
        info = json.loads((Path(out) / "tune.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    same = info.get("config") == asdict(config) and info.get("data_sha256") == groups_sha256(groups)
    return info if same and not info.get("stopped_early") else None


def _import_torch():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EmbedderUnavailable(
            "qa-service tune needs torch and sentence-transformers: "
            "pip install torch==2.13.0 && pip install 'qa-service[st]'"
        ) from exc
    return torch, SentenceTransformer


def _mnrl_batches(
    groups: list[list[str]], batch_size: int, rng: random.Random
) -> list[list[tuple[str, str]]]:
    """One epoch: every question once as an anchor, with a random other question of its group;
    a batch never holds two anchors of one group (their positives would be false negatives)."""
    items = [(g, i) for g, qs in enumerate(groups) if len(qs) > 1 for i in range(len(qs))]
    rng.shuffle(items)
    batches: list[list[tuple[str, str]]] = []
    while items:
        batch, seen, rest = [], set(), []
        for g, i in items:
            if len(batch) < batch_size and g not in seen:
                seen.add(g)
                j = rng.choice([k for k in range(len(groups[g])) if k != i])
                batch.append((groups[g][i], groups[g][j]))
            else:
                rest.append((g, i))
        if len(batch) < 2:  # one group left: no negatives to learn from
            break
        batches.append(batch)
        items = rest
    return batches


def _cosine_batches(
    groups: list[list[str]], batch_size: int, rng: random.Random
) -> list[list[tuple[str, str, float]]]:
    """One epoch: per question, one positive and one negative pair (SetFit's sampling)."""
    pairs: list[tuple[str, str, float]] = []
    usable = [g for g, qs in enumerate(groups) if len(qs) > 1]
    for g in usable:
        for i, q in enumerate(groups[g]):
            j = rng.choice([k for k in range(len(groups[g])) if k != i])
            pairs.append((q, groups[g][j], 1.0))
            other = rng.choice([h for h in range(len(groups)) if h != g])
            pairs.append((q, rng.choice(groups[other]), 0.0))
    rng.shuffle(pairs)
    return [pairs[s : s + batch_size] for s in range(0, len(pairs), batch_size)]


def tune(
    groups: dict[str, list[str]],
    out: Path,
    config: TuneConfig,
    progress: Callable[[int, int], None] | None = None,
) -> TuneResult:
    """Fine-tune ``config.base`` on ``groups`` and save a sentence-transformers model in ``out``."""
    if config.loss not in LOSSES:
        raise ValueError(f"unknown loss {config.loss!r}; choose one of: {', '.join(LOSSES)}")
    if config.epochs <= 0:
        raise ValueError("epochs must be more than 0")
    texts = [qs for qs in groups.values() if qs]
    if sum(len(qs) > 1 for qs in texts) < 2:
        raise ValueError(
            "fine-tuning needs at least two entries with two or more questions each "
            "(title plus alt questions)"
        )
    torch, SentenceTransformer = _import_torch()
    from .embedders.sentence_transformers import resolve_model_path

    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    rng = random.Random(config.seed)
    model = SentenceTransformer(resolve_model_path(config.base), device="cpu")
    make = _mnrl_batches if config.loss == "mnrl" else _cosine_batches
    # Whole epochs first, then a part of the next one for a fractional --epochs.
    schedule: list[list] = []
    for _ in range(math.ceil(config.epochs)):
        schedule += make(texts, config.batch_size, rng)
    per_epoch = len(make(texts, config.batch_size, random.Random(config.seed)))
    planned = max(1, round(per_epoch * config.epochs))
    schedule = schedule[:planned]

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate)
    warmup = int(planned * config.warmup)

    def lr_factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        return max(0.0, (planned - step) / max(1, planned - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)

    def embed(batch_texts: Sequence[str]):
        features = model.preprocess(list(batch_texts))
        return model(dict(features))["sentence_embedding"]

    cpu0, wall0 = time.process_time(), time.perf_counter()
    losses: list[float] = []
    stopped = False
    model.train()
    for step, batch in enumerate(schedule):
        if config.max_seconds is not None and time.process_time() - cpu0 >= config.max_seconds:
            stopped = True
            break
        if config.loss == "mnrl":
            emb = torch.nn.functional.normalize(embed([t for a, p in batch for t in (a, p)]))
            a, p = emb[0::2], emb[1::2]
            logits = config.scale * a @ p.T
            target = torch.arange(len(batch))
            # Symmetric: each positive must also pick out its own anchor.
            ce = torch.nn.functional.cross_entropy
            loss = (ce(logits, target) + ce(logits.T, target)) / 2
        else:
            emb = torch.nn.functional.normalize(embed([t for a, b, _ in batch for t in (a, b)]))
            cos = (emb[0::2] * emb[1::2]).sum(dim=1)
            labels = torch.tensor([y for _, _, y in batch], dtype=cos.dtype)
            loss = torch.nn.functional.mse_loss(cos, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        losses.append(float(loss.detach()))
        if progress:
            progress(step + 1, planned)
    if progress and stopped:
        progress(planned, planned)  # close the bar
    model.eval()

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save(str(out))
    result = TuneResult(
        out=out,
        steps=len(losses),
        planned_steps=planned,
        examples=sum(len(qs) for qs in texts),
        groups=len(texts),
        stopped_early=stopped,
        cpu_seconds=round(time.process_time() - cpu0, 1),
        wall_seconds=round(time.perf_counter() - wall0, 1),
        first_loss=losses[0] if losses else None,
        last_loss=losses[-1] if losses else None,
    )
    info = {"config": asdict(config), **{k: v for k, v in asdict(result).items() if k != "out"}}
    info["data_sha256"] = groups_sha256(groups)
    info["loss_curve"] = [round(x, 4) for x in losses]
    (out / "tune.json").write_text(json.dumps(info, indent=2) + "\n", "utf-8")
    return result
