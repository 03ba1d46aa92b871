"""This serving process among its replicas: it follows the build published in the index
directory, and reports what it serves to the shared store.

Publishing a build is one atomic rename of the index directory's ``current`` link
(``qa-service index``). Every process (each worker of each replica) checks that link every
``QA_RELOAD_POLL_SECONDS``; when it names a new build, the process loads it beside the live
one, warms it and swaps (``QAService.load``), so none serves a half-loaded index. A build that
fails to load is refused once and reported; the old one keeps serving.

Polling one small file was chosen over PostgreSQL's LISTEN/NOTIFY: it works the same for
the workers of one host on SQLite as for replicas on PostgreSQL, and it needs nothing but
the index directory the replicas already share. Each check also writes the process's row in
the ``replicas`` table, which ``/admin/reload`` and ``/admin/replicas`` read.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .index import IndexError_, read_manifest
from .storage import ReplicaStatus, Storage, now_iso

if TYPE_CHECKING:
    from .config import Settings
    from .metrics import Metrics
    from .service import QAService

log = logging.getLogger("qa_service.replica")
# A replica that has not reported for this long is gone (at least 10 s, or three checks).
MIN_FRESH_S = 10.0
# Rows of replicas gone for this long are deleted when another one stops.
FORGET_AFTER_S = 3600.0


def _same(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


class Replica:
    def __init__(
        self,
        service: QAService,
        storage: Storage | None,
        settings: Settings,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.service = service
        self.storage = storage
        self.metrics = metrics
        self.clock = clock
        self.index_dir = Path(settings.index_dir)
        self.poll_seconds = settings.reload_poll_seconds
        self.host = socket.gethostname()
        self.id = settings.replica_name or f"{self.host}-{os.getpid()}"
        self.started_at = now_iso()
        # The build this process failed to load, and why: not retried until another is
        # published, and reported to the others.
        self.refused: str | None = None
        self.error: str | None = service.load_error
        if service.load_error:
            self.refused = self.published()
        self._lock = threading.Lock()  # one reload at a time, whatever asked for it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # What is published and what is served ---------------------------------------------

    def published(self) -> str | None:
        manifest = read_manifest(self.index_dir)
        return manifest.get("build_id") if manifest else None

    def serving(self) -> str | None:
        return (self.service.manifest or {}).get("build_id")

    @property
    def fresh_within(self) -> float:
        return max(MIN_FRESH_S, 3 * self.poll_seconds)

    def status(self) -> ReplicaStatus:
        return ReplicaStatus(
            id=self.id,
            host=self.host,
            pid=os.getpid(),
            started_at=self.started_at,
            seen_at=self.clock(),
            build_id=self.serving(),
            published=self.published(),
            error=self.error,
        )

    def report(self) -> None:
        """Write this process's row; a database that is away only delays it."""
        if self.storage is None:
            return
        try:
            self.storage.report_replica(self.status())
        except Exception as exc:  # the next check tries again
            log.debug("replica report failed: %s", exc)

    # Reloading -------------------------------------------------------------------------

    def reload(self) -> dict:
        """Load the published build beside the live one and swap; IndexError_ if refused."""
        with self._lock:
            before = self.serving()
            published = self.published()
            try:
                manifest = self.service.load(self.index_dir)
            except IndexError_ as exc:
                self.refused, self.error = published, str(exc)
                self._count("refused")
                log.warning("index reload refused, still serving %s: %s", before, exc)
                self.report()
                raise
            self.refused, self.error = None, None
            self._count("ok")
            after = manifest.get("build_id")
            log.info("index reloaded: %s -> %s", before, after, extra={"build_id": after})
            self.report()
            return {"previous_build_id": before, "build_id": after, "changed": before != after}

    def follow(self) -> bool:
        """One check: load the published build if it is new here. True when it swapped."""
        published = self.published()
        # An index served from memory (a corpus variant) is not this directory's to replace.
        source = self.service.source
        following = source is None and self.service.index is None
        following = following or (source is not None and _same(source, self.index_dir))
        if following and published and published not in (self.serving(), self.refused):
            log.info("build %s published in %s: loading it", published, self.index_dir)
            with contextlib.suppress(IndexError_):  # logged and reported by reload()
                self.reload()
                return True
            return False
        self.report()
        return False

    def _count(self, result: str) -> None:
        if self.metrics is not None:
            self.metrics.reloads.labels(result).inc()

    # The others ------------------------------------------------------------------------

    def peers(self) -> list[ReplicaStatus]:
        """Every process that reported lately, this one included."""
        if self.storage is None:
            return [self.status()]
        rows = self.storage.replicas(self.clock() - self.fresh_within)
        if not any(r.id == self.id for r in rows):
            rows.append(self.status())
        return sorted(rows, key=lambda r: r.id)

    def wait_for(self, build_id: str | None, timeout: float) -> tuple[list[ReplicaStatus], bool]:
        """Wait until every replica serves ``build_id`` or has refused it, up to ``timeout``
        seconds. Returns the replicas as last seen, and whether all of them serve it."""
        deadline = self.clock() + timeout
        while True:
            peers = self.peers()
            serving = all(p.build_id == build_id for p in peers)
            settled = all(
                p.build_id == build_id or (p.published == build_id and p.error) for p in peers
            )
            if settled or self.clock() >= deadline:
                return peers, serving
            time.sleep(min(0.25, max(0.0, deadline - self.clock())))

    # The background check ----------------------------------------------------------------

    def start(self) -> None:
        self.report()
        if self.poll_seconds <= 0 or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="qa-replica", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.follow()
            except Exception:  # never let the check die: the next one may succeed
                log.exception("index check failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self.storage is not None:
            with contextlib.suppress(Exception):
                self.storage.forget_replica(self.id, older_than=self.clock() - FORGET_AFTER_S)
