"""Run labelled questions through the service, in-process or over HTTP.

Both paths turn the API's JSON answer into the same ``EvalRecord``, so a figure measured
in-process is the figure a client of the running service would see.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

from ..labelled import LabelledQuestion
from .metrics import EvalRecord

# The API's largest top_k: enough distinct entries for recall@5 and MRR@10 on a small FAQ.
TOP_K = 20
CHANNEL = "eval"


class EvalError(RuntimeError):
    """The service could not be asked (unreachable, or it refused a question)."""


class Client(Protocol):
    target: str

    def ask(self, question: str) -> tuple[dict, float]:
        """The API's JSON answer and the call's wall-clock latency in milliseconds."""
        ...


class InProcessClient:
    """Asks a loaded ``QAService`` directly: the facade behind the API."""

    def __init__(self, service, target: str = "in-process"):
        self.service = service
        self.target = target

    def ask(self, question: str) -> tuple[dict, float]:
        started = time.perf_counter()
        answer = self.service.ask(question, top_k=TOP_K, channel=CHANNEL)
        return answer.to_dict(), (time.perf_counter() - started) * 1000


class HttpClient:
    """Asks a running service with ``POST /v1/query``; waits politely when rate-limited."""

    def __init__(self, url: str, timeout: float = 30.0, max_wait_s: float = 120.0):
        import httpx

        self.target = url.rstrip("/")
        self.max_wait_s = max_wait_s
        self._http = httpx.Client(base_url=self.target, timeout=timeout)
        self._errors = (httpx.HTTPError,)

    def ask(self, question: str) -> tuple[dict, float]:
        body = {"question": question, "top_k": TOP_K, "channel": CHANNEL}
        waited = 0.0
        while True:
            started = time.perf_counter()
            try:
                resp = self._http.post("/v1/query", json=body)
            except self._errors as exc:
                raise EvalError(f"cannot reach {self.target}/v1/query: {exc}") from exc
            latency = (time.perf_counter() - started) * 1000
            if resp.status_code != 429 or waited >= self.max_wait_s:
                break
            # Rate-limited: wait as told, so the latency measured is the service's own.
            pause = min(float(resp.headers.get("retry-after") or 1), self.max_wait_s - waited)
            time.sleep(max(pause, 0.1))
            waited += max(pause, 0.1)
        if resp.status_code != 200:
            try:
                detail = resp.json().get("error", resp.text)
            except ValueError:
                detail = resp.text
            raise EvalError(
                f"{self.target}/v1/query answered {resp.status_code} for {question[:60]!r}: "
                f"{str(detail)[:300]}"
            )
        return resp.json(), latency

    def readiness(self) -> dict | None:
        """The manifest ``GET /readyz`` reports, or None when no index is loaded."""
        try:
            resp = self._http.get("/readyz")
        except self._errors as exc:
            raise EvalError(f"cannot reach {self.target}/readyz: {exc}") from exc
        if resp.status_code != 200:
            return None
        return resp.json().get("manifest") or {}

    def close(self) -> None:
        self._http.close()


def thresholds_of(calibration) -> dict:
    """The decision thresholds of a ``Calibration``, for reports and plots."""
    return {
        "answer_threshold": calibration.answer_threshold,
        "ambiguity_margin": calibration.ambiguity_margin,
        "min_top": calibration.min_top,
    }


def to_record(q: LabelledQuestion, answer: dict, latency_ms: float) -> EvalRecord:
    escalation = answer.get("escalation") or {}
    return EvalRecord(
        question=q.question,
        expected=list(q.expected),
        escalate_expected=q.escalate,
        hits=[
            {"id": p["id"], "faq_id": p["faq_id"], "score": float(p["score"])}
            for p in answer.get("passages", [])
        ],
        confidence=float(answer.get("confidence", 0.0)),
        # Small talk is replied to, not answered from the FAQ: for the figures it is not an
        # answer, so a labelled "escalate" greeting is right and never a wrong answer.
        escalated=bool(answer.get("escalate")) or answer.get("reply") is not None,
        reason=escalation.get("reason") or (answer.get("reply") or {}).get("kind"),
        latency_ms=latency_ms,
        lang=q.lang,
        tags=list(q.tags),
        line=q.line,
    )


def evaluate(
    client: Client,
    questions: Sequence[LabelledQuestion],
    progress: Callable[[int, int], None] | None = None,
) -> list[EvalRecord]:
    """One record per question, in the order given."""
    records = []
    for i, q in enumerate(questions, start=1):
        answer, latency_ms = client.ask(q.question)
        records.append(to_record(q, answer, latency_ms))
        if progress:
            progress(i, len(questions))
    return records
