"""HTTP load: ``wrk`` when installed (C, barely touches the CPU), else ``loadgen``.

Both run outside this process and send the same question mix as POST /v1/query bodies.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .stats import load_average

# wrk reports through this Lua ``done`` hook as one JSON line (latencies in microseconds).
_WRK_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "errors": %d, "non_2xx": %d, '
    .. '"p50_us": %d, "p99_us": %d, "mean_us": %.1f}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout + e.status,
    e.status, latency:percentile(50), latency:percentile(99), latency.mean))
end
"""


def wrk_done() -> str:
    """The Lua ``done`` hook that prints wrk's figures for ``parse_wrk``."""
    return _WRK_DONE


_WRK_LINE = re.compile(r"^WRK_RESULT (\{.*\})$", re.MULTILINE)


def wrk_script(questions: list[str]) -> str:
    """Lua for wrk: POST bodies cycling through the questions (JSON kept ASCII-escaped)."""

    def lua_str(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    bodies = ",\n  ".join(lua_str(json.dumps({"question": q})) for q in questions)
    return (
        f"local bodies = {{\n  {bodies}\n}}\n"
        "local headers = {['Content-Type'] = 'application/json'}\n"
        "local n = math.random(#bodies)\n"
        "request = function()\n"
        "  n = n % #bodies + 1\n"
        "  return wrk.format('POST', '/v1/query', headers, bodies[n])\n"
        "end\n" + _WRK_DONE
    )


def parse_wrk(output: str) -> dict:
    m = _WRK_LINE.search(output)
    if not m:
        raise RuntimeError(f"no result in wrk output:\n{output[-2000:]}")
    r = json.loads(m.group(1))
    seconds = r["duration_us"] / 1e6
    return {
        "requests": r["requests"],
        "errors": r["errors"],
        "non_2xx": r["non_2xx"],
        "duration_s": round(seconds, 3),
        "rps": round(r["requests"] / seconds, 1) if seconds else 0.0,
        "p50_ms": round(r["p50_us"] / 1000, 3),
        "p99_ms": round(r["p99_us"] / 1000, 3),
        "mean_ms": round(r["mean_us"] / 1000, 3),
    }


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def run_load(
    url: str,
    questions: list[str],
    concurrency: int,
    duration: float,
    workdir: Path,
    tool: str = "auto",
) -> dict:
    """Closed-loop load for ``duration`` seconds; figures plus the tool and the load average."""
    if tool not in ("auto", "wrk", "loadgen"):
        raise ValueError(f"unknown load tool {tool!r}")
    if tool == "wrk" and not have_wrk():
        raise RuntimeError("wrk is not installed (apt-get install wrk), use --load-tool loadgen")
    use_wrk = tool == "wrk" or (tool == "auto" and have_wrk())
    workdir.mkdir(parents=True, exist_ok=True)
    secs = max(1, round(duration))
    if use_wrk:
        script = workdir / "post.lua"
        script.write_text(wrk_script(questions), "utf-8")
        cmd = ["wrk", "-t1", f"-c{concurrency}", f"-d{secs}s", "--timeout", "10s"]
        cmd += ["-s", str(script), f"{url}/v1/query"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 60)
        result = parse_wrk(done.stdout + done.stderr)
    else:
        qfile = workdir / "questions.json"
        qfile.write_text(json.dumps(questions, ensure_ascii=False), "utf-8")
        cmd = [sys.executable, "-m", "qa_service.bench.loadgen", "--url", f"{url}/v1/query"]
        cmd += ["--questions", str(qfile), "--concurrency", str(concurrency)]
        cmd += ["--duration", str(secs)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 120, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "tool": "wrk" if use_wrk else "loadgen",
        "concurrency": concurrency,
        **result,
        "load_avg_1m": load_average(),
    }
