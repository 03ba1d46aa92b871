"""Handoffs: an escalation as a helpdesk or an agent takes it over.

The handoff is the escalating turn (its query id is ``escalation.handoff_id``, also in the
escalation link). Its record is machine-readable: ``action: "handoff"`` to switch on, why it
was handed over, a one-line summary, the masked transcript of the conversation up to that
turn, the entries suggested and the confidence, so the person never asks the customer to
repeat. ``GET /v1/handoffs/{id}`` returns it; with ``QA_HANDOFF_WEBHOOK_URL`` set, each
handoff is also POSTed there (``HandoffWebhook``).

The webhook delivers at least once: a lost answer is retried, so a receiver dedupes on
``handoff_id`` (also the ``X-QA-Handoff-Id`` header). With ``QA_HANDOFF_WEBHOOK_SECRET`` the
body is signed, ``X-QA-Signature: sha256=<hex HMAC of the body>``, as GitHub signs its hooks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import urllib.error
import urllib.request
from collections.abc import Callable

from .storage import QueryRecord, Storage

log = logging.getLogger("qa_service.handoffs")
SUMMARY_CHARS = 120


def _turn(q: QueryRecord) -> dict:
    return {
        "query_id": q.id,
        "at": q.created_at,
        "question": q.question,
        "understood_as": q.understood_as,
        "answered_with": q.answer_id,
        "escalated": q.escalate,
        "reason": q.reason,
        "reply_kind": q.reply_kind,
        "confidence": q.confidence,
    }


def handoff_record(turn: QueryRecord, transcript: list[QueryRecord]) -> dict:
    question = turn.understood_as or turn.question
    summary = f"{turn.reason or 'escalated'}: {question}"
    if len(summary) > SUMMARY_CHARS:
        summary = summary[: SUMMARY_CHARS - 1] + "…"
    return {
        "handoff_id": turn.id,
        "action": "handoff",  # a field to switch on, not a phrase to match
        "reason": turn.reason,
        "summary": summary,
        "created_at": turn.created_at,
        "channel": turn.channel,
        "language": turn.language,
        "conversation_id": turn.conversation_id,
        "confidence": turn.confidence,
        "suggested": turn.results,
        "transcript": [_turn(t) for t in transcript],
    }


def load_handoff(storage: Storage, handoff_id: str) -> dict | None:
    """The handoff's record from the query log, or None when no escalation has that id."""
    turn = storage.get_query(handoff_id)
    if turn is None or not turn.escalate:
        return None
    transcript = [turn]
    if turn.conversation_id:
        turns = storage.conversation(turn.conversation_id)
        upto = next((i for i, t in enumerate(turns) if t.id == turn.id), len(turns) - 1)
        transcript = turns[: upto + 1] or [turn]
    return handoff_record(turn, transcript)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class HandoffWebhook:
    """POSTs each handoff's record to a helpdesk, from a background thread, with retries.

    A delivery is retried on a network error, a timeout, 429 and 5xx, after 1, 2, 4, ... s
    (``backoff``), up to ``attempts`` tries; another 4xx is the receiver refusing the record,
    and is not retried. Nothing waits on it: the customer's answer is already sent. Outcomes
    are counted (``on_outcome``: "delivered", "retried", "failed")."""

    def __init__(
        self,
        url: str,
        storage: Storage,
        *,
        secret: str | None = None,
        attempts: int = 5,
        backoff: float = 1.0,
        timeout: float = 5.0,
        on_outcome: Callable[[str], None] | None = None,
    ) -> None:
        self.url = url
        self.storage = storage
        self.secret = secret
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.timeout = timeout
        self.on_outcome = on_outcome or (lambda _outcome: None)
        self._queue: queue.Queue[str | None] = queue.Queue(maxsize=10_000)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="handoff-webhook", daemon=True)
        self._thread.start()

    def submit(self, handoff_id: str) -> None:
        try:
            self._queue.put_nowait(handoff_id)
        except queue.Full:
            log.error("handoff webhook queue full; %s not sent", handoff_id)
            self.on_outcome("failed")

    def close(self, timeout: float = 10.0) -> None:
        """Send what is queued (within ``timeout``), then stop."""
        self._queue.put(None)
        self._thread.join(timeout)
        self._stop.set()

    def _run(self) -> None:
        while True:
            handoff_id = self._queue.get()
            if handoff_id is None:
                return
            try:
                self._deliver(handoff_id)
            except Exception:  # the thread must outlive any one handoff
                log.exception("handoff webhook failed for %s", handoff_id)
                self.on_outcome("failed")

    def _deliver(self, handoff_id: str) -> None:
        record = load_handoff(self.storage, handoff_id)
        if record is None:
            log.error("handoff %s is not in the query log; not sent", handoff_id)
            self.on_outcome("failed")
            return
        body = json.dumps(record, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", "X-QA-Handoff-Id": handoff_id}
        if self.secret:
            headers["X-QA-Signature"] = signature(self.secret, body)
        for attempt in range(1, self.attempts + 1):
            error = self._post(body, headers)
            if error is None:
                self.on_outcome("delivered")
                return
            retry = error != "refused" and attempt < self.attempts
            log.warning("handoff %s: webhook attempt %d: %s", handoff_id, attempt, error)
            if not retry:
                break
            self.on_outcome("retried")
            if self._stop.wait(self.backoff * 2 ** (attempt - 1)):
                break
        self.on_outcome("failed")

    def _post(self, body: bytes, headers: dict[str, str]) -> str | None:
        """None when delivered; else what went wrong ("refused": a 4xx not worth a retry)."""
        req = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                resp.read()
            return None
        except urllib.error.HTTPError as exc:
            if 400 <= exc.code < 500 and exc.code not in (408, 429):
                return "refused"
            return f"HTTP {exc.code}"
        except (OSError, TimeoutError) as exc:
            return f"{type(exc).__name__}: {exc}"
