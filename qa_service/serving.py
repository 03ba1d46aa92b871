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
import time
from multiprocessing.process import BaseProcess
from typing import Any

log = logging.getLogger("qa_service.serving")

RESTART_PAUSE = 1.0  # seconds between restarts of a worker that keeps dying


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


def _worker(config: dict[str, Any]) -> None:
    import uvicorn

    sock = _listen(config["host"], config["port"], reuse_port=True)
    sock.listen(2048)
    server = uvicorn.Server(uvicorn.Config(**config))
    server.run(sockets=[sock])


def run_workers(config: dict[str, Any], workers: int) -> None:
    """Run ``workers`` uvicorn servers with ``config`` (``uvicorn.Config`` keywords), each on
    its own socket; restart one that dies; stop them all on SIGINT or SIGTERM."""
    check_port_free(config["host"], config["port"])
    ctx = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> BaseProcess:
        proc = ctx.Process(target=_worker, args=(config,), name="qa-service-worker")
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
    deadline = time.monotonic() + float(config.get("timeout_graceful_shutdown") or 10) + 5
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join()
