"""Structured logs: one JSON object a line, tagged with the request id, PII masked.

The request id lives in a context variable set by the request middleware, so every line
logged while serving a request (in the event loop or in a worker thread) carries it.
"""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from typing import Any

import orjson

from .pii import mask_pii

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Attributes every LogRecord has; anything else came in through ``extra=`` and is logged too.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's ANSI-coloured duplicate of msg
}


def _clean(value: Any) -> Any:
    """Masked, JSON-safe form of a logged value (lone surrogates would break the encoder)."""
    if isinstance(value, str):
        return mask_pii(value.encode("utf-8", "replace").decode("utf-8"))
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return _clean(str(value))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = f"{record.msg!r} {record.args!r}"
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": message,
        }
        rid = getattr(record, "request_id", None) or request_id_var.get()
        if rid:
            out["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in out and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(_clean(out)).decode("utf-8")


def log_config(level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dict for the server (uvicorn's ``log_config``)."""
    lvl = level.upper()
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"default": handler},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": lvl, "propagate": False},
            "uvicorn.error": {"level": lvl},
            # Our own access log masks the path; uvicorn's would log raw query strings.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "qa_service": {"handlers": ["default"], "level": lvl, "propagate": False},
        },
        "root": {"handlers": ["default"], "level": "WARNING"},
    }
