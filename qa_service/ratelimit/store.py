"""The rate limit in the service's database: one upsert per request (``Storage.take_token``).
SQLite shares the count between the workers of one host; PostgreSQL between replicas."""

from __future__ import annotations

import time
from collections.abc import Callable

from ..storage import SQLiteStorage, Storage
from .gcra import Limit, RateLimiter


class StoreLimiter(RateLimiter):
    name = "store"

    def __init__(
        self, limit: Limit, storage: Storage, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(limit, clock)
        self.storage = storage
        # SQLite answers from a local file in microseconds; a database server is a round trip.
        self.blocking = not isinstance(storage, SQLiteStorage)

    def step(self, key: str, now: float) -> tuple[bool, float]:
        return self.storage.take_token(key, self.limit.interval, self.limit.burst, now)
