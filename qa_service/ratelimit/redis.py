"""The rate limit in Redis (``QA_REDIS_URL=redis://host:6379/0``): one Lua script per request,
atomic on the server, with the server's clock, so hosts whose clocks differ agree."""

from __future__ import annotations

import time
from collections.abc import Callable

from .gcra import Limit, RateLimiter

KEY_PREFIX = "qa-service:rate:"
# KEYS[1] the client; ARGV interval, burst. Returns {allowed (0/1), TAT as a string}.
GCRA_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
local late = math.max(tat, now)
if late - now > burst then
  return {0, tostring(tat), tostring(now)}
end
local new = late + interval
redis.call('SET', KEYS[1], tostring(new), 'PX', math.ceil((new - now) * 1000) + 1000)
return {1, tostring(new), tostring(now)}
"""


class RedisLimiter(RateLimiter):
    name = "redis"
    blocking = True

    def __init__(self, limit: Limit, url: str, clock: Callable[[], float] = time.time) -> None:
        super().__init__(limit, clock)
        try:
            import redis
        except ImportError as exc:
            raise ValueError(
                "QA_REDIS_URL is set, but the redis client is not installed: "
                "pip install 'qa-service[redis]'"
            ) from exc
        self.url = url
        self._client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._script = self._client.register_script(GCRA_SCRIPT)

    def step(self, key: str, now: float) -> tuple[bool, float]:
        allowed, tat, server_now = self._script(
            keys=[KEY_PREFIX + key], args=[self.limit.interval, self.limit.burst]
        )
        # The wait is reckoned on the server's clock: shift TAT onto ours.
        return bool(int(allowed)), float(tat) - float(server_now) + now

    def close(self) -> None:
        self._client.close()
