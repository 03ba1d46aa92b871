"""Durable query log, feedback and conversations, behind one interface (``Storage``)."""

from __future__ import annotations

import re
from pathlib import Path

from ..config import Settings
from .base import (
    CUSTOMER_CHANNELS,
    DB_FILENAME,
    MIGRATIONS,
    REVIEW_BELOW,
    SCHEMA_VERSION,
    SOURCES,
    VERDICTS,
    FeedbackRecord,
    QueryRecord,
    ReplicaStatus,
    ReviewItem,
    Storage,
    StorageError,
    StorageUnavailable,
    faq_id_of,
    now_iso,
)
from .sqlite import SQLiteStorage

_SQLITE_URL = re.compile(r"^sqlite:///(?P<path>.+)$")

__all__ = [
    "CUSTOMER_CHANNELS",
    "DB_FILENAME",
    "MIGRATIONS",
    "REVIEW_BELOW",
    "SCHEMA_VERSION",
    "SOURCES",
    "VERDICTS",
    "FeedbackRecord",
    "QueryRecord",
    "ReplicaStatus",
    "ReviewItem",
    "SQLiteStorage",
    "Storage",
    "StorageError",
    "StorageUnavailable",
    "faq_id_of",
    "now_iso",
    "open_storage",
]


def open_storage(settings: Settings) -> Storage:
    """The storage the settings name: ``QA_DATABASE_URL`` if set, else SQLite in QA_DATA_DIR."""
    url = (settings.database_url or "").strip()
    if not url:
        return SQLiteStorage(Path(settings.data_dir) / DB_FILENAME)
    m = _SQLITE_URL.match(url)
    if m:
        return SQLiteStorage(Path(m.group("path")))
    scheme = url.split(":", 1)[0].lower()
    if scheme in ("postgres", "postgresql"):
        from .postgres import PostgresStorage

        return PostgresStorage(url)
    raise StorageError(
        f"QA_DATABASE_URL has the unsupported scheme {scheme!r}; use sqlite:///PATH or unset it"
    )
