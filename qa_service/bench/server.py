"""A real ``qa-service serve`` process for the HTTP measurements."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .stats import child_pids, process_memory


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    proc: subprocess.Popen
    url: str
    workers: int
    log_path: Path

    def worker_pids(self) -> list[int]:
        """The processes that answer requests: uvicorn's workers, or the server itself."""
        return child_pids(self.proc.pid) if self.workers > 1 else [self.proc.pid]

    def memory(self) -> dict:
        workers = [process_memory(pid) for pid in self.worker_pids()]
        out: dict = {"workers": workers}
        if self.workers > 1:
            out["supervisor"] = process_memory(self.proc.pid)
        return out

    def post(self, question: str) -> dict:
        body = json.dumps({"question": question, "channel": "eval"}).encode()
        req = urllib.request.Request(
            self.url + "/v1/query", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def serve(
    index_dir: Path,
    log_dir: Path,
    env: dict[str, str] | None = None,
    workers: int = 1,
    uvicorn_args: tuple[str, ...] = (),
    timeout: float = 180.0,
) -> Iterator[Server]:
    """Run ``qa-service serve`` with ``QA_*`` overrides in ``env``; stop it on exit.

    With ``uvicorn_args`` it runs plain uvicorn on the same app factory instead, to
    measure server options that ``serve`` does not expose.
    """
    port = free_port()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    full_env |= {
        "QA_INDEX_DIR": str(index_dir),
        "QA_DATA_DIR": str(log_dir / "data"),
        # A load generator is one client hammering the API; per-client limits would cap it.
        "QA_RATE_LIMIT_PER_MINUTE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    full_env |= env or {}
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"server-{port}.log"
    if uvicorn_args:
        cmd = [sys.executable, "-m", "uvicorn", "qa_service.api.main:create_app", "--factory"]
        cmd += ["--no-access-log", *uvicorn_args]
    else:
        cmd = [sys.executable, "-m", "qa_service.cli", "serve"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    cmd += ["--log-level", "warning"]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(proc, f"http://127.0.0.1:{port}", workers, log_path)
    try:
        deadline = time.monotonic() + timeout
        while not _ready(server.url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"server did not become ready (exit {proc.poll()}):\n"
                    + log_path.read_text("utf-8", errors="replace")[-3000:]
                )
            time.sleep(0.2)
        # Every worker loads its own model and index; wait until all of them have.
        while len(server.worker_pids()) < workers and time.monotonic() < deadline:
            time.sleep(0.2)
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
