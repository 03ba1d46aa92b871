"""Synthetic data for scale runs: FAQ-like text corpora and embedding-like vectors.

Text corpora recombine the sentences of a real corpus, so passages keep the length and
vocabulary of real FAQ answers. Vectors are drawn around real embeddings with the spread of
real embeddings (their principal components), because uniform random vectors have no
neighbourhood structure and would make every approximate index look worse than it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

_SENTENCE = re.compile(r"[^。!?!?;;]+[。!?!?;;]?")


def sentences_of(texts: Sequence[str]) -> list[str]:
    out = []
    for t in texts:
        out.extend(s.strip() for s in _SENTENCE.findall(t) if len(s.strip()) >= 4)
    return out


def write_text_corpus(
    path: Path,
    sentences: Sequence[str],
    shapes: Sequence[tuple[str, int, Sequence[str]]],
    n_passages: int,
    seed: int = 0,
) -> Path:
    """A JSONL corpus of ``n_passages`` unique passages.

    Each entry copies the shape of a real one, ``(title, paragraph count, alt questions)``,
    so the mix of long answers and short questions to embed stays that of the real FAQ.
    """
    if not sentences or not shapes:
        raise ValueError("a synthetic corpus needs some sentences and entries to recombine")
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    done, e = 0, 0
    with path.open("w", encoding="utf-8") as f:
        while done < n_passages:
            title, n_paras, alts = shapes[int(rng.integers(len(shapes)))]
            paras = []
            for p in range(min(max(1, n_paras), n_passages - done)):
                k = int(rng.integers(2, 5))
                picked = rng.choice(len(sentences), size=min(k, len(sentences)), replace=False)
                # The number keeps each passage distinct, so no build can skip duplicates.
                paras.append("".join(sentences[i] for i in picked) + f"(编号{e}-{p})")
            row = {
                "id": f"syn-{e}",
                "question": f"{title}(第{e}条)",
                "alt_questions": [f"{a}({e})" for a in alts],
                "answer": "\n\n".join(paras),
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            done += len(paras)
            e += 1
    return path


class VectorModel:
    """Draws unit vectors near real embeddings, spread along their principal directions."""

    def __init__(self, anchors: np.ndarray, spread: float = 0.9, rank: int = 64):
        anchors = np.asarray(anchors, dtype=np.float32)
        if anchors.ndim != 2 or len(anchors) < 2:
            raise ValueError("need at least two anchor embeddings")
        self.anchors = anchors
        self.dim = anchors.shape[1]
        centred = anchors - anchors.mean(axis=0)
        _, s, vt = np.linalg.svd(centred, full_matrices=False)
        r = min(rank, len(s))
        self.basis = vt[:r].astype(np.float32)
        # Per-direction scale of real variation, so offsets look like paraphrase shifts.
        self.scales = (s[:r] / np.sqrt(len(anchors))).astype(np.float32)
        self.spread = spread

    def sample(self, n: int, seed: int = 0, batch: int = 65_536) -> np.ndarray:
        rng = np.random.default_rng(seed)
        out = np.empty((n, self.dim), dtype=np.float32)
        iso = 0.25 * float(self.scales.mean())  # a little isotropic noise off the subspace
        for start in range(0, n, batch):
            m = min(batch, n - start)
            base = self.anchors[rng.integers(len(self.anchors), size=m)]
            z = rng.standard_normal((m, len(self.scales)), dtype=np.float32) * self.scales
            x = base + self.spread * (z @ self.basis)
            x += iso * rng.standard_normal((m, self.dim), dtype=np.float32)
            x /= np.linalg.norm(x, axis=1, keepdims=True)
            out[start : start + m] = x
        return out
