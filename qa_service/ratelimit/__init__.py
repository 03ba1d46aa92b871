"""The per-client rate limit, behind one interface, in the place the deployment shares.

- ``memory``: one process's own count (``QA_RATE_LIMIT_STORE=memory``).
- ``store``: the database (``QA_DATABASE_URL``): SQLite shares it between the workers of one
  host, PostgreSQL between every replica. The default.
- ``redis``: a Redis server, shared by everything that reaches it (``QA_REDIS_URL``).

Every backend runs the same GCRA step (``gcra``): ``per_minute`` requests a minute, bursts
up to the same. A backend that fails lets the request through and says so in the log and
in ``/metrics``: a broken counter must not lock customers out of support.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .gcra import Limit, MemoryLimiter, RateLimiter

if TYPE_CHECKING:
    from ..config import Settings
    from ..storage import Storage

STORES = ("auto", "memory", "store", "redis")

__all__ = ["STORES", "Limit", "MemoryLimiter", "RateLimiter", "open_limiter"]


def open_limiter(settings: Settings, storage: Storage | None) -> RateLimiter | None:
    """The limiter the settings name, or None when the limit is off."""
    if settings.rate_limit_per_minute <= 0:
        return None
    limit = Limit(settings.rate_limit_per_minute)
    store = settings.rate_limit_store
    if store == "auto":
        store = "redis" if settings.redis_url else ("store" if storage is not None else "memory")
    if store == "redis":
        from .redis import RedisLimiter

        if not settings.redis_url:
            raise ValueError("QA_RATE_LIMIT_STORE=redis needs QA_REDIS_URL")
        return RedisLimiter(limit, settings.redis_url)
    if store == "store":
        from .store import StoreLimiter

        if storage is None:
            raise ValueError("QA_RATE_LIMIT_STORE=store needs a database")
        return StoreLimiter(limit, storage)
    return MemoryLimiter(limit)
