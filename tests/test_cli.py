"""The CLI as a user runs it: real processes, a real server on a free port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .conftest import CORPUS, ROOT

CLI = [sys.executable, "-m", "qa_service.cli"]


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.slow
def test_index_then_skip_then_ask(tmp_path: Path) -> None:
    idx = str(tmp_path / "idx")
    first = _run("index", "--corpus", str(CORPUS), "--index-dir", idx)
    assert first.returncode == 0, first.stderr
    assert "indexed" in first.stderr and "18 passages" in first.stderr
    second = _run("index", "--corpus", str(CORPUS), "--index-dir", idx)
    assert second.returncode == 0 and "up to date" in second.stderr
    ask = _run("ask", "忘记密码了怎么办?", "--index-dir", idx, "--json")
    assert ask.returncode == 0, ask.stderr
    body = json.loads(ask.stdout)
    assert body["answer"]["faq_id"] == "password-reset"
    plain = _run("ask", "忘记密码了怎么办?", "--index-dir", idx)
    assert "忘记密码怎么办?" in plain.stdout and "password-reset#1" in plain.stdout


@pytest.mark.slow
def test_errors_are_one_line_not_tracebacks(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "q"}\n', encoding="utf-8")
    r = _run("index", "--corpus", str(bad), "--index-dir", str(tmp_path / "i"))
    assert r.returncode == 2 and "bad.jsonl:1: empty answer" in r.stderr
    assert "Traceback" not in r.stderr
    r = _run("ask", "hi", "--index-dir", str(tmp_path / "missing"))
    assert r.returncode == 2 and "no index" in r.stderr and "Traceback" not in r.stderr
    r = _run("index", "--embedder", "nope", "--index-dir", str(tmp_path / "i"))
    assert r.returncode == 2 and "unknown embedder" in r.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_over_http(index_dir: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [*CLI, "serve", "--index-dir", str(index_dir), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        started = time.monotonic()
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.monotonic() - started < 30, "server not ready in 30 s"
            time.sleep(0.1)
        r = httpx.post(f"http://127.0.0.1:{port}/v1/query", json={"question": "忘记密码了怎么办?"})
        assert r.status_code == 200 and r.json()["answer"]["faq_id"] == "password-reset"
    finally:
        proc.terminate()
        proc.wait(timeout=15)
