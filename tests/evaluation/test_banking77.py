"""The BANKING77 benchmark on a tiny configuration: a few intents, 2 shots, ~100 questions."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from qa_service.bench.server import free_port
from qa_service.cli import main
from qa_service.evaluation.banking77 import (
    OFF_TOPIC,
    Banking77Error,
    BenchmarkConfig,
    build,
    entry_id,
    load_off_topic,
    readable,
)

from ..conftest import ROOT

DATA = ROOT.parent / "shared" / "data" / "banking77"
TINY = ["--shots", "2", "--intents", "8", "--test-per-intent", "12", "--calibrate-per-intent", "6"]

if not (DATA / "test.csv").is_file():
    if os.environ.get("CI"):
        pytest.fail(f"BANKING77 data missing at {DATA}: CI must have ../shared/data", False)
    pytest.skip(f"BANKING77 data not found at {DATA}", allow_module_level=True)


def texts(split: str) -> set[str]:
    with (DATA / split).open(encoding="utf-8", newline="") as f:
        return {row["text"].strip() for row in csv.DictReader(f)}


def test_intent_names_become_ids_and_titles() -> None:
    assert entry_id("reverted_card_payment?") == "reverted_card_payment"
    assert readable("reverted_card_payment?") == "Reverted card payment?"
    assert readable("Refund_not_showing_up") == "Refund not showing up"
    assert readable("atm_support") == "ATM support"


def test_build_uses_train_for_shots_and_calibration_only() -> None:
    config = BenchmarkConfig(data=DATA, shots=3, holdout_every=4, intents=8, calibrate_per_intent=5)
    bench = build(config)
    assert len(bench.entries) == 6 and len(bench.held_out) == 2
    intents = json.loads((DATA / "categories.json").read_text("utf-8"))
    assert bench.held_out == [intents[3], intents[7]]  # every 4th intent
    train, test = texts("train.csv"), texts("test.csv")
    shots = {a for e in bench.entries for a in e["alt_questions"]}
    assert all(len(e["alt_questions"]) == 3 for e in bench.entries)
    assert shots <= train
    cal = {q.question for q in bench.calibration}
    assert len(bench.calibration) == 8 * 5 and cal <= train and not cal & shots
    # Held-out intents: not in the index, their questions must be escalated.
    ids = {e["id"] for e in bench.entries}
    for q in bench.test:
        assert q.question in test
        assert q.escalate == ("held-out" in q.tags)
        assert q.escalate or q.expected[0] in ids
    assert sum(q.escalate for q in bench.calibration) == 2 * 5
    # Reproducible, and the seed is what changes the shots.
    assert build(config).entries == bench.entries
    other = build(BenchmarkConfig(data=DATA, shots=3, holdout_every=4, intents=8, seed=1))
    assert other.entries != bench.entries


def test_validation_split_is_train_questions_used_for_nothing_else() -> None:
    base = {"data": DATA, "shots": 3, "holdout_every": 4, "intents": 8, "calibrate_per_intent": 5}
    test_run = build(BenchmarkConfig(**base))
    val_run = build(BenchmarkConfig(**base, split="validation", validate_per_intent=4))
    assert val_run.entries == test_run.entries and val_run.calibration == test_run.calibration
    val = {q.question for q in val_run.test}
    shots = {a for e in val_run.entries for a in e["alt_questions"]}
    cal = {q.question for q in val_run.calibration}
    assert len(val_run.test) == 8 * 4 and val <= texts("train.csv")
    assert not val & shots and not val & cal and not val & texts("test.csv")
    assert sum(q.escalate for q in val_run.test) == 2 * 4
    assert "validation" in BenchmarkConfig(**base, split="validation").label
    with pytest.raises(Banking77Error, match="unknown split"):
        build(BenchmarkConfig(**base, split="dev"))


def test_off_topic_messages_join_the_scored_questions_to_be_escalated(tmp_path: Path) -> None:
    base = {"data": DATA, "shots": 3, "intents": 8, "calibrate_per_intent": 5}
    plain = build(BenchmarkConfig(**base))
    with_off = build(BenchmarkConfig(**base, off_topic=OFF_TOPIC))
    off = [q for q in with_off.test if "off-topic" in q.tags]
    assert with_off.test[: len(plain.test)] == plain.test
    assert len(off) == 200 == len({q.question for q in off})
    assert all(q.escalate and not q.expected for q in off)
    # They are scored only: neither shots nor calibration, and not BANKING77 questions.
    assert with_off.entries == plain.entries and with_off.calibration == plain.calibration
    assert not {q.question for q in off} & (texts("train.csv") | texts("test.csv"))
    assert "off-topic" in BenchmarkConfig(**base, off_topic=OFF_TOPIC).label

    path = tmp_path / "off.txt"
    path.write_text("# a comment\n\nwhat's the weather like?\n  tell me a joke  \n", "utf-8")
    assert [(q.question, q.line) for q in load_off_topic(path)] == [
        ("what's the weather like?", 3),
        ("tell me a joke", 4),
    ]
    path.write_text("# only a comment\n", "utf-8")
    with pytest.raises(Banking77Error, match="no messages"):
        load_off_topic(path)
    with pytest.raises(Banking77Error, match="no such file"):
        load_off_topic(tmp_path / "missing.txt")


def test_benchmark_rejects_bad_tuning_flags(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    args = ["benchmark", "banking77", "--out", str(tmp_path / "o"), "--tune", *TINY]
    assert main([*args, "--tune-batch-size", "1"]) == 2
    assert main([*args, "--tune-epochs", "0"]) == 2
    err = capsys.readouterr().err
    assert "--tune-batch-size must be 2 or more" in err and "--tune-epochs" in err
    assert not (tmp_path / "o").exists()


def test_bad_data_is_reported_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "categories.json").write_text('["card_arrival", "age_limit"]', "utf-8")
    (tmp_path / "train.csv").write_text(
        "text,category\nWhere is my card?,card_arrival\nHow old?,no_such_intent\n", "utf-8"
    )
    (tmp_path / "test.csv").write_text("text,category\nCard?,card_arrival\n", "utf-8")
    with pytest.raises(Banking77Error, match=r"train\.csv:3: unknown category 'no_such_intent'"):
        build(BenchmarkConfig(data=tmp_path))
    with pytest.raises(Banking77Error, match="categories.json: no such file"):
        build(BenchmarkConfig(data=tmp_path / "missing"))


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("banking77")
    args = ["benchmark", "banking77", *TINY, "--holdout-every", "4", "--data", str(DATA)]
    assert main([*args, "--off-topic", "--out", str(out)]) == 0
    return out


@pytest.mark.slow
def test_benchmark_end_to_end(tiny_run: Path, capsys: pytest.CaptureFixture) -> None:
    summary = json.loads((tiny_run / "benchmark.json").read_text("utf-8"))
    metrics = json.loads((tiny_run / "metrics.json").read_text("utf-8"))
    assert summary["intents_indexed"] == 6 and len(summary["intents_held_out"]) == 2
    # 8 intents x 12 test questions, and the 200 packaged off-topic messages.
    assert summary["test_questions"] == 296 == metrics["overall"]["n"]
    assert metrics["overall"]["n_should_escalate"] == 24 + 200
    assert set(summary["by_group"]) == {"indexed", "held-out", "off-topic"}
    assert summary["by_group"]["off-topic"]["n_should_escalate"] == 200
    # Calibrated on train questions, and the service ran with that calibration.
    cal = json.loads((tiny_run / "calibration.json").read_text("utf-8"))
    assert summary["calibration"]["fitted"] and summary["calibration"]["questions"] == 48
    assert metrics["meta"]["thresholds"]["answer_threshold"] == cal["answer_threshold"]
    # Six intents with two shots each: far better than the 1-in-6 of a guess.
    assert metrics["overall"]["top1"] > 0.5
    assert metrics["overall"]["escalation_recall"] is not None
    assert set(metrics["by_tag"]) >= {"indexed", "held-out", "card_arrival"}
    entries = (tiny_run / "corpus" / "banking77.jsonl").read_text("utf-8").splitlines()
    assert len(entries) == 6
    for name in ("report.md", "scores.png", "risk_coverage.png", "reliability.png"):
        assert (tiny_run / name).stat().st_size > 1000


@pytest.mark.slow
def test_benchmark_over_http_agrees(
    tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    summary = json.loads((tiny_run / "benchmark.json").read_text("utf-8"))
    port = free_port()
    env = {
        **os.environ,
        "QA_DATA_DIR": str(tmp_path / "data"),
        "QA_RATE_LIMIT_PER_MINUTE": "0",
        "QA_CALIBRATION_FILE": summary["calibration"]["file"],
    }
    cmd = [sys.executable, "-m", "qa_service.cli", "serve", "--index-dir", summary["index"]]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, url)
        args = ["benchmark", "banking77", *TINY, "--holdout-every", "4", "--data", str(DATA)]
        assert main([*args, "--off-topic", "--out", str(tiny_run), "--url", url]) == 0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    printed = capsys.readouterr().out
    assert "held-out: " in printed and "off-topic: " in printed and "escalated" in printed
    over_http = json.loads((tiny_run / "metrics.json").read_text("utf-8"))
    assert over_http["meta"]["target"] == url
    assert abs(over_http["overall"]["top1"] - summary["metrics"]["top1"]) <= 0.01
    assert over_http["overall"]["n"] == summary["metrics"]["n"]


def test_url_serving_another_index_is_refused(
    tiny_run: Path, index_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    port = free_port()
    env = {**os.environ, "QA_DATA_DIR": str(tmp_path / "data")}
    cmd = [sys.executable, "-m", "qa_service.cli", "serve", "--index-dir", str(index_dir)]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port), "--log-level", "warning"], cwd=ROOT, env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, url)
        args = ["benchmark", "banking77", *TINY, "--holdout-every", "4", "--data", str(DATA)]
        assert main([*args, "--out", str(tmp_path / "b"), "--url", url]) == 2
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "does not serve this benchmark's index" in capsys.readouterr().err


def wait_ready(proc: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert proc.poll() is None, "server exited"
        assert time.monotonic() < deadline, "server did not become ready"
        time.sleep(0.2)
