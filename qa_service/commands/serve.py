"""qa-service serve: run the HTTP API."""

from __future__ import annotations

import argparse

from . import add_common, export_env, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the HTTP API")
    add_common(p)
    p.add_argument("--host", default=None, help="bind address (QA_HOST, default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (QA_PORT, default 8000)")
    p.add_argument("--workers", type=int, default=1, help="worker processes")
    p.add_argument("--log-level", default="info")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from ..logging import log_config
    from ..serving import can_share_port, run_server, run_workers

    s = settings_from(args)
    export_env(s)
    host = args.host or s.host
    port = args.port or s.port
    config = dict(
        app="qa_service.api.main:create_app",
        factory=True,
        host=host,
        port=port,
        log_level=args.log_level,
        log_config=log_config(args.log_level),
        access_log=False,  # the app logs each request itself, as JSON with PII masked
        timeout_graceful_shutdown=10,
    )
    if args.workers > 1 and can_share_port():
        # Each worker listens itself, so the kernel spreads connections evenly.
        run_workers(config, args.workers, s.drain_seconds)
    elif args.workers > 1:
        uvicorn.run(workers=args.workers, **config)
    else:
        run_server(config, s.drain_seconds)
    return 0
