"""Latency summaries and facts about the machine and processes, read from /proc."""

from __future__ import annotations

import os
import platform
import resource
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def summarize(seconds: Sequence[float]) -> dict[str, float]:
    """p50 / p99 / mean in milliseconds of a list of durations in seconds."""
    if not seconds:
        raise ValueError("no samples to summarise")
    ms = np.asarray(seconds, dtype=np.float64) * 1000.0
    return {
        "n": int(ms.size),
        "p50_ms": round(float(np.percentile(ms, 50)), 4),
        "p99_ms": round(float(np.percentile(ms, 99)), 4),
        "mean_ms": round(float(ms.mean()), 4),
    }


def load_average() -> float:
    """The 1-minute load average: how busy the shared machine was during a measurement."""
    return round(os.getloadavg()[0], 2)


def machine() -> dict[str, object]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return {
        "cpu": model or platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def self_peak_rss_mb() -> float:
    """Peak resident set of this process so far (Linux reports ru_maxrss in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def process_memory(pid: int) -> dict[str, float]:
    """Resident, peak-resident and proportional (shared pages split) memory of a process, MB.

    PSS is the fair figure for several workers mapping the same files: RSS counts every
    shared page in full in each of them.
    """
    out = {"rss_mb": 0.0, "peak_rss_mb": 0.0, "pss_mb": 0.0}
    keys = {"VmRSS:": "rss_mb", "VmHWM:": "peak_rss_mb"}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name = line.split(maxsplit=1)[0] if line else ""
            if name in keys:
                out[keys[name]] = round(int(line.split()[1]) / 1024, 1)
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                out["pss_mb"] = round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        pass
    return out


def child_pids(pid: int) -> list[int]:
    """Direct children of a process (uvicorn's worker processes under its supervisor)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return sorted(kids)
