"""Settings, read from QA_* environment variables, an optional `.env` file or a TOML file.

A TOML file named by QA_CONFIG_FILE (or `qa-service.toml` in the working directory) may hold
the same keys in lower case; environment variables win over it.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_EMBEDDER = "use-multilingual"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="QA_", env_file=".env", extra="ignore", toml_file="qa-service.toml"
    )

    # Paths
    corpus: Path = Path("corpus")
    index_dir: Path = Path("index")
    data_dir: Path = Path("data")
    calibration_file: Path | None = Field(
        default=None,
        description="Calibrated thresholds (JSON). Default: the file packaged with qa_service.",
    )

    # Model
    embedder: str = DEFAULT_EMBEDDER
    # Encoder (BLAS) threads. One measured far faster than two on a busy 2-core host, alone
    # and in batches; requests and workers supply the parallelism (docs/performance.md).
    threads: int = Field(default=1, ge=1, le=64)

    # Decision; None means "take it from the calibration file".
    answer_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    ambiguity_margin: float | None = Field(default=None, ge=0.0, le=1.0)

    # Escalation
    escalation_url: str = "https://support.example/contact"  # a placeholder: set it
    # The escalation link carries its handoff's id in this query parameter, so the support
    # page (or the agent who opens it) can load the conversation: GET /v1/handoffs/{id}.
    handoff_param: str = "handoff"
    # Each handoff's record is also POSTed here, retried on failure (qa_service.handoffs);
    # the secret signs the body (X-QA-Signature: sha256=...).
    handoff_webhook_url: str | None = None
    handoff_webhook_secret: str | None = None
    handoff_webhook_attempts: int = Field(default=5, ge=1, le=20)
    handoff_webhook_backoff_seconds: float = Field(default=1.0, ge=0.0, le=300.0)  # doubles

    # HTTP
    host: str = "127.0.0.1"
    port: int = 8000
    # A JSON list or a comma-separated string: QA_CORS_ORIGINS=https://a.example,https://b.example
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = 16_384
    rate_limit_per_minute: int = 120
    # Where the count lives (qa_service.ratelimit): "auto" is Redis when QA_REDIS_URL is set,
    # else the database, so every worker and replica sharing it shares the limit.
    rate_limit_store: Literal["auto", "memory", "store", "redis"] = "auto"
    redis_url: str | None = None
    agent_token: str | None = None
    admin_token: str | None = None
    database_url: str | None = None
    log_queries: bool = True

    # Replicas (qa_service.replica): each process follows the build published in index_dir
    # (its `current` link), checking this often; 0 turns it off (reload by hand only).
    reload_poll_seconds: float = Field(default=2.0, ge=0.0, le=3600.0)
    # On SIGTERM, /readyz turns 503 and the server goes on answering this long (or until no
    # connection is open) before it stops; at least the balancer's check interval x fall.
    drain_seconds: float = Field(default=3.0, ge=0.0, le=300.0)
    # This process's name in GET /admin/replicas; default host name and process id.
    replica_name: str | None = None

    # Performance levers, measured by `qa-service bench` (docs/performance.md)
    answer_cache_size: int = Field(default=1024, ge=0, description="0 turns the cache off")
    micro_batching: bool = True
    batch_max_size: int = Field(default=64, ge=1, le=1024)
    batch_max_wait_ms: float = Field(default=0.0, ge=0.0, le=50.0)
    search_threads: int = Field(default=1, ge=1, le=64, description="FAISS threads a query")
    # How long a thread may hold the GIL while another waits (Python's default: 5 ms).
    switch_interval_ms: float = Field(default=0.5, gt=0.0, le=100.0)
    # A query alone in the process is answered on the event loop, not handed to a thread
    # (qa_service.api.routes.query); off only to measure what it is worth.
    inline_lone_queries: bool = True

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, v: object) -> object:
        if isinstance(v, str):
            v = v.strip()
            if v.startswith("["):
                return json.loads(v)
            return [o.strip() for o in v.split(",") if o.strip()]
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = os.environ.get("QA_CONFIG_FILE", "qa-service.toml")
        toml = TomlConfigSettingsSource(settings_cls, toml_file=toml_path)
        return init_settings, env_settings, dotenv_settings, toml, file_secret_settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
