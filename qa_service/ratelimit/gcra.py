"""GCRA, the generic cell rate algorithm: a token bucket kept as one number per client.

Each client has a "theoretical arrival time" (TAT). A request at ``now`` passes when
``max(TAT, now) - now <= burst``, and then moves TAT on by ``interval``; otherwise it waits
until that holds. One number per client makes the step a single atomic write in SQL or Redis.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("qa_service.ratelimit")


@dataclass(frozen=True)
class Limit:
    per_minute: int

    @property
    def interval(self) -> float:
        """Seconds one request costs."""
        return 60.0 / self.per_minute

    @property
    def burst(self) -> float:
        """How far ahead of now TAT may run: ``per_minute`` requests back to back."""
        return (self.per_minute - 1) * self.interval

    def wait(self, allowed: bool, tat: float, now: float) -> float:
        """Seconds until the next request would pass, 0 when this one did."""
        return 0.0 if allowed else max(1e-3, tat - now - self.burst)


class RateLimiter(ABC):
    """``acquire(key)``: 0 when the request may pass, else the seconds until it would."""

    name = "limiter"
    # A limiter that talks to a server is called from a worker thread, not the event loop.
    blocking = False
    errors = 0  # failed steps, each let through (``qa_rate_limit_errors_total``)

    def __init__(self, limit: Limit, clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self.clock = clock
        self._last_warning = 0.0

    @abstractmethod
    def step(self, key: str, now: float) -> tuple[bool, float]:
        """One GCRA step: (passed, TAT after the step)."""

    def acquire(self, key: str) -> float:
        now = self.clock()
        try:
            allowed, tat = self.step(key, now)
        except Exception as exc:  # the counter is down: let customers through, and say so
            self.errors += 1
            if now - self._last_warning > 60:
                self._last_warning = now
                log.warning("rate limit %s failed, letting requests through: %s", self.name, exc)
            return 0.0
        return self.limit.wait(allowed, tat, now)

    def close(self) -> None:  # noqa: B027 - most limiters hold nothing
        """Release connections."""


class MemoryLimiter(RateLimiter):
    """One process's own count: exact with one worker, per worker with several."""

    name = "memory"

    def __init__(
        self, limit: Limit, clock: Callable[[], float] = time.time, max_keys: int = 100_000
    ) -> None:
        super().__init__(limit, clock)
        self.max_keys = max_keys
        self._tat: dict[str, float] = {}

    def step(self, key: str, now: float) -> tuple[bool, float]:
        late = max(self._tat.get(key, now), now)
        allowed = late - now <= self.limit.burst
        tat = late + self.limit.interval if allowed else self._tat[key]
        self._tat[key] = tat
        if len(self._tat) > self.max_keys:
            self._prune(now)
        return allowed, tat

    def _prune(self, now: float) -> None:
        # A TAT in the past is a full bucket, the same as none: drop those first, then the
        # oldest, so a flood of addresses cannot grow memory without bound.
        live = {k: t for k, t in self._tat.items() if t > now}
        if len(live) > self.max_keys // 2:
            live = dict(sorted(live.items(), key=lambda kv: kv[1])[-(self.max_keys // 2) :])
        self._tat = live
