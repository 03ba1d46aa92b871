"""Publishing index builds in tests without re-embedding the corpus."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path


def publish_copy(live_dir: Path, source: Path) -> str:
    """Publish a copy of a finished build as a new one, the way ``qa-service index`` does
    (new directory, then an atomic symlink swap). Returns the new build id."""
    new_id = f"{source.name}-copy-{time.time_ns()}"
    target = live_dir / "builds" / new_id
    shutil.copytree(source, target)
    manifest = json.loads((target / "manifest.json").read_text("utf-8"))
    manifest["build_id"] = new_id
    (target / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    tmp_link = live_dir / f".current-test-{new_id}"
    tmp_link.symlink_to(Path("builds") / new_id)
    os.replace(tmp_link, live_dir / "current")
    return new_id
