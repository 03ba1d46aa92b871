"""Messages no support FAQ answers, packaged with qa-service (``data/off_topic.txt``).

The index build asks them of each corpus (they must escalate) and measures with them how
close unrelated messages come to each entry (``index.density_offsets``). The BANKING77
benchmark keeps its own off-topic test messages apart (``evaluation/data``)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def off_topic_messages() -> tuple[str, ...]:
    text = resources.files("qa_service").joinpath("data/off_topic.txt").read_text("utf-8")
    lines = (t.strip() for t in text.splitlines())
    return tuple(t for t in lines if t and not t.startswith("#"))
