"""A real ``qa-service serve`` process on a free local port, for tests that need real HTTP,
real signals and a real process to kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from qa_service.bench.server import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LiveServer:
    proc: subprocess.Popen
    url: str
    port: int
    log_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def logs(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=kwargs.pop("timeout", 30), **kwargs)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode


def start_server(
    tmp_path: Path,
    index_dir: Path,
    env: dict[str, str] | None = None,
    *,
    wait: str = "/healthz",
    timeout: float = 60,
    port: int | None = None,
    args: tuple[str, ...] = (),
) -> LiveServer:
    """Start the server and wait until ``wait`` answers (any status below 500)."""
    port = port or free_port()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    full_env |= {
        "QA_DATA_DIR": str(tmp_path / "data"),
        "QA_RATE_LIMIT_PER_MINUTE": "0",
        "QA_THREADS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    full_env |= env or {}
    log_path = tmp_path / f"server-{port}.log"
    cmd = [sys.executable, "-m", "qa_service.cli", "serve", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--index-dir", str(index_dir), *args]
    log = log_path.open("wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    server = LiveServer(proc, f"http://127.0.0.1:{port}", port, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{server.logs()}")
        try:
            if httpx.get(server.url + wait, timeout=2).status_code < 500:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop(signal.SIGKILL)
    raise RuntimeError(f"server not up after {timeout}s:\n{server.logs()}")


def build_index_cli(index_dir: Path, *extra: str, env: dict[str, str] | None = None) -> None:
    """``qa-service index`` as an operator runs it, into ``index_dir``."""
    cmd = [sys.executable, "-m", "qa_service.cli", "index", "--corpus", str(ROOT / "corpus")]
    cmd += ["--index-dir", str(index_dir), *extra]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")} | (env or {})
    subprocess.run(cmd, cwd=ROOT, env=full_env, check=True, capture_output=True, timeout=300)
