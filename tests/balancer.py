"""A real HAProxy in front of test replicas: Debian's ``haproxy``, in the foreground, on a
free loopback port, health-checking ``/readyz`` as ``deploy/haproxy.cfg`` does. Missing
locally, the tests that need it skip with one line; in CI they must not."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

# The deployment's settings, with faster checks, and one change: X-Forwarded-For is kept
# when the client sends one (``if-none``), so one test machine can play many customers.
CONFIG = """
global
  maxconn 2048

defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response response-timeout
  option forwardfor if-none

frontend qa
  bind 127.0.0.1:{port}
  default_backend replicas

backend replicas
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 250ms fall 1 rise 2
{servers}
"""


class Balancer:
    def __init__(self, backend_ports: list[int]) -> None:
        binary = shutil.which("haproxy") or (
            "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
        )
        if not binary:
            raise FileNotFoundError("haproxy not found (apt-get install haproxy)")
        self.root = Path(tempfile.mkdtemp(prefix="qa-haproxy-"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        servers = "\n".join(
            f"  server qa{i} 127.0.0.1:{p} check" for i, p in enumerate(backend_ports, 1)
        )
        cfg = self.root / "haproxy.cfg"
        cfg.write_text(CONFIG.format(port=self.port, servers=servers), "utf-8")
        check = subprocess.run([binary, "-c", "-q", "-f", str(cfg)], capture_output=True)
        if check.returncode != 0:
            raise RuntimeError(f"haproxy refused its config: {check.stderr.decode()}")
        self.log = self.root / "log"
        self.proc = subprocess.Popen(
            [binary, "-db", "-f", str(cfg)],
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"haproxy did not listen: {self.log.read_text()[-500:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.root, ignore_errors=True)
