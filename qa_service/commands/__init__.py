"""Subcommands of the ``qa-service`` CLI, one module each."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..config import Settings


def friendly_error(exc: Exception) -> str | None:
    """The one-line message for errors a user can fix; None for bugs (show the traceback)."""
    from ..corpus import CorpusError
    from ..embedders import EmbedderUnavailable
    from ..index import IndexError_

    if isinstance(exc, CorpusError):
        return str(exc)
    if isinstance(exc, (EmbedderUnavailable, IndexError_, FileNotFoundError, ValueError)):
        return str(exc)
    return None


def add_common(p: argparse.ArgumentParser, corpus: bool = False, index: bool = True) -> None:
    if corpus:
        p.add_argument("--corpus", type=Path, help="corpus directory or file (QA_CORPUS)")
    if index:
        p.add_argument("--index-dir", type=Path, help="index directory (QA_INDEX_DIR)")
    p.add_argument("--embedder", help="embedder spec (QA_EMBEDDER), e.g. use-multilingual")


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings with command-line flags taking precedence over QA_* variables."""
    overrides = {}
    for key in ("corpus", "index_dir", "embedder", "calibration_file", "escalation_url", "host"):
        value = getattr(args, key, None)
        if value is not None:
            overrides[key] = value
    return Settings(**overrides)


def export_env(settings: Settings) -> None:
    """Pass settings on to server worker processes, which read them from the environment."""
    for key in ("corpus", "index_dir", "embedder", "calibration_file", "escalation_url", "host"):
        value = getattr(settings, key)
        if value is not None:
            os.environ[f"QA_{key.upper()}"] = str(value)


def progress_bar(desc: str):
    """A tqdm-backed ``progress(done, total)`` callback; silent when not on a terminal."""
    from tqdm import tqdm

    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=desc, unit="text", disable=None, leave=False)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return update
