"""Command line: ``qa-service index | serve | ask | calibrate | eval | ...``.

Each command lives in ``qa_service/commands/<name>.py`` with ``register(subparsers)``; a
command's heavy imports happen only when it runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ["index", "check", "serve", "ask", "calibrate"]
OPTIONAL_COMMANDS = [
    "eval",
    "ablate",
    "simulate",
    "dialogue",
    "benchmark",
    "bench",
    "feedback",
    "gaps",
    "tune",
    "soak",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa-service", description="FAQ answering service with escalation to humans."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS + OPTIONAL_COMMANDS:
        try:
            module = importlib.import_module(f"qa_service.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"qa_service.commands.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one clear line instead of a traceback for expected failures
        from .commands import friendly_error

        msg = friendly_error(exc)
        if msg is None:
            raise
        print(f"qa-service {args.command}: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
