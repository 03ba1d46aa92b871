"""LRU cache of retrieval results for repeated questions.

Support traffic repeats itself ("忘记密码怎么办" arrives all day). A question is keyed by its
normalised form, so spacing, full-width characters, traditional characters and case do not
make a miss. Only retrieval output is kept (passages, signals, dialogue act); the decision is made
afresh each time, so threshold changes apply at once, and every answer still gets its own
query_id and is logged. Keys carry the index build, and ``clear`` runs on every reload, so a
new index never serves an old result.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

# (passages, then anything immutable that came with them: the signals, the dialogue act)
Payload = tuple[list[dict], Any, Any]


class RetrievalCache:
    def __init__(self, max_size: int = 1024):
        if max_size < 0:
            raise ValueError("max_size must be 0 (off) or more")
        self.max_size = max_size
        self._items: OrderedDict[tuple, Payload] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, build: Hashable, norm_question: str, top_k: int) -> Payload | None:
        """Fresh copies of the cached passages, with the rest as stored; None on a miss."""
        if not self.max_size:
            return None
        key = (build, norm_question, top_k)
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
        passages, *rest = item
        # Copies: a caller may annotate or mask its answer without touching the cache.
        return ([dict(p) for p in passages], *rest)

    def put(self, build: Hashable, norm_question: str, top_k: int, item: Payload) -> None:
        if not self.max_size:
            return
        passages, *rest = item
        item = ([dict(p) for p in passages], *rest)
        with self._lock:
            self._items[(build, norm_question, top_k)] = item
            self._items.move_to_end((build, norm_question, top_k))
            while len(self._items) > self.max_size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
