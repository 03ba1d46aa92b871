"""`qa-service eval` end to end: in-process, over a real HTTP server, and the regression gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from qa_service.bench.server import free_port
from qa_service.cli import main
from qa_service.labelled import load_questions

from ..conftest import ROOT

QUESTIONS = ROOT / "tests" / "data" / "questions.jsonl"
BASELINE = ROOT / "tests" / "data" / "baseline_metrics.json"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def quiet_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # Anything the service stores goes to a scratch folder, not the work tree.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QA_DATA_DIR", str(tmp_path_factory.mktemp("eval-data")))
        yield


@pytest.fixture(scope="module")
def in_process(index_dir: Path, tmp_path_factory: pytest.TempPathFactory, quiet_env) -> Path:
    out = tmp_path_factory.mktemp("eval-in-process")
    args = ["eval", "--questions", str(QUESTIONS), "--index-dir", str(index_dir)]
    assert main([*args, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def server(index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "QA_DATA_DIR": str(tmp_path_factory.mktemp("server-data")),
        "QA_RATE_LIMIT_PER_MINUTE": "0",  # the evaluation sends 139 questions in a burst
    }
    cmd = [sys.executable, "-m", "qa_service.cli", "serve", "--index-dir", str(index_dir)]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_in_process_writes_metrics_report_and_plots(in_process: Path) -> None:
    metrics = json.loads((in_process / "metrics.json").read_text("utf-8"))
    overall = metrics["overall"]
    assert overall["n"] == 139 and overall["n_answerable"] + overall["n_should_escalate"] == 139
    for key in (
        "top1",
        "recall@1",
        "recall@3",
        "recall@5",
        "mrr@10",
        "decision_accuracy",
        "escalation_precision",
        "escalation_recall",
        "escalation_f1",
        "answered_precision",
        "coverage",
        "latency_p50_ms",
        "latency_p95_ms",
        "latency_p99_ms",
    ):
        assert isinstance(overall[key], float), key
        assert 0.0 <= overall[key] <= (1e6 if key.startswith("latency") else 1.0)
    assert overall["latency_p50_ms"] <= overall["latency_p95_ms"] <= overall["latency_p99_ms"]
    assert overall["recall@1"] <= overall["recall@3"] <= overall["recall@5"]
    assert set(metrics["by_lang"]) == {"zh", "en"}
    assert {"typo", "english", "oos-offtopic"} <= set(metrics["by_tag"])
    assert metrics["meta"]["target"] == "in-process"

    records = [
        json.loads(line) for line in (in_process / "records.jsonl").read_text("utf-8").splitlines()
    ]
    assert len(records) == 139
    report = (in_process / "report.md").read_text("utf-8")
    assert "## Overall" in report and "## By language" in report and "## By tag" in report
    failures = [r for r in records if r["outcome"] not in ("answered (right)", "escalated (right)")]
    assert f"## Failures ({len(failures)} of 139)" in report
    failure_rows = report.split("## Failures", 1)[1]
    for r in failures:  # every failure, with its question, expectation, result and score
        row = next(
            line for line in failure_rows.splitlines() if line.startswith(f"| {r['line']} |")
        )
        assert r["question"].replace("|", "\\|") in row
        assert (", ".join(r["expected"]) or "escalate") in row
        assert f"{r['top_score']:.3f}" in row and r["outcome"] in row

    for name in ("scores.png", "risk_coverage.png", "reliability.png"):
        data = (in_process / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 10_000, name
        assert f"]({name})" in report


def test_http_agrees_with_in_process_and_an_independent_count(
    in_process: Path, server: str, tmp_path: Path
) -> None:
    out = tmp_path / "http"
    assert main(["eval", "--questions", str(QUESTIONS), "--url", server, "--out", str(out)]) == 0
    over_http = json.loads((out / "metrics.json").read_text("utf-8"))
    local = json.loads((in_process / "metrics.json").read_text("utf-8"))
    assert over_http["meta"]["target"] == server
    assert abs(over_http["overall"]["top1"] - local["overall"]["top1"]) <= 0.01

    # Count hit@1 with plain HTTP calls, sharing no code with the evaluator.
    right = answerable = 0
    with httpx.Client(base_url=server, timeout=30) as http:
        for q in load_questions(QUESTIONS):
            if q.escalate:
                continue
            body = http.post("/v1/query", json={"question": q.question, "channel": "eval"}).json()
            answerable += 1
            entries = {e.split("#", 1)[0] for e in q.expected}
            right += bool(body["passages"]) and body["passages"][0]["faq_id"] in entries
    assert abs(right / answerable - local["overall"]["top1"]) <= 0.01


def test_dataset_errors_name_their_lines(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"question": "忘记密码", "expected": ["password-reset"], "escalate": false}\n'
        '{"question": "broken json"\n'
        '{"question": "提现", "expected": ["withdrawal-fees"], "escalate": "maybe"}\n'
        '{"question": "", "expected": ["x"]}\n',
        encoding="utf-8",
    )
    args = ["eval", "--questions", str(bad), "--index-dir", str(tmp_path), "--out", str(tmp_path)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2: malformed JSON" in err
    assert f"{bad}:3: 'escalate' must be true or false" in err
    assert f"{bad}:4: 'question' is missing or empty" in err
    assert "Traceback" not in err

    csv_file = tmp_path / "bad.csv"
    csv_file.write_text("question,expected\n忘记密码,password-reset\n", encoding="utf-8")
    args[2] = str(csv_file)
    assert main(args) == 2
    assert "missing column(s) escalate" in capsys.readouterr().err


def test_csv_questions(index_dir: Path, tmp_path: Path, quiet_env) -> None:
    questions = tmp_path / "q.csv"
    questions.write_text(
        "question,expected,escalate\n"
        "忘记密码了怎么办,password-reset,false\n"
        "提现要手续费吗,withdrawal-fees|contact-channels,false\n"
        "今天天气怎么样,,true\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    args = ["eval", "--questions", str(questions), "--index-dir", str(index_dir), "--no-plots"]
    assert main([*args, "--out", str(out), "--gate-metrics", "top1"]) == 0
    metrics = json.loads((out / "metrics.json").read_text("utf-8"))
    assert metrics["overall"]["n"] == 3 and metrics["overall"]["n_should_escalate"] == 1
    assert not list(out.glob("*.png"))
    assert main([*args, "--out", str(out), "--gate-metrics", "top1,top2"]) == 2


def test_unreachable_service_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["eval", "--questions", str(QUESTIONS), "--url", url, "--out", str(tmp_path)]) == 2
    assert f"cannot reach {url}" in capsys.readouterr().err


def test_gate_fails_on_an_injected_drop(
    in_process: Path, index_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    metrics = json.loads((in_process / "metrics.json").read_text("utf-8"))
    same = tmp_path / "same.json"
    same.write_text(json.dumps(metrics), "utf-8")
    better = json.loads(json.dumps(metrics))
    # A baseline 3 points better on two gated metrics: the current run dropped by 3 points.
    better["overall"]["top1"] = metrics["overall"]["top1"] + 0.03
    better["overall"]["decision_accuracy"] = metrics["overall"]["decision_accuracy"] + 0.03
    higher = tmp_path / "higher.json"
    higher.write_text(json.dumps(better), "utf-8")
    args = ["eval", "--questions", str(QUESTIONS), "--index-dir", str(index_dir), "--no-plots"]

    assert main([*args, "--out", str(tmp_path / "a"), "--baseline", str(same)]) == 0
    assert "no metric dropped" in capsys.readouterr().out

    code = main([*args, "--out", str(tmp_path / "b"), "--baseline", str(higher)])
    err = capsys.readouterr().err
    assert code == 1
    assert "regression: top1 dropped" in err and "(3.0 points)" in err
    assert "regression: decision_accuracy dropped" in err
    assert "2 metric(s) dropped by more than 1.0 points" in err

    missing = tmp_path / "nope.json"
    assert main([*args, "--out", str(tmp_path / "c"), "--baseline", str(missing)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_committed_baseline_gate(index_dir: Path, tmp_path: Path) -> None:
    """The CI regression gate, run as a user would with scripts/evaluate.py."""
    r = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "evaluate.py"),
            "--questions",
            str(QUESTIONS),
            "--index-dir",
            str(index_dir),
            "--out",
            str(tmp_path / "gate"),
            "--baseline",
            str(BASELINE),
            "--max-drop",
            "0.01",
            "--no-plots",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "QA_DATA_DIR": str(tmp_path / "data")},
        timeout=300,
    )
    assert r.returncode == 0, (
        f"{r.stderr}\nIf the change is intended, regenerate the baseline with `make baseline`."
    )
    assert "no metric dropped" in r.stdout
