#!/usr/bin/env python3
"""Run the performance harness: same as `qa-service bench` (see --help)."""

import sys

from qa_service.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
