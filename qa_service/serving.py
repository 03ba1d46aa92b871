"""Worker processes that each listen on the port themselves (``SO_REUSEPORT``).

uvicorn's ``--workers`` shares one listening socket, and whichever worker wakes first takes
the next connection: under a burst of keep-alive connections one worker often holds most of
them (32 of 32, or 29 and 3, measured with ``wrk -c32``) while the other idles, and
throughput falls to one worker's. With a socket of its own in each worker, the kernel spreads
connections over them by address hash (docs/performance.md).
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

import uvicorn

log = logging.getLogger("qa_service.serving")

RESTART_PAUSE = 1.0  # seconds between restarts of a worker that keeps dying

# Set once this process has been asked to stop: /readyz answers 503 from then on, so a load
# balancer takes the replica out before it closes its connections.
DRAINING = threading.Event()


class DrainingServer(uvicorn.Server):
    """uvicorn, but SIGTERM first drains: /readyz turns 503 and the server goes on answering
    for up to ``drain_seconds``, or until no connection is open, and only then shuts down.

    Without it a balancer can send a request down a kept-alive connection in the instant the
    replica closes it, and the client sees "Server disconnected" (a POST is not retried).
    A second signal, or SIGINT (Ctrl-C), stops at once."""

    def __init__(self, config: uvicorn.Config, drain_seconds: float) -> None:
        super().__init__(config)
        self.drain_seconds = drain_seconds

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig != signal.SIGTERM or DRAINING.is_set() or self.drain_seconds <= 0:
            super().handle_exit(sig, frame)
            return
        DRAINING.set()
        threading.Thread(target=self._drain, args=(sig, frame), daemon=True).start()

    def _drain(self, sig: int, frame: FrameType | None) -> None:
        # Logged from this thread: a signal handler runs in whatever request's context the
        # main thread was in, and its log line would carry that request's id.
        log.info("draining: /readyz is 503; stopping within %.1f s", self.drain_seconds)
        deadline = time.monotonic() + self.drain_seconds
        while time.monotonic() < deadline and self.server_state.connections:
            time.sleep(0.05)
        super().handle_exit(sig, frame)


def run_server(config: dict[str, Any], drain_seconds: float, sockets: list | None = None) -> None:
    DrainingServer(uvicorn.Config(**config), drain_seconds).run(sockets=sockets)


def _listen(host: str, port: int, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def can_share_port() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def check_port_free(host: str, port: int) -> None:
    """Fail at once, and clearly, when something already listens there: with SO_REUSEPORT
    a stale server of the same user would otherwise silently share the port."""
    try:
        _listen(host, port, reuse_port=False).close()
    except OSError as exc:
        raise SystemExit(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def _worker(config: dict[str, Any], drain_seconds: float) -> None:
    sock = _listen(config["host"], config["port"], reuse_port=True)
    sock.listen(2048)
    run_server(config, drain_seconds, sockets=[sock])


def run_workers(config: dict[str, Any], workers: int, drain_seconds: float = 0.0) -> None:
    """Run ``workers`` uvicorn servers with ``config`` (``uvicorn.Config`` keywords), each on
    its own socket; restart one that dies; stop them all on SIGINT or SIGTERM (each drains
    first, as ``DrainingServer`` says)."""
    check_port_free(config["host"], config["port"])
    ctx = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> BaseProcess:
        proc = ctx.Process(target=_worker, args=(config, drain_seconds), name="qa-service-worker")
        proc.start()
        return proc

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    procs = [start() for _ in range(workers)]
    log.info("started %d workers: %s", workers, [p.pid for p in procs])
    while not stopping:
        time.sleep(0.2)
        for i, proc in enumerate(procs):
            if not proc.is_alive() and not stopping:
                log.warning("worker %s exited with %s; starting another", proc.pid, proc.exitcode)
                time.sleep(RESTART_PAUSE)
                procs[i] = start()
    for proc in procs:
        if proc.is_alive() and proc.pid is not None:
            proc.terminate()  # SIGTERM: uvicorn finishes the requests in flight
    grace = float(config.get("timeout_graceful_shutdown") or 10)
    deadline = time.monotonic() + drain_seconds + grace + 5
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join()
