#!/usr/bin/env python3
"""Soak a running server with real and hostile requests: same as `qa-service soak`.

Example: python scripts/soak.py --url http://127.0.0.1:8000 --duration 600 --concurrency 32
"""

import sys

from qa_service.cli import main

if __name__ == "__main__":
    sys.exit(main(["soak", *sys.argv[1:]]))
